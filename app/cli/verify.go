package cli

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/stockadehq/stockade/adapters/postgres"
	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/ports"
)

// Report formats of verify isolation.
const (
	formatText = "text"
	formatJSON = "json"
)

func newVerifyCmd(load func(*cobra.Command) (app.Config, error), info Info) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Check the deployment's security guarantees against the live database",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newVerifyIsolationCmd(load, info))
	return cmd
}

func newVerifyIsolationCmd(load func(*cobra.Command) (app.Config, error), info Info) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "isolation [--format text|json]",
		Short: "Check that row-level security keeps every shop's rows apart, and print a report",
		Long: `Connect to Postgres as the application role (STOCKADE_DATABASE_URL, the role
the server runs as) and check, without changing anything that outlives the
check:

  - every table with a shop_id column has ENABLE and FORCE ROW LEVEL
    SECURITY and the tenant policy on app.shop_id, and no other policy that
    applies to the role; no materialized view with shop_id is readable by
    it, no view with shop_id runs as an owner that bypasses the policies;
  - the role is not a superuser, has no BYPASSRLS or CREATEROLE, owns no
    table, function or schema, and is not, directly or through any chain of
    role memberships, a member of a table owner, a superuser, a BYPASSRLS
    role or a predefined role that reads or writes every table;
  - no SECURITY DEFINER function is owned by a superuser or a BYPASSRLS
    role, and each pins its search_path;
  - a cross-shop probe, in one transaction that is rolled back: two probe
    shops A and B each get a membership row; as B the role sees B's row, as
    A it sees no row of another shop in any table it can read, with no shop
    set it sees no shop's row, and as A it cannot insert a row for B,
    update or delete B's row, or move its own row to B.

Prints a report to keep (--format json for a machine-readable one) and
exits non-zero naming each failing table, role or function when a check
fails. SQLite has no row-level security to inspect (its wall is structural,
proven by the test suite): the command refuses it with one line.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if format != formatText && format != formatJSON {
				return fmt.Errorf("--format must be %s or %s: %w", formatText, formatJSON, ports.ErrInvalid)
			}
			cfg, err := load(c)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(c.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			rep, err := app.VerifyIsolation(ctx, cfg)
			if err != nil {
				return err
			}
			out := isolationOutput{
				Stockade:        info.Version,
				DatabaseURL:     app.RedactURL(cfg.DatabaseURL()),
				Passed:          rep.OK(),
				IsolationReport: rep,
			}
			if format == formatJSON {
				enc := json.NewEncoder(c.OutOrStdout())
				enc.SetIndent("", "  ")
				err = enc.Encode(out)
			} else {
				err = printIsolation(c.OutOrStdout(), out)
			}
			if err != nil {
				return err
			}
			return rep.Err()
		},
	}
	cmd.Flags().StringVar(&format, "format", formatText, `"text" or "json"`)
	return cmd
}

// isolationOutput is the report verify isolation prints: the adapter's
// report with what the command knows besides.
type isolationOutput struct {
	Stockade    string `json:"stockade_version"`
	DatabaseURL string `json:"database_url"` // redacted
	Passed      bool   `json:"ok"`
	postgres.IsolationReport
}

// printIsolation writes the text report.
func printIsolation(w io.Writer, o isolationOutput) error {
	bw := bufio.NewWriter(w)
	r := o.IsolationReport
	result := "PASS"
	if !o.Passed {
		result = fmt.Sprintf("FAIL (%d problem(s) in %s)", len(r.Problems), strings.Join(r.Failing(), ", "))
	}
	fmt.Fprintf(bw, "Stockade tenant isolation report\n\n")
	tw := tabwriter.NewWriter(bw, 0, 4, 2, ' ', 0)
	for _, kv := range [][2]string{
		{"Result:", result},
		{"Checked at:", r.CheckedAt.Format(time.RFC3339) + " (database clock)"},
		{"Stockade:", o.Stockade},
		{"Database:", fmt.Sprintf("%s (PostgreSQL %s)", o.DatabaseURL, r.ServerVersion)},
		{"Schema version:", fmt.Sprint(r.SchemaVersion)},
		{"Checked as role:", r.Role.Name},
	} {
		fmt.Fprintf(tw, "%s\t%s\n", kv[0], kv[1])
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintf(bw, "\nRole %s\n", r.Role.Name)
	fmt.Fprintf(bw, "  superuser %s, bypassrls %s, createrole %s\n", yesNo(r.Role.Superuser), yesNo(r.Role.BypassRLS), yesNo(r.Role.CreateRole))
	fmt.Fprintf(bw, "  owns: %s\n", listOr(r.Role.Owns, "nothing"))
	reach := make([]string, len(r.Role.Reaches))
	for i, rr := range r.Role.Reaches {
		reach[i] = fmt.Sprintf("%s (%s)", rr.Name, rr.Why)
	}
	fmt.Fprintf(bw, "  privileged roles within reach through membership: %s\n", listOr(reach, "none"))

	fmt.Fprintf(bw, "\nRelations with a shop_id column (%d)\n", len(r.Relations))
	tw = tabwriter.NewWriter(bw, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  RELATION\tKIND\tOWNER\tENABLE\tFORCE\tTENANT POLICY\tOTHER POLICIES\tREAD AS SHOP A")
	for _, rel := range r.Relations {
		enable, force, policy := "-", "-", "-"
		if rel.Kind == "table" {
			enable, force, policy = yesNo(rel.RLSEnabled), yesNo(rel.RLSForced), yesNo(rel.TenantPolicy)
			if rel.SharedRows {
				policy += " (and shop-less rows)"
			}
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", rel.Name, rel.Kind, rel.Owner, enable, force, policy, len(rel.OtherPolicies), rel.ProbeRead)
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintf(bw, "\nSECURITY DEFINER functions (%d)\n", len(r.DefinerFunctions))
	tw = tabwriter.NewWriter(bw, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  OWNER\tOWNER SUPERUSER\tOWNER BYPASSRLS\tSEARCH_PATH PINNED\tEXECUTABLE BY ROLE\tFUNCTION")
	for _, f := range r.DefinerFunctions {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", f.Owner, yesNo(f.Superuser), yesNo(f.BypassRLS), yesNo(f.PinnedPath), yesNo(f.Executable), f.Name)
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintf(bw, "\nCross-shop probe (one transaction, rolled back)\n")
	if r.Probe.Ran {
		fmt.Fprintf(bw, "  shop A %s, shop B %s\n", r.Probe.ShopA, r.Probe.ShopB)
	} else {
		fmt.Fprintf(bw, "  did not run: %s\n", r.Probe.Error)
	}
	for _, s := range r.Probe.Steps {
		status := "ok  "
		if !s.OK {
			status = "FAIL"
		}
		fmt.Fprintf(bw, "  %s  %s (%s)\n", status, s.Check, s.Detail)
	}

	fmt.Fprintf(bw, "\nProblems (%d)\n", len(r.Problems))
	if len(r.Problems) == 0 {
		fmt.Fprintln(bw, "  none")
	}
	for _, p := range r.Problems {
		fmt.Fprintf(bw, "  %s\n", p)
	}
	return bw.Flush()
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// listOr joins list with ", ", or returns none for an empty list.
func listOr(list []string, none string) string {
	if len(list) == 0 {
		return none
	}
	return strings.Join(list, ", ")
}
