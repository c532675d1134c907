// Package cli is the stockade command line: a cobra root command with
// serve, migrate, user, shop, member, invite, link, billing, org, audit,
// operator, messaging, housekeeping, verify and version. It takes its environment,
// output streams and build information as arguments, so it runs the same
// in tests as in main.
package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/app/httpapi"
)

// Info is what the build knows about itself.
type Info struct {
	// Version is the release, e.g. "v1.2.3"; main sets it from -ldflags
	// or the module version Go recorded (default "dev"). The root's
	// --version flag prints it alone.
	Version string
	// Commit is the VCS revision the binary was built from, "" when
	// unknown.
	Commit string
	// Modified reports that the checkout had changes not committed when
	// the binary was built.
	Modified bool
}

// NewRoot returns the stockade root command. environ holds the process
// environment as KEY=value strings (the command never reads os.Environ
// itself); command output goes to stdout, logs to stderr. Errors are not
// printed: Execute returns them, and the caller prints one line (see
// ErrorLine). An embedding app's binary adds its own pieces with opts.
func NewRoot(info Info, environ []string, stdout, stderr io.Writer, opts ...Option) *cobra.Command {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if info.Version == "" {
		info.Version = "dev"
	}
	version := info.Version
	root := &cobra.Command{
		Use:   "stockade",
		Short: "Stockade: the security backbone of a multi-tenant SaaS",
		Long: `Stockade serves the Stockade API and manages its database.

Configuration comes from a TOML file (--config or ` + app.EnvConfigFile + `) and
STOCKADE_* environment variables, which win over the file.`,
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return fmt.Errorf("%w (see %s --help)", err, c.CommandPath())
	})
	root.PersistentFlags().String("config", "", "TOML configuration file (default $"+app.EnvConfigFile+")")

	load := func(c *cobra.Command) (app.Config, error) {
		return loadConfig(c, environ)
	}
	root.AddCommand(
		newServeCmd(load, stderr, o.apps),
		newMigrateCmd(load, o.apps),
		newUserCmd(load),
		newShopCmd(load, o.apps),
		newMemberCmd(load),
		newInviteCmd(load),
		newLinkCmd(load),
		newBillingCmd(load),
		newOrgCmd(load),
		newAuditCmd(load),
		newExportCmd(load),
		newOperatorCmd(load),
		newTwoFactorCmd(load),
		newMessagingCmd(load),
		newHousekeepingCmd(load, o.apps),
		newVerifyCmd(load, info),
		newVersionCmd(info),
	)
	return root
}

// loadConfig reads the configuration file named by --config or
// STOCKADE_CONFIG and the environment, and validates the result.
func loadConfig(c *cobra.Command, environ []string) (app.Config, error) {
	file, err := c.Flags().GetString("config")
	if err != nil {
		return app.Config{}, err
	}
	if file == "" {
		file = lookupEnv(environ, app.EnvConfigFile)
	}
	cfg, err := app.LoadConfig(environ, file)
	if err != nil {
		return app.Config{}, err
	}
	if err := cfg.Validate(); err != nil {
		return app.Config{}, err
	}
	return cfg, nil
}

// lookupEnv returns the value of key in environ, the last one winning as
// in os.Getenv, or "".
func lookupEnv(environ []string, key string) string {
	v := ""
	for _, kv := range environ {
		if k, val, ok := strings.Cut(kv, "="); ok && k == key {
			v = val
		}
	}
	return v
}

// Option configures NewRoot for an embedding app's own binary.
type Option func(*options)

type options struct {
	apps []app.AppSchema
}

// WithAppMigrations makes migrate apply the embedding app's migrations
// after Stockade's, in order, and serve apply them when it migrates (see
// app.AppSchema and app.AppMigrations).
func WithAppMigrations(apps ...app.AppSchema) Option {
	return func(o *options) { o.apps = append(o.apps, apps...) }
}

// ErrorLine renders err as the one line main prints to stderr:
// "stockade: <error>", with the lines of a joined error separated by "; ".
// An error the user caused (bad input, not found, taken, refused: a 4xx
// over HTTP) names the problem without the store's words, as the API's
// problem details do (httpapi.PublicDetail); a setting's error and a
// failure (the database cannot be reached) keep every word, for the
// operator.
func ErrorLine(err error) string {
	text := err.Error()
	var setting *app.SettingError
	if !errors.As(err, &setting) && httpapi.StatusOf(err) < 500 {
		text = httpapi.PublicDetail(err)
	}
	msg := strings.Join(strings.FieldsFunc(text, func(r rune) bool { return r == '\n' || r == '\r' }), "; ")
	return "stockade: " + msg
}
