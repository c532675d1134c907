package app_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/note"

	"github.com/stockadehq/stockade/adapters/localfs"
	"github.com/stockadehq/stockade/adapters/localkms"
	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/export"
	"github.com/stockadehq/stockade/core/storage"
	"github.com/stockadehq/stockade/ports"
	"github.com/stockadehq/stockade/ports/porttest"
	"github.com/stockadehq/stockade/stockadetest"
)

type exKeys struct {
	signer    note.Signer
	verifiers note.Verifiers
}

func newExKeys(t testing.TB, name string) exKeys {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	require.NoError(t, err)
	s, err := note.NewSigner(skey)
	require.NoError(t, err)
	v, err := note.NewVerifier(vkey)
	require.NoError(t, err)
	return exKeys{s, note.VerifierList(v)}
}

// exWorld is two shops, A and B, with members, app rows and files (A's
// second half encrypted) on one store.
type exWorld struct {
	store    ports.Store
	files    *storage.Service
	exKeys   exKeys
	a, b     stockadetest.Shop
	notes    map[ports.ShopID][]string // app rows' bodies
	contents map[ports.ShopID][][]byte // file contents
	encrypt  bool
}

func exStores() map[string]func(testing.TB, ...stockadetest.Option) ports.Store {
	return map[string]func(testing.TB, ...stockadetest.Option) ports.Store{
		"sqlite":   func(t testing.TB, o ...stockadetest.Option) ports.Store { return stockadetest.SQLite(t, o...) },
		"postgres": func(t testing.TB, o ...stockadetest.Option) ports.Store { return stockadetest.Postgres(t, o...) },
	}
}

func newExWorld(t *testing.T, open func(testing.TB, ...stockadetest.Option) ports.Store) *exWorld {
	return newExWorldB(t, open)
}

func newExWorldB(t testing.TB, open func(testing.TB, ...stockadetest.Option) ports.Store) *exWorld {
	t.Helper()
	ctx := t.Context()
	st := open(t,
		stockadetest.WithAppMigrations("porttest", porttest.AppNotesMigrations(ports.DialectPostgres), porttest.AppNotesMigrations(ports.DialectSQLite)),
		stockadetest.WithAppTables(ports.TenantTable{Name: porttest.AppNotesTable}))
	objects, err := localfs.Open(t.TempDir(), localfs.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { objects.Close() })
	km, err := localkms.New(t.TempDir(), [][]byte{bytes.Repeat([]byte{7}, localkms.MinMasterKeyLen)})
	require.NoError(t, err)
	w := &exWorld{store: st, exKeys: newExKeys(t, "test-audit"), notes: map[ports.ShopID][]string{}, contents: map[ports.ShopID][][]byte{}}
	rules := storage.DefaultRules()
	rules["blob"] = storage.KindRule{MaxSize: 1 << 30, Any: true}
	w.files, err = storage.New(storage.Deps{Store: st, Objects: objects, Rules: rules, Keys: km, ContentKey: bytes.Repeat([]byte{3}, 32),
		EncryptShop: func(ports.ShopID) bool { return w.encrypt }})
	require.NoError(t, err)
	w.a, w.b = stockadetest.NewShop(t, st), stockadetest.NewShop(t, st)
	for _, sh := range []stockadetest.Shop{w.a, w.b} {
		stockadetest.AddMember(t, st, sh.ID, ports.RoleAdmin)
		err := st.InShop(ctx, sh.ID, func(ctx context.Context, tx ports.ShopTx) error {
			for i := range 3 {
				body := fmt.Sprintf("note %d of %s", i, sh.ID)
				q := "INSERT INTO porttest_notes (shop_id, id, body) VALUES (?, ?, ?)"
				if tx.SQL().Dialect() == ports.DialectPostgres {
					q = "INSERT INTO porttest_notes (shop_id, id, body) VALUES ($1, $2, $3)"
				}
				if _, err := tx.SQL().ExecContext(ctx, q, sh.ID.String(), ports.NewFileID().String(), body); err != nil {
					return err
				}
				w.notes[sh.ID] = append(w.notes[sh.ID], body)
			}
			return nil
		})
		require.NoError(t, err)
		octx := w.as(sh, sh.Owner, ports.RoleOwner)
		for i := range 4 {
			w.encrypt = i%2 == 1
			body := []byte(fmt.Sprintf("object %d of shop %s: %s", i, sh.ID, strings.Repeat("x", i*5000)))
			f, err := w.files.Upload(octx, storage.UploadInput{Kind: "blob", Name: fmt.Sprintf("f%d.bin", i), Size: int64(len(body)), Body: bytes.NewReader(body)})
			require.NoError(t, err)
			require.Equal(t, w.encrypt, f.Encrypted)
			w.contents[sh.ID] = append(w.contents[sh.ID], body)
		}
	}
	return w
}

func (w *exWorld) as(sh stockadetest.Shop, user ports.UserID, role ports.Role) context.Context {
	return access.With(context.Background(), access.Scope{Shop: sh.ID, Org: sh.Org, User: user, Role: role})
}

func exSysCtx(w *exWorld) context.Context {
	return access.System(context.Background(), w.a.ID, w.a.Org, "cli")
}

