// Package audit proves a shop's audit log (AUD-4): it walks the hash chain
// that the store builds at append time and names the first event that was
// edited, deleted, inserted or reordered, and it signs checkpoints of each
// chain's head so that a truncated tail, or a later checkpoint smaller than
// an earlier one, is caught too.
//
// # Chain
//
// Every event's Hash is SHA-256 over its canonical encoding, which ends
// with the previous event's Hash; the encoding is defined once, in
// ports.AuditHash. A third party can re-verify a log from an export:
// recompute each event's hash, check that it equals the stored one and
// that each event's PrevHash equals the Hash of the event before (the zero
// hash for the first hashed event), and that sequence numbers run 1, 2, 3, …
// without gaps.
//
// Events from before the chain (schema version 7) have no hash. They may
// only come first, as many as the store fixed once
// (ports.AuditRepo.Unhashed): the chain starts at the event after them,
// and Report.Unhashed counts them. An unhashed event after them, or where
// a trusted checkpoint signed a hash, is KindEdited (its hash was
// removed); a chain that starts among them, or a log that ends among them,
// is KindPrefixChanged. Checkpoints pin the prefix cryptographically too:
// the chain's first event hashes its own seq and links to the zero hash.
//
// # Checkpoints
//
// A checkpoint is a signed note (golang.org/x/mod/sumdb/note) whose text is
// three lines, in the shape of a transparency-log checkpoint:
//
//	stockade.audit/<shop ID>
//	<size: the head's seq, in decimal>
//	<the head's Hash, standard base64>
//
// followed by the note's blank line and signature lines, e.g. an Ed25519
// note key. Checkpoints are stored insert-only next to the log. Verify
// checks every checkpoint's signature and origin, requires each one to be
// no smaller than the ones added before it (a smaller one is a
// regression, reported as tampering), requires the chain's event at each
// checkpoint's size to have the signed hash, and reports a chain shorter
// than the largest checkpoint as a truncated tail.
//
// # Limits
//
// Whoever can write the tables directly and knows the (public) encoding can
// append well-formed events after the latest checkpoint, or rewrite
// history after it and re-hash everything that follows; only a signed
// checkpoint pins the chain up to its size. Deleting the newest events and
// every checkpoint that covers them is detected only against a checkpoint
// kept elsewhere: keep copies of signed checkpoints outside the database
// (the CLI prints them) and compare.
package audit
