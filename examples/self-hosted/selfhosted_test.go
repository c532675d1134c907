package selfhosted

import (
	"bufio"
	"bytes"
	"io"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/app/cli"
)

// readEnvFile parses path as systemd's EnvironmentFile= does for the
// subset the example uses: KEY=VALUE lines, "#" comment lines, blank
// lines, values optionally in single or double quotes. It returns the
// assignments as KEY=VALUE strings.
func readEnvFile(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var env []string
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		require.True(t, ok, "%s:%d: not KEY=VALUE", path, n)
		require.Regexp(t, `^[A-Z][A-Z0-9_]*$`, k, "%s:%d", path, n)
		if len(v) >= 2 && (v[0] == '\'' || v[0] == '"') {
			require.Equal(t, v[0], v[len(v)-1], "%s:%d: unbalanced quotes", path, n)
			v = v[1 : len(v)-1]
		} else {
			require.NotContains(t, v, "&", "%s:%d: quote a value with & (a shell sourcing the file would run it in the background)", path, n)
		}
		env = append(env, k+"="+v)
	}
	require.NoError(t, sc.Err())
	return env
}

// commentedSetting returns the value of a "# KEY=VALUE" line of path.
func commentedSetting(t *testing.T, path, key string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^# ` + key + `='([^']*)'$`).FindSubmatch(b)
	require.NotNil(t, m, "%s has a commented %s", path, key)
	return string(m[1])
}

// TestEnvFileLoadsAndValidates loads stockade.env as the server does and
// applies the checks it applies at start, production rules included.
func TestEnvFileLoadsAndValidates(t *testing.T) {
	env := readEnvFile(t, "stockade.env")
	cfg, err := app.LoadConfig(env, "")
	require.NoError(t, err)
	require.NoError(t, cfg.Validate())

	assert.Equal(t, app.EnvProduction, cfg.Env)
	assert.True(t, strings.HasPrefix(cfg.Database.URL, "postgres://stockade:"), "the server connects as the application role")
	assert.Contains(t, cfg.Database.URL, "sslmode=verify-full")
	assert.Empty(t, cfg.Database.MigrateURL, "the owner's URL is not on the server")
	assert.True(t, strings.HasPrefix(cfg.ObjectsURL(), "s3://"))
	assert.Equal(t, "smtp", cfg.Email.Provider)
	assert.True(t, cfg.HTTP.TrustForwardedFor)
	assert.True(t, cfg.Metrics.Enabled)
	assert.False(t, cfg.Tracing.Enabled, "tracing is shown, off")

	// Where migrations run, the owner's URL is added (README step 3).
	cfg, err = app.LoadConfig(append(env, "STOCKADE_DATABASE_MIGRATE_URL="+commentedSetting(t, "stockade.env", "STOCKADE_DATABASE_MIGRATE_URL")), "")
	require.NoError(t, err)
	require.NoError(t, cfg.Validate())
	assert.True(t, strings.HasPrefix(cfg.Database.MigrateURL, "postgres://stockade_owner:"))

	// And the checks are real: the same file with the console mail
	// provider is refused in production.
	cfg, err = app.LoadConfig(append(env, "STOCKADE_EMAIL_PROVIDER=console"), "")
	require.NoError(t, err)
	require.Error(t, cfg.Validate())
}

// TestUnitAndProxyAgreeWithTheSettings checks the systemd unit and the
// nginx snippet against stockade.env.
func TestUnitAndProxyAgreeWithTheSettings(t *testing.T) {
	cfg, err := app.LoadConfig(readEnvFile(t, "stockade.env"), "")
	require.NoError(t, err)

	unit, err := os.ReadFile("stockade.service")
	require.NoError(t, err)
	for _, line := range []string{
		"EnvironmentFile=/etc/stockade/env",
		"ExecStart=/usr/local/bin/stockade serve",
		"StateDirectory=stockade", // /var/lib/stockade
		"User=stockade",
	} {
		assert.Contains(t, strings.Split(string(unit), "\n"), line)
	}
	assert.Equal(t, "/var/lib/stockade", cfg.DataDir, "StateDirectory=stockade is STOCKADE_DATA_DIR")

	proxy, err := os.ReadFile("nginx.conf")
	require.NoError(t, err)
	public, err := url.Parse(cfg.HTTP.PublicURL)
	require.NoError(t, err)
	assert.Equal(t, "https", public.Scheme, "session cookies need HTTPS")
	host := public.Hostname()
	assert.Contains(t, string(proxy), "server_name "+host+" *."+host+";", "the public host and every shop's subdomain")
	assert.Contains(t, string(proxy), "proxy_pass http://"+cfg.HTTP.Addr+";")
	assert.Contains(t, string(proxy), "proxy_set_header Host $host;", "the Host header chooses the shop")
	assert.Contains(t, string(proxy), "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;")
	assert.NotContains(t, string(proxy), cfg.Metrics.ListenAddr()+";", "the metrics are not proxied")
}

// TestREADMECommandsExist checks that every stockade command README.md
// shows is a command of the CLI, with the flags it is given.
func TestREADMECommandsExist(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	root := cli.NewRoot(cli.Info{}, nil, io.Discard, io.Discard)
	var seen []string
	inSh := false
	for line := range strings.Lines(string(readme)) {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "```sh"):
			inSh = true
			continue
		case strings.HasPrefix(line, "```"):
			inSh = false
			continue
		case !inSh:
			continue
		}
		line, _, _ = strings.Cut(line, "#") // a comment
		_, cmdline, ok := strings.Cut(" "+line, " stockade ")
		if !ok || strings.HasPrefix(line, "cp ") {
			continue
		}
		words := strings.Fields(strings.ReplaceAll(cmdline, `"`, ""))
		var path, flags []string
		for _, w := range words {
			switch {
			case strings.HasPrefix(w, "--"):
				flags = append(flags, strings.TrimPrefix(w, "--"))
			case len(flags) == 0 && regexp.MustCompile(`^[a-z][a-z-]*$`).MatchString(w):
				path = append(path, w)
			}
		}
		cmd, rest, err := root.Find(path)
		require.NoError(t, err, line)
		require.Empty(t, rest, "%q: no such command", line)
		require.NotEqual(t, root, cmd, line)
		for _, f := range flags {
			assert.NotNil(t, cmd.Flags().Lookup(f), "%q: %s has no --%s", line, cmd.CommandPath(), f)
		}
		seen = append(seen, cmd.CommandPath())
	}
	for _, want := range []string{"stockade migrate", "stockade operator create", "stockade user create", "stockade shop create", "stockade verify isolation"} {
		assert.Contains(t, seen, want, "the README shows %s", want)
	}
	var order bytes.Buffer
	for _, s := range seen {
		order.WriteString(s + "\n")
	}
	assert.Regexp(t, `(?s)migrate\n.*operator create\n.*shop create\n`, order.String(), "migrate → (serve) → operator create → shop create")
}
