-- An audit append no longer locks its shop's row (issue 18).
--
-- Besides moving the chain head under its row lock, stockade_audit_append
-- (migration 00017) inserted the event under a foreign key to shops, whose
-- check locks the shop's row FOR KEY SHARE: one more row lock and WAL
-- record per append (10 → 9), and a multixact whenever another
-- transaction holds a key-share lock on the same shop (any insert into a
-- tenant table of that shop). The key adds nothing the chain does not
-- already hold: an event can only be inserted by stockade_audit_append
-- (the application role has no INSERT on audit_events), which inserts it
-- in the same statement that moves its shop's head, and the head row has
-- its own foreign key to shops, checked when it is created (a first
-- append to an unknown shop is still refused there) and kept by the
-- triggers that refuse to delete a head (so a shop with a log cannot be
-- deleted either). The head's lock, the triggers and the function are
-- unchanged.

-- +goose Up
ALTER TABLE audit_events DROP CONSTRAINT audit_events_shop_id_fkey;

-- +goose Down
ALTER TABLE audit_events ADD CONSTRAINT audit_events_shop_id_fkey FOREIGN KEY (shop_id) REFERENCES shops (id);
