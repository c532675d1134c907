package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/ports"
)

// The directory listings (shop list, user list, org list) are an
// operator's read-only view of the global directory, page by page in
// creation order. A page's cursor is the ID of the last row of the page
// before it; when more rows follow a page, the command says on stderr
// which --after continues, so that stdout holds the rows only.

// Output formats of the directory listings; jsonl is audit export's name
// for JSON Lines.
const (
	formatTable = "table"
	formatJSONL = "jsonl"
)

// directoryList describes one listing: T is the row, ID its cursor.
type directoryList[T any, ID interface {
	comparable
	String() string
}] struct {
	noun   string // "shop", "user" or "org": names the rows in help and errors
	plural string
	parse  func(string) (ID, error)
	list   func(ctx context.Context, tx ports.GlobalTx, after ID, limit int) ([]T, error)
	id     func(T) ID
	header []string
	cells  func(T) []string
	record func(T) any // the JSON object of a row
}

// command returns "<noun> list".
func (d directoryList[T, ID]) command(load func(*cobra.Command) (app.Config, error)) *cobra.Command {
	var limit int
	var after, format string
	cmd := &cobra.Command{
		Use:   "list [--limit N] [--after CURSOR] [--format table|jsonl]",
		Short: "List every " + d.noun + ", oldest first, a page at a time",
		Long: `List the ` + d.plural + ` of the whole installation, oldest first, at most --limit
per page. When more follow, stderr names the --after that continues
(the ID of the page's last ` + d.noun + `); stdout holds the rows only: an
aligned table, or with --format jsonl one JSON object per line.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if limit < 1 || limit > ports.MaxDirectoryPageSize {
				return fmt.Errorf("--limit must be 1 to %d: %w", ports.MaxDirectoryPageSize, ports.ErrInvalid)
			}
			if format != formatTable && format != formatJSONL {
				return fmt.Errorf("--format must be %s or %s: %w", formatTable, formatJSONL, ports.ErrInvalid)
			}
			var cursor ID
			if after != "" {
				var err error
				if cursor, err = d.parse(strings.TrimSpace(after)); err != nil {
					return fmt.Errorf("--after %q is not a cursor (the ID of a listed %s): %w", after, d.noun, err)
				}
			}
			return withAuditStore(c, load, func(ctx context.Context, _ app.Config, st ports.Store) error {
				rows, more, err := d.page(ctx, st, cursor, limit)
				if errors.Is(err, ports.ErrNotFound) && after != "" {
					return fmt.Errorf("--after %s: no %s has this ID: %w", cursor, d.noun, err)
				}
				if err != nil {
					return err
				}
				if err := d.print(c.OutOrStdout(), format, rows); err != nil {
					return err
				}
				if more {
					_, err = fmt.Fprintf(c.ErrOrStderr(), "more %s follow: %s --limit %d --after %s\n", d.plural, c.CommandPath(), limit, d.id(rows[len(rows)-1]))
				}
				return err
			})
		},
	}
	cmd.Flags().IntVar(&limit, "limit", ports.DefaultDirectoryPageSize, "at most this many "+d.plural+" (1 to "+strconv.Itoa(ports.MaxDirectoryPageSize)+")")
	cmd.Flags().StringVar(&after, "after", "", "continue after this "+d.noun+" (the cursor a previous page named)")
	cmd.Flags().StringVar(&format, "format", formatTable, `"table" or "jsonl"`)
	return cmd
}

// page reads up to limit rows after cursor in one read-only unit of work
// and reports whether more follow: a full page asks for one row beyond it.
func (d directoryList[T, ID]) page(ctx context.Context, st ports.Store, cursor ID, limit int) (rows []T, more bool, err error) {
	err = st.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		if rows, err = d.list(ctx, tx, cursor, limit); err != nil {
			return err
		}
		if len(rows) < limit {
			return nil
		}
		next, err := d.list(ctx, tx, d.id(rows[len(rows)-1]), 1)
		more = len(next) > 0
		return err
	}, ports.ReadOnly())
	return rows, more, err
}

// print writes rows to w as an aligned table under d.header, or as JSON
// Lines.
func (d directoryList[T, ID]) print(w io.Writer, format string, rows []T) error {
	if format == formatJSONL {
		enc := json.NewEncoder(w)
		for _, r := range rows {
			if err := enc.Encode(d.record(r)); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(d.header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(d.cells(r), "\t"))
	}
	return tw.Flush()
}

// listTime is a stored time as the tables print it.
func listTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func newShopListCmd(load func(*cobra.Command) (app.Config, error)) *cobra.Command {
	type record struct {
		ID        ports.ShopID     `json:"id"`
		Slug      string           `json:"slug"`
		Name      string           `json:"name"`
		Status    ports.ShopStatus `json:"status"`
		OrgID     ports.OrgID      `json:"org_id"`
		CreatedAt time.Time        `json:"created_at"`
	}
	return directoryList[ports.Shop, ports.ShopID]{
		noun: "shop", plural: "shops",
		parse: ports.ParseShopID,
		list: func(ctx context.Context, tx ports.GlobalTx, after ports.ShopID, limit int) ([]ports.Shop, error) {
			return tx.Shops().List(ctx, ports.ShopQuery{After: after, Limit: limit})
		},
		id:     func(s ports.Shop) ports.ShopID { return s.ID },
		header: []string{"SLUG", "NAME", "STATUS", "ORG", "CREATED"},
		cells: func(s ports.Shop) []string {
			return []string{s.Slug, s.Name, string(s.Status), s.OrgID.String(), listTime(s.CreatedAt)}
		},
		record: func(s ports.Shop) any {
			return record{ID: s.ID, Slug: s.Slug, Name: s.Name, Status: s.Status, OrgID: s.OrgID, CreatedAt: s.CreatedAt.UTC()}
		},
	}.command(load)
}

func newUserListCmd(load func(*cobra.Command) (app.Config, error)) *cobra.Command {
	type record struct {
		ID         ports.UserID `json:"id"`
		Email      string       `json:"email"`
		Name       string       `json:"name"`
		Verified   bool         `json:"verified"`
		VerifiedAt *time.Time   `json:"verified_at,omitempty"`
		CreatedAt  time.Time    `json:"created_at"`
	}
	return directoryList[ports.User, ports.UserID]{
		noun: "user", plural: "users",
		parse: ports.ParseUserID,
		list: func(ctx context.Context, tx ports.GlobalTx, after ports.UserID, limit int) ([]ports.User, error) {
			return tx.Users().List(ctx, ports.UserQuery{After: after, Limit: limit})
		},
		id:     func(u ports.User) ports.UserID { return u.ID },
		header: []string{"EMAIL", "NAME", "VERIFIED", "CREATED"},
		cells: func(u ports.User) []string {
			verified := "no"
			if !u.VerifiedAt.IsZero() {
				verified = listTime(u.VerifiedAt)
			}
			return []string{u.Email, u.Name, verified, listTime(u.CreatedAt)}
		},
		record: func(u ports.User) any {
			r := record{ID: u.ID, Email: u.Email, Name: u.Name, CreatedAt: u.CreatedAt.UTC()}
			if !u.VerifiedAt.IsZero() {
				at := u.VerifiedAt.UTC()
				r.Verified, r.VerifiedAt = true, &at
			}
			return r
		},
	}.command(load)
}

func newOrgListCmd(load func(*cobra.Command) (app.Config, error)) *cobra.Command {
	type record struct {
		ID        ports.OrgID `json:"id"`
		Name      string      `json:"name"`
		Shops     int         `json:"shops"`
		CreatedAt time.Time   `json:"created_at"`
	}
	return directoryList[ports.OrgListing, ports.OrgID]{
		noun: "org", plural: "orgs",
		parse: ports.ParseOrgID,
		list: func(ctx context.Context, tx ports.GlobalTx, after ports.OrgID, limit int) ([]ports.OrgListing, error) {
			return tx.Orgs().List(ctx, ports.OrgQuery{After: after, Limit: limit})
		},
		id:     func(o ports.OrgListing) ports.OrgID { return o.ID },
		header: []string{"ID", "NAME", "SHOPS", "CREATED"},
		cells: func(o ports.OrgListing) []string {
			return []string{o.ID.String(), o.Name, strconv.Itoa(o.Shops), listTime(o.CreatedAt)}
		},
		record: func(o ports.OrgListing) any {
			return record{ID: o.ID, Name: o.Name, Shops: o.Shops, CreatedAt: o.CreatedAt.UTC()}
		},
	}.command(load)
}
