// Package sqlstore is Stockade's store written once: the SQL of every
// repository of ports.ShopTx and ports.GlobalTx, over a small Dialect that
// says what differs between the databases (placeholders, how a time is
// stored, row-lock clauses, casts, how a driver error maps to a ports
// sentinel).
//
// The adapters (adapters/postgres, adapters/sqlite) keep only what truly
// differs: opening the database and checking its role, their migrations,
// beginning a shop-bound transaction (Postgres' tenant setting, SQLite's
// wall) and their fast paths (the one-message session resolve, the
// SECURITY DEFINER claims). Each builds a Shop or Global on the
// transaction it began and embeds it in its own unit of work, so the
// repositories' methods are promoted from here.
//
// Statements are written with ? placeholders; Dialect.Rebind turns them
// into the database's own. Every shop-bound statement binds the unit of
// work's shop and none accepts a shop from the caller: on Postgres
// row-level security is the second wall, on SQLite the key is the wall.
package sqlstore
