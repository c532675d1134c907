package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/ports"
)

func newHousekeepingCmd(load func(*cobra.Command) (app.Config, error), apps []app.AppSchema) *cobra.Command {
	return &cobra.Command{
		Use:   "housekeeping",
		Short: "Run one housekeeping pass: delete expired credentials and links, sign audit checkpoints",
		Long: `One pass of what the server runs every STOCKADE_HOUSEKEEPING_INTERVAL (1 hour
by default): delete expired or idle sessions, expired magic links, idle
operator sessions and ended rate-limit counters; delete invitations and links
expired, and jobs done, for longer than STOCKADE_HOUSEKEEPING_GRACE (7 days;
dead jobs are kept) and outbox messages finished, and webhook event IDs
received, longer than STOCKADE_HOUSEKEEPING_MESSAGE_RETENTION (30 days) ago;
delete uploads left unfinished for longer than
STOCKADE_HOUSEKEEPING_UPLOAD_GRACE (24 hours): pending files with their
objects, objects signed uploads left in staging, and temporary files of
crashed writes; audit each shop's deletions; and, unless
STOCKADE_HOUSEKEEPING_NO_CHECKPOINTS is set, sign each shop's audit chain head
with the key in {data dir}/audit.key; then delete the shops cancelled longer
than STOCKADE_STRIPE_RETENTION_DAYS (60) ago, unless
STOCKADE_HOUSEKEEPING_NO_RETENTION is set (docs/retention.md), then queues the
Owners' warnings of shops nearing that deletion (STOCKADE_HOUSEKEEPING_RETENTION_WARNINGS). Run it from a scheduler when the
servers run with STOCKADE_HOUSEKEEPING_OFF. A failed shop
does not stop the others; the command then exits non-zero.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return withAppStore(c, load, apps, func(ctx context.Context, cfg app.Config, st ports.Store) error {
				files, err := app.NewStorage(ctx, cfg, app.StorageParts{Store: st})
				if err != nil {
					return err
				}
				defer files.Close()
				sw, err := app.NewSweeper(cfg, app.SweeperParts{Store: st, Objects: files.Objects})
				if err != nil {
					return err
				}
				rep, err := sw.Sweep(ctx)
				if _, perr := fmt.Fprintf(c.OutOrStdout(),
					"shops %d: deleted %d sessions, %d magic links, %d invitations, %d links, %d done jobs, %d messages, %d messaging events, %d pending uploads, %d staging objects, %d partial objects, %d operator sessions, %d rate-limit counters; %d checkpoints signed; %d shops failed\n",
					rep.Shops, rep.Sessions, rep.MagicLinks, rep.Invitations, rep.Capabilities, rep.Jobs, rep.Messages, rep.Events, rep.PendingUploads, rep.StagingObjects, rep.PartialObjects,
					rep.OperatorSessions, rep.RateLimits, rep.Checkpoints, rep.Failed); perr != nil && err == nil {
					err = perr
				}
				if cfg.Housekeeping.NoRetention {
					return err
				}
				dl, derr := app.NewDeleter(cfg, app.DeleterParts{Store: st, Objects: files.Objects, Keys: files.Keys})
				if derr != nil {
					return errors.Join(err, derr)
				}
				rr, rerr := dl.RunRetention(ctx)
				for _, d := range rr.Deleted {
					if _, perr := fmt.Fprintf(c.OutOrStdout(), "retention: deleted shop %s (%s): %d objects, %d rows\n", d.Slug, d.Shop, d.Objects, totalRows(d)); perr != nil {
						rerr = errors.Join(rerr, perr)
					}
				}
				outbox, werr := app.NewAuthMailOutbox(cfg)
				if werr != nil {
					return errors.Join(err, rerr, werr)
				}
				wr, werr := app.NewWarner(cfg, app.WarnerParts{Store: st, Outbox: outbox})
				if werr != nil {
					return errors.Join(err, rerr, werr)
				}
				wrep, werr := wr.RunWarnings(ctx)
				if wrep.Warned > 0 || wrep.Failed > 0 { // like the deletions, said only when there is something to say
					if _, perr := fmt.Fprintf(c.OutOrStdout(), "retention warnings: %d shops warned, %d mails queued; %d shops failed\n",
						wrep.Warned, wrep.Mails, wrep.Failed); perr != nil {
						werr = errors.Join(werr, perr)
					}
				}
				return errors.Join(err, rerr, werr)
			})
		},
	}
}
