package cli_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/app/cli"
	"github.com/stockadehq/stockade/internal/canary"
	"github.com/stockadehq/stockade/ports"
)

func run(t *testing.T, environ []string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := cli.NewRoot(cli.Info{Version: "v1.2.3"}, environ, &out, &errOut)
	root.SetArgs(args)
	err = root.Execute()
	watchOutput(t, environ, "", out.String(), errOut.String(), err)
	noInternals(t, err)
	return out.String(), errOut.String(), err
}

// watchOutput is the CLI suite's canary check: no link token (and no
// password given on standard input) in what the CLI wrote to stderr or in
// its error, and the password not on stdout either (stdout may carry the
// links a command exists to print, such as a capability link). Inputs
// under 12 bytes are the tests' deliberately weak passwords ("password"),
// which the errors may name as a word; they are not canaries. The secrets
// of the environment (see envSecrets) may appear in none of the three.
func watchOutput(t *testing.T, environ []string, stdin, stdout, stderr string, err error) {
	t.Helper()
	s := canary.New(t)
	if pw := strings.TrimSpace(stdin); len(pw) >= 12 {
		s.Secret("the password on standard input", pw)
		if strings.Contains(stdout, pw) {
			t.Errorf("canary: the password on standard input appeared on stdout")
		}
	}
	for name, v := range envSecrets(environ) {
		s.Secret(name, v)
		if strings.Contains(stdout, v) {
			t.Errorf("canary: %s appeared on stdout", name)
		}
	}
	s.Seen("stderr", stderr)
	s.SeenError("the error", err)
}

// envSecrets returns the secrets a test put into the CLI's environment,
// by the setting they came from: the values of settings named for a
// password, secret, key or token (each of a comma-separated list) and the
// passwords of URLs, when at least canary.MinSecret long.
func envSecrets(environ []string) map[string]string {
	out := map[string]string{}
	for _, kv := range environ {
		name, v, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		if u, err := url.Parse(v); err == nil && u.User != nil {
			if pw, ok := u.User.Password(); ok && len(pw) >= canary.MinSecret {
				out["the password in "+name] = pw
			}
		}
		for _, word := range []string{"PASSWORD", "SECRET", "API_KEY", "TOKEN", "SESSION_KEYS"} {
			if strings.Contains(name, word) {
				for i, part := range strings.Split(v, ",") {
					if part = strings.TrimSpace(part); len(part) >= canary.MinSecret {
						out[fmt.Sprintf("%s (%d)", name, i)] = part
					}
				}
			}
		}
	}
	return out
}

// noInternals is the guard every CLI error the suites produce passes
// through: one the user caused (not found, taken, refused, bad input, but
// not a setting's) names no store internals in the line main prints.
func noInternals(t *testing.T, err error) {
	t.Helper()
	var setting *app.SettingError
	if err == nil || errors.As(err, &setting) {
		return
	}
	for _, s := range []error{ports.ErrNotFound, ports.ErrConflict, ports.ErrForbidden, ports.ErrInvalid, ports.ErrUnauthenticated} {
		if !errors.Is(err, s) {
			continue
		}
		line := strings.ToLower(cli.ErrorLine(err))
		for _, w := range []string{"sqlite", "postgres", "pq:", "sql:"} {
			if strings.Contains(line, w) {
				t.Errorf("the CLI error names internals: %s", cli.ErrorLine(err))
			}
		}
		return
	}
}

// TestVersion: --version prints the bare version (for scripts), the
// version command names the program and, when the build knows it, the
// commit (see TestInfoFrom).
func TestVersion(t *testing.T) {
	for args, want := range map[string]string{"version": "stockade v1.2.3\n", "--version": "v1.2.3\n"} {
		out, _, err := run(t, nil, args)
		if err != nil || out != want {
			t.Errorf("%v: out %q, err %v; want %q", args, out, err, want)
		}
	}
	var out bytes.Buffer
	root := cli.NewRoot(cli.Info{Version: "v0.1.0", Commit: "0123456789abcdef0123456789abcdef01234567", Modified: true}, nil, &out, io.Discard)
	root.SetArgs([]string{"version"})
	if err := root.Execute(); err != nil || out.String() != "stockade v0.1.0 (commit 0123456789ab, modified)\n" {
		t.Errorf("version: out %q, err %v", out.String(), err)
	}
}

// TestInfoFrom: the link-time version wins, then the module version Go
// recorded; the commit and the modified flag come from the VCS settings.
func TestInfoFrom(t *testing.T) {
	vcs := []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "abc1234def5678abc1234def5678abc1234def56"}, {Key: "vcs.modified", Value: "false"}}
	dirty := []debug.BuildSetting{{Key: "vcs.revision", Value: "abc1234"}, {Key: "vcs.modified", Value: "true"}}
	tests := []struct {
		name   string
		bi     *debug.BuildInfo
		linked string
		want   cli.Info
		line   string
	}{
		{"no build info", nil, "dev", cli.Info{Version: "dev"}, "stockade dev"},
		{"no build info, nothing linked", nil, "", cli.Info{Version: "dev"}, "stockade dev"},
		{"linked wins", &debug.BuildInfo{Main: debug.Module{Version: "v0.2.0"}, Settings: vcs}, "v1.2.3",
			cli.Info{Version: "v1.2.3", Commit: "abc1234def5678abc1234def5678abc1234def56"}, "stockade v1.2.3 (commit abc1234def56)"},
		{"go install @version", &debug.BuildInfo{Main: debug.Module{Version: "v0.1.0"}}, "dev", cli.Info{Version: "v0.1.0"}, "stockade v0.1.0"},
		{"a checkout", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: dirty}, "dev",
			cli.Info{Version: "(devel)", Commit: "abc1234", Modified: true}, "stockade (devel) (commit abc1234, modified)"},
		{"no module version", &debug.BuildInfo{}, "", cli.Info{Version: "dev"}, "stockade dev"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := cli.InfoFrom(tt.bi, tt.linked)
			if got != tt.want {
				t.Errorf("InfoFrom = %#v, want %#v", got, tt.want)
			}
			if got.String() != tt.line {
				t.Errorf("String() = %q, want %q", got.String(), tt.line)
			}
		})
	}
}

