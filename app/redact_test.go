package app

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stockadehq/stockade/ports"
)

func TestRedactURL(t *testing.T) {
	tests := []struct {
		give string
		want string
	}{
		{"postgres://app:s3cret@db:5432/stockade", "postgres://app:xxxxx@db:5432/stockade"},
		{"postgres://app:p%40ss%2Fw@db/stockade?sslmode=disable", "postgres://app:xxxxx@db/stockade?sslmode=disable"},
		{"postgres://app@db/stockade?password=s3cret&sslmode=require", "postgres://app@db/stockade?password=xxxxx&sslmode=require"},
		{"postgres://db/stockade?sslpassword=s3cret", "postgres://db/stockade?sslpassword=xxxxx"},
		{"s3://bucket?endpoint=h:9000&secret_key=s3cret&access_key=AKIA", "s3://bucket?access_key=xxxxx&endpoint=h%3A9000&secret_key=xxxxx"},
		{"postgres://app:@db/x", "postgres://app:xxxxx@db/x"},
		{"postgres://app@db/x", "postgres://app@db/x"},
		{"sqlite:///var/lib/stockade/stockade.db", "sqlite:///var/lib/stockade/stockade.db"},
		{"postgres://app:s3cret%zz@db/x", "<malformed URL>"},
		{"postgres://app:s3/cret@db/x", "<malformed URL>"},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			got := RedactURL(tt.give)
			if got != tt.want {
				t.Errorf("RedactURL(%q) = %q, want %q", tt.give, got, tt.want)
			}
			if strings.Contains(got, "s3cret") {
				t.Errorf("RedactURL(%q) = %q still holds the secret", tt.give, got)
			}
		})
	}
}

func TestScrubError(t *testing.T) {
	raw := "postgres://app:p%40ssw0rd@db/x?sslpassword=k3y-pass"
	inner := fmt.Errorf("driver said: auth for p@ssw0rd / p%%40ssw0rd / k3y-pass failed: %w", ports.ErrUnavailable)
	err := scrubError(inner, raw)
	for _, s := range []string{"p@ssw0rd", "p%40ssw0rd", "k3y-pass"} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("scrubbed error %q still holds %q", err, s)
		}
	}
	if !errors.Is(err, ports.ErrUnavailable) {
		t.Error("scrubbing lost the sentinel")
	}
	if clean := errors.New("nothing secret"); scrubError(clean, raw) != clean {
		t.Error("an error without secrets was rewrapped")
	}
	if scrubError(nil, raw) != nil {
		t.Error("scrubError(nil) != nil")
	}
}

// A short password is redacted where it stands alone, never inside the
// words around it: before, the password "b" turned "sslmode=disable" into
// "sslmode=disaxxxxxle".
func TestScrubErrorRedactsOnlyThePassword(t *testing.T) {
	tests := []struct {
		raw  string
		give string
		want string
	}{
		{"postgres://app:b@db/x?sslmode=disable",
			`cannot reach postgres://app:xxxxx@db/x?binary_parameters=yes&sslmode=disable: login app:b@db refused (password "b")`,
			`cannot reach postgres://app:xxxxx@db/x?binary_parameters=yes&sslmode=disable: login app:xxxxx@db refused (password "xxxxx")`},
		{"postgres://app:able@db/x", "sslmode=disable, able=able", "sslmode=disable, xxxxx=xxxxx"},
		{"postgres://app:p@ss!@db/x", "p@ss!y and xp@ss!", "xxxxxy and xp@ss!"},
		{"postgres://app:p%40ss!@db/x", "p@ss!y and xp@ss!", "xxxxxy and xp@ss!"},
		{"postgres://app:b@db/x", "b", "xxxxx"},
		{"postgres://app:b@db/x", "bb b,b", "bb xxxxx,xxxxx"},
		{"postgres://app:p%C3%A4ssw%C3%B6rt@db/x", "ein pässwörter, pässwört.", "ein pässwörter, xxxxx."},
	}
	for _, tt := range tests {
		err := scrubError(fmt.Errorf("%s: %w", tt.give, ports.ErrUnavailable), tt.raw)
		want := tt.want + ": unavailable"
		if err.Error() != want {
			t.Errorf("scrubError(%q, %q) = %q, want %q", tt.give, tt.raw, err.Error(), want)
		}
	}
}
