package sqlstore

// Dialect is what differs between the SQL databases a store runs on. An
// adapter implements it once; the repositories here use nothing else that
// is database-specific.
type Dialect interface {
	// Name prefixes every error the store returns ("postgres", "sqlite").
	Name() string
	// Rebind turns a statement's ? placeholders into the database's own.
	// Statements never hold a ? inside a string literal.
	Rebind(query string) string
	// Args encodes arguments for the database. A time.Time is stored in
	// UTC at microsecond precision (ports.Timestamp): as timestamptz by
	// Postgres, as Unix microseconds by SQLite. Args may return args
	// itself, changed in place.
	Args(args []any) []any
	// MapErr turns a driver error into a ports sentinel, wrapped with the
	// dialect's name and op. It returns nil for nil.
	MapErr(op string, err error) error
	// Lock returns the row-lock clause (" FOR UPDATE", " FOR NO KEY
	// UPDATE", …) with a leading space where the database has row locks,
	// and "" where a writing transaction already holds the database's one
	// write lock (SQLite's BEGIN IMMEDIATE).
	Lock(clause string) string
	// Cast returns expr cast to the Postgres type pgType where the
	// database needs it spelled ("$4::jsonb"), and expr unchanged where
	// it does not.
	Cast(expr, pgType string) string
	// Bytewise returns the text expression expr compared byte for byte,
	// as an index built for such comparisons expects it: expr COLLATE "C"
	// on Postgres, expr unchanged on SQLite (whose default collation,
	// BINARY, already compares bytes).
	Bytewise(expr string) string
}
