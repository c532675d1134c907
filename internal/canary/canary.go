// Package canary catches secrets that leak into logs, error texts and
// problem bodies in tests. A test registers the secrets it handles (the
// passwords it chose, the tokens and cookies the server minted) as
// canaries, routes its log output through the Sink and hands it the error
// texts and response bodies it sees; when the test ends the Sink fails it
// for every canary found in any of them.
//
// Besides exact values the Sink knows patterns of secrets that a test may
// never see minted: by default a 256-bit token in a link (token=<43
// base64url characters>). Card numbers are registered one by one with
// Card (a general pattern for them would match timestamps by chance); the
// Sink finds them with or without spaces or dashes between the digits.
package canary

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// MinSecret is the shortest value Secret accepts: shorter ones would match
// by chance.
const MinSecret = 8

// Sink collects what a test's code wrote and checks it for canaries when
// the test ends. Safe for concurrent use; it is an io.Writer for loggers.
type Sink struct {
	t        testing.TB
	mu       sync.Mutex
	secrets  map[string]string // value -> name
	patterns []pattern
	seen     []seen
}

type seen struct{ where, text string }

type pattern struct {
	name string
	re   *regexp.Regexp
}

// linkToken is a 256-bit token (unpadded base64url) after token=, as every
// Stockade link carries one.
var linkToken = regexp.MustCompile(`token=[A-Za-z0-9_-]{43}\b`)

// New returns a Sink that checks everything it saw when t ends.
func New(t testing.TB) *Sink {
	s := &Sink{t: t, secrets: map[string]string{}, patterns: []pattern{{"a link token", linkToken}}}
	t.Cleanup(s.check)
	return s
}

// Secret registers value as a canary named name (say what it is, e.g.
// "ann's password"). Values shorter than MinSecret fail the test.
func (s *Sink) Secret(name, value string) {
	s.t.Helper()
	if len(value) < MinSecret {
		s.t.Fatalf("canary %s: %d bytes is too short to be a canary", name, len(value))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.secrets[value] = name
}

// Pattern registers a pattern of secrets.
func (s *Sink) Pattern(name string, re *regexp.Regexp) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.patterns = append(s.patterns, pattern{name, re})
}

// Card registers a card number as a canary named name: its digits (12 to
// 19 of them; spaces and dashes in number are ignored) are found in a
// text as they are, or with a space or dash between any two of them
// ("4242 4242 4242 4242", "4242-4242-4242-4242"), but not inside a longer
// run of digits.
func (s *Sink) Card(name, number string) {
	s.t.Helper()
	var digits []string
	for _, r := range number {
		switch {
		case r >= '0' && r <= '9':
			digits = append(digits, string(r))
		case r == ' ' || r == '-':
		default:
			s.t.Fatalf("canary %s: %q is not a card number", name, number)
		}
	}
	if len(digits) < 12 || len(digits) > 19 {
		s.t.Fatalf("canary %s: %d digits is not a card number", name, len(digits))
	}
	s.Pattern(name, regexp.MustCompile(`(?:^|[^0-9])`+strings.Join(digits, `[ -]?`)+`(?:[^0-9]|$)`))
}

// Write records p as log output.
func (s *Sink) Write(p []byte) (int, error) {
	s.Seen("log", string(p))
	return len(p), nil
}

// Seen records text the code under test produced: an error's text, a
// problem body, a CLI's output. where names it in the failure.
func (s *Sink) Seen(where, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seen = append(s.seen, seen{where, text})
}

// SeenError records err's text (nil is nothing).
func (s *Sink) SeenError(where string, err error) {
	if err != nil {
		s.Seen(where, err.Error())
	}
}

// Text returns everything recorded as log output so far.
func (s *Sink) Text() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b strings.Builder
	for _, x := range s.seen {
		if x.where == "log" {
			b.WriteString(x.text)
		}
	}
	return b.String()
}

// Leaks returns one line per canary found, naming the canary and where
// it was seen (the secret itself is not repeated).
func (s *Sink) Leaks() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, x := range s.seen {
		for value, name := range s.secrets {
			if strings.Contains(x.text, value) {
				out = append(out, fmt.Sprintf("%s appeared in %s: %s", name, x.where, excerpt(x.text, strings.Index(x.text, value))))
			}
		}
		for _, p := range s.patterns {
			if loc := p.re.FindStringIndex(x.text); loc != nil {
				out = append(out, fmt.Sprintf("%s appeared in %s: %s", p.name, x.where, excerpt(x.text, loc[0])))
			}
		}
	}
	return out
}

// TakeLeaks returns Leaks and forgets everything recorded so far, so the
// check at the end of the test sees only what is recorded after. It is
// for tests that leak a canary on purpose to prove a harness routes its
// logs, errors and problem bodies through the Sink.
func (s *Sink) TakeLeaks() []string {
	out := s.Leaks()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seen = nil
	return out
}

func (s *Sink) check() {
	for _, l := range s.Leaks() {
		s.t.Errorf("canary: %s", l)
	}
}

// excerpt is up to 40 bytes of context before i, to say where.
func excerpt(text string, i int) string {
	from := max(0, i-40)
	return fmt.Sprintf("%q…", text[from:i])
}