func (w *exWorld) exporter(t testing.TB) *export.Exporter {
	x, err := export.New(export.Deps{Store: w.store, Files: w.files, Signer: w.exKeys.signer, Verifiers: w.exKeys.verifiers})
	require.NoError(t, err)
	return x
}

// entries reads every entry of an archive.
func exEntries(t testing.TB, archive []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
	require.NoError(t, err)
	out := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		require.NoError(t, err)
		b, err := io.ReadAll(rc)
		require.NoError(t, err)
		rc.Close()
		out[f.Name] = b
	}
	return out
}

// rebuild writes an archive with change applied to its entries (a nil
// value drops one).
func exRebuild(t testing.TB, archive []byte, change func(m map[string][]byte)) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
	require.NoError(t, err)
	es := exEntries(t, archive)
	change(es)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	seen := map[string]bool{}
	write := func(name string) {
		b, ok := es[name]
		if !ok || b == nil || seen[name] {
			return
		}
		seen[name] = true
		e, err := zw.Create(name)
		require.NoError(t, err)
		_, err = e.Write(b)
		require.NoError(t, err)
	}
	for _, f := range zr.File {
		write(f.Name)
	}
	for name := range es {
		write(name)
	}
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

// reseal recomputes the manifest's part hashes, sizes and line counts
// from the entries and signs it again with signer.
func exReseal(t testing.TB, m map[string][]byte, shop ports.ShopID, signer note.Signer) {
	t.Helper()
	var man export.Manifest
	require.NoError(t, json.Unmarshal(m[export.ManifestName], &man))
	for i, p := range man.Parts {
		b := m[p.Name]
		sum := sha256.Sum256(b)
		p.SHA256, p.Bytes = hex.EncodeToString(sum[:]), int64(len(b))
		if p.Kind == export.KindRows || p.Kind == export.KindEvents {
			p.Rows = int64(bytes.Count(b, []byte("\n")))
		}
		if p.Kind == export.KindRows {
			man.Rows += p.Rows - man.Parts[i].Rows
		}
		man.Parts[i] = p
	}
	body, err := json.MarshalIndent(man, "", "  ")
	require.NoError(t, err)
	sum := sha256.Sum256(body)
	sig, err := note.Sign(&note.Note{Text: "stockade.export/" + shop.String() + "\n" + hex.EncodeToString(sum[:]) + "\n"}, signer)
	require.NoError(t, err)
	m[export.ManifestName], m[export.SignatureName] = body, sig
}

func exVerify(t testing.TB, archive []byte, v note.Verifiers) export.Report {
	t.Helper()
	rep, err := export.Verify(context.Background(), bytes.NewReader(archive), int64(len(archive)), v)
	require.NoError(t, err)
	return rep
}