func TestMigrateTwice(t *testing.T) {
	env := []string{"STOCKADE_DATA_DIR=" + filepath.Join(t.TempDir(), "data")}
	out, _, err := run(t, env, "migrate")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, "migrated sqlite:///") || !strings.Contains(out, "from version 0 to ") {
		t.Errorf("first migrate printed %q", out)
	}
	out, _, err = run(t, env, "migrate")
	if err != nil || !strings.HasPrefix(out, "schema is current at version ") {
		t.Errorf("second migrate printed %q, %v", out, err)
	}
}

func TestConfigFileFlagBeatsEnv(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.toml")
	bad := filepath.Join(dir, "bad.toml")
	if err := os.WriteFile(good, []byte(`data_dir = "`+filepath.ToSlash(filepath.Join(dir, "d"))+`"`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("typo = 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"STOCKADE_CONFIG=" + bad}
	if _, _, err := run(t, env, "migrate"); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("STOCKADE_CONFIG file not read: %v", err)
	}
	if _, _, err := run(t, env, "--config", good, "migrate"); err != nil {
		t.Errorf("--config did not win over STOCKADE_CONFIG: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "d", "stockade.db")); err != nil {
		t.Errorf("database not created where the file said: %v", err)
	}
}

func TestServeRefusesBadConfig(t *testing.T) {
	_, stderr, err := run(t, []string{"STOCKADE_DATABASE_URL=mysql://u:p@h/db"}, "serve")
	if err == nil || !strings.Contains(err.Error(), "STOCKADE_DATABASE_URL") {
		t.Errorf("serve = %v, want a config error", err)
	}
	if stderr != "" {
		t.Errorf("stderr = %q, want nothing: the caller prints the error", stderr)
	}
}

func TestUnknownCommand(t *testing.T) {
	_, stderr, err := run(t, nil, "serv")
	if err == nil || stderr != "" {
		t.Errorf("unknown command: err %v, stderr %q; want an error and no output", err, stderr)
	}
}

func TestErrorLine(t *testing.T) {
	err := errors.Join(errors.New("A: one"), errors.New("B: two\r\nthree"))
	if got, want := cli.ErrorLine(err), "stockade: A: one; B: two; three"; got != want {
		t.Errorf("ErrorLine = %q, want %q", got, want)
	}
}

// TestServeRefusesConsoleMailInProduction: in production the server does
// not start with the console e-mail provider (sign-in links would reach
// no one); the error is one line naming the setting that allows it.
func TestServeRefusesConsoleMailInProduction(t *testing.T) {
	env := []string{"STOCKADE_ENV=production", "STOCKADE_DATA_DIR=" + filepath.Join(t.TempDir(), "data"), "STOCKADE_HTTP_ADDR=127.0.0.1:0"}
	_, _, err := run(t, env, "serve")
	if err == nil {
		t.Fatal("serve started in production with the console e-mail provider")
	}
	if msg := err.Error(); strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "STOCKADE_EMAIL_ALLOW_CONSOLE: ") {
		t.Errorf("error = %q, want one line naming STOCKADE_EMAIL_ALLOW_CONSOLE", msg)
	}
}

// TestEnvSecretsFindsTheEnvironmentsSecrets keeps the CLI canary from
// going vacuous: the settings that hold secrets are found, others not.
func TestEnvSecretsFindsTheEnvironmentsSecrets(t *testing.T) {
	got := envSecrets([]string{
		"STOCKADE_DATABASE_URL=postgres://app:db-Pa55word-1@db/stockade",
		"STOCKADE_STRIPE_API_KEY=sk_test_cli_0123",
		"STOCKADE_STRIPE_WEBHOOK_SECRETS=whsec_one_0123456, whsec_two_0123456",
		"STOCKADE_EMAIL_SMTP_PASSWORD=smtp-Pa55word",
		"STOCKADE_SMS_TWILIO_AUTH_TOKEN=0123456789abcdef",
		"STOCKADE_DATA_DIR=/var/lib/stockade-data",
		"STOCKADE_ENV=production",
	})
	want := map[string]string{
		"the password in STOCKADE_DATABASE_URL": "db-Pa55word-1",
		"STOCKADE_STRIPE_API_KEY (0)":           "sk_test_cli_0123",
		"STOCKADE_STRIPE_WEBHOOK_SECRETS (0)":   "whsec_one_0123456",
		"STOCKADE_STRIPE_WEBHOOK_SECRETS (1)":   "whsec_two_0123456",
		"STOCKADE_EMAIL_SMTP_PASSWORD (0)":      "smtp-Pa55word",
		"STOCKADE_SMS_TWILIO_AUTH_TOKEN (0)":    "0123456789abcdef",
	}
	if len(got) != len(want) {
		t.Fatalf("envSecrets = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("envSecrets[%q] = %q, want %q", k, got[k], v)
		}
	}
}
