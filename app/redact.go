package app

import (
	"net/url"
	"strings"

	"github.com/stockadehq/stockade/internal/scrub"
)

// redacted replaces a secret in URLs, errors and logs.
const redacted = "xxxxx"

// RedactURL returns raw with its secrets replaced by "xxxxx": the password
// of the user info and the value of every query parameter whose name
// suggests a secret (password, secret, token, key, signature, credential).
// A URL that does not parse is returned as "<malformed URL>", because the
// parser cannot tell which part is the password. Use it for every URL that
// reaches an error message or a log.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<malformed URL>"
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), redacted)
	}
	if u.RawQuery != "" {
		q := u.Query()
		changed := false
		for name := range q {
			if secretParam(name) {
				q[name] = []string{redacted}
				changed = true
			}
		}
		if changed {
			u.RawQuery = q.Encode()
		}
	}
	return u.String()
}

// secretParam reports whether a query parameter name suggests a secret
// value (libpq's password and sslpassword, S3 secret keys, tokens,
// presigned-URL signatures).
func secretParam(name string) bool {
	n := strings.ToLower(name)
	for _, s := range []string{"pass", "secret", "token", "key", "sig", "credential"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}

// urlSecrets returns the secret strings of raw that must not appear in
// messages: the password (raw and percent-decoded) and secret query values.
func urlSecrets(raw string) []string {
	u, err := url.Parse(raw)
	if err != nil {
		return nil
	}
	var out []string
	if p, ok := u.User.Password(); ok && p != "" {
		out = append(out, p, url.QueryEscape(p), url.PathEscape(p))
	}
	for name, vs := range u.Query() {
		if secretParam(name) {
			for _, v := range vs {
				if v != "" {
					out = append(out, v, url.QueryEscape(v))
				}
			}
		}
	}
	return out
}

// scrubbedError is an error whose message has had secrets removed. It
// unwraps to the original, so errors.Is and errors.As still work; only
// Error() is scrubbed.
type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

// scrubError returns err with every secret of the URLs in rawURLs replaced
// by "xxxxx" in its message, where it stands alone (see scrub.Secret). It
// is a safety net for errors that come from drivers which might echo a
// connection string; nil stays nil.
func scrubError(err error, rawURLs ...string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	changed := false
	for _, raw := range rawURLs {
		for _, s := range urlSecrets(raw) {
			if m := scrub.Secret(msg, s, redacted); m != msg {
				msg, changed = m, true
			}
		}
	}
	if !changed {
		return err
	}
	return &scrubbedError{msg: msg, err: err}
}