// TestExportRoundTrip is acceptance 1 of issue 21: export shop A, verify
// offline, A's rows and objects all there by content, nothing of B, and
// tampering caught.
func TestExportRoundTrip(t *testing.T) {
	for name, open := range exStores() {
		t.Run(name, func(t *testing.T) {
			w := newExWorld(t, open)
			var buf bytes.Buffer
			m, err := w.exporter(t).Export(w.as(w.a, w.a.Owner, ports.RoleOwner), &buf, export.Options{})
			require.NoError(t, err)
			archive := buf.Bytes()

			rep := exVerify(t, archive, w.exKeys.verifiers)
			require.True(t, rep.OK(), "problems: %v", rep.Problems)
			require.Equal(t, m.Audit.Size, rep.Audit.Head)
			require.EqualValues(t, 4, m.Objects)

			es := exEntries(t, archive)
			notes := string(es["rows/"+porttest.AppNotesTable+".jsonl"])
			for _, body := range w.notes[w.a.ID] {
				require.Contains(t, notes, body, "A's app row is exported")
			}
			require.Equal(t, len(w.notes[w.a.ID]), strings.Count(notes, "\n"))
			var objects [][]byte
			for n, b := range es {
				if strings.HasPrefix(n, export.FilesDir) {
					objects = append(objects, b)
				}
			}
			for _, c := range w.contents[w.a.ID] {
				require.Contains(t, objects, c, "A's object is exported decrypted")
			}
			require.Len(t, objects, len(w.contents[w.a.ID]))
			// Stockade's own rows: A's members are there.
			var memberships string
			for n, b := range es {
				if strings.HasPrefix(n, export.RowsDir) && strings.Contains(n, "membership") {
					memberships += string(b)
				}
			}
			require.Contains(t, memberships, w.a.Owner.String())
			// Nothing of B, by content.
			bHex := strings.ReplaceAll(w.b.ID.String(), "-", "")
			for n, b := range es {
				require.NotContains(t, string(b), w.b.ID.String(), "%s holds B's ID", n)
				require.NotContains(t, strings.ToLower(string(b)), bHex, "%s holds B's ID", n)
				require.NotContains(t, string(b), w.b.Owner.String(), "%s holds B's owner", n)
				for _, body := range w.notes[w.b.ID] {
					require.NotContains(t, string(b), body, "%s holds B's app row", n)
				}
				for _, c := range w.contents[w.b.ID] {
					require.False(t, bytes.Contains(b, c), "%s holds B's object", n)
				}
			}

			other := newExKeys(t, "other")
			tampers := map[string]func(m map[string][]byte){
				"a row edited": func(m map[string][]byte) {
					k := "rows/" + porttest.AppNotesTable + ".jsonl"
					m[k] = bytes.Replace(m[k], []byte("note 1"), []byte("note 9"), 1)
				},
				"a row of B added": func(m map[string][]byte) {
					k := "rows/" + porttest.AppNotesTable + ".jsonl"
					m[k] = append(m[k], []byte(`{"shop_id":"`+w.b.ID.String()+`","id":"x","body":"b"}`+"\n")...)
				},
				"an object changed": func(m map[string][]byte) {
					for n := range m {
						if strings.HasPrefix(n, export.FilesDir) {
							m[n] = append(m[n], '!')
							return
						}
					}
				},
				"an object dropped": func(m map[string][]byte) {
					for n := range m {
						if strings.HasPrefix(n, export.FilesDir) {
							m[n] = nil
							return
						}
					}
				},
				"an entry added": func(m map[string][]byte) { m["files/extra"] = []byte("smuggled") },
				"manifest edited": func(m map[string][]byte) {
					m[export.ManifestName] = bytes.Replace(m[export.ManifestName], []byte(`"rows": `), []byte(`"rows": 1`), 1)
				},
				"manifest re-signed by another key": func(m map[string][]byte) {
					sig, err := note.Sign(&note.Note{Text: strings.SplitAfter(string(m[export.SignatureName]), "\n\n")[0][:len(strings.SplitAfter(string(m[export.SignatureName]), "\n\n")[0])-1]}, other.signer)
					require.NoError(t, err)
					m[export.SignatureName] = sig
				},
				"audit event edited": func(m map[string][]byte) {
					m[export.EventsName] = bytes.Replace(m[export.EventsName], []byte(`"outcome":"success"`), []byte(`"outcome":"failure"`), 1)
				},
			}
			// With the signing key itself (an insider re-sealing the
			// manifest), the content checks must still catch it.
			resealed := map[string]func(m map[string][]byte){
				"audit log truncated": func(m map[string][]byte) {
					lines := bytes.SplitAfter(m[export.EventsName], []byte("\n"))
					m[export.EventsName] = bytes.Join(lines[:len(lines)-2], nil)
				},
				"a row of B added":  tampers["a row of B added"],
				"an object changed": tampers["an object changed"],
			}
			for what, change := range resealed {
				t.Run("resealed/"+what, func(t *testing.T) {
					bad := exRebuild(t, archive, func(m map[string][]byte) {
						change(m)
						exReseal(t, m, w.a.ID, w.exKeys.signer)
					})
					rep := exVerify(t, bad, w.exKeys.verifiers)
					require.False(t, rep.OK(), "a resealed tampered archive (%s) verified", what)
					for _, p := range rep.Problems {
						require.NotContains(t, p, export.SignatureName, "the reseal itself is sound: %v", rep.Problems)
						require.NotContains(t, p, "the manifest says", "the reseal itself is sound: %v", rep.Problems)
					}
				})
			}
			for what, change := range tampers {
				t.Run(what, func(t *testing.T) {
					bad := exRebuild(t, archive, change)
					require.NotEqual(t, archive, bad)
					rep := exVerify(t, bad, w.exKeys.verifiers)
					require.False(t, rep.OK(), "a tampered archive (%s) verified", what)
				})
			}
			t.Run("the untampered rebuild verifies", func(t *testing.T) {
				rep := exVerify(t, exRebuild(t, archive, func(map[string][]byte) {}), w.exKeys.verifiers)
				require.True(t, rep.OK(), "problems: %v", rep.Problems)
			})
			t.Run("unknown key", func(t *testing.T) {
				require.False(t, exVerify(t, archive, other.verifiers).OK())
			})
		})
	}
}

// TestExportGuard: only an Owner, or the CLI's system scope with a reason.
func TestExportGuard(t *testing.T) {
	w := newExWorld(t, exStores()["sqlite"])
	x := w.exporter(t)
	admin := stockadetest.AddMember(t, w.store, w.a.ID, ports.RoleAdmin)
	_, err := x.Export(w.as(w.a, admin, ports.RoleAdmin), io.Discard, export.Options{})
	require.True(t, errors.Is(err, ports.ErrForbidden), "admin: %v", err)
	sys := access.System(context.Background(), w.a.ID, w.a.Org, "cli")
	_, err = x.Export(sys, io.Discard, export.Options{})
	require.True(t, errors.Is(err, ports.ErrInvalid), "operator without a reason: %v", err)
	var buf bytes.Buffer
	_, err = x.Export(sys, &buf, export.Options{Reason: "ticket 42"})
	require.NoError(t, err)
	require.True(t, exVerify(t, buf.Bytes(), w.exKeys.verifiers).OK())
	require.Contains(t, string(exEntries(t, buf.Bytes())[export.EventsName]), "ticket 42", "the reason is in the exported attempt")
}
