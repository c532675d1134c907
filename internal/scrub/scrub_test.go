package scrub_test

import (
	"testing"

	"github.com/stockadehq/stockade/internal/scrub"
)

func TestSecret(t *testing.T) {
	tests := []struct {
		secret, give, want string
	}{
		{"b", `postgres://app:b@db/x?sslmode=disable (password "b")`, `postgres://app:xxxxx@db/x?sslmode=disable (password "xxxxx")`},
		{"b", "b", "xxxxx"},
		{"b", "bb b,b", "bb xxxxx,xxxxx"},
		{"able", "sslmode=disable, able=able: unavailable", "sslmode=disable, xxxxx=xxxxx: unavailable"},
		{"p@ss!", "p@ss!y and xp@ss!", "xxxxxy and xp@ss!"},
		{"!x!", "a!x!b", "axxxxxb"},
		{"pässwört", "ein pässwörter, pässwört.", "ein pässwörter, xxxxx."},
		{"s3cret", "s3crets3cret s3cret", "s3crets3cret xxxxx"},
		{"", "nothing", "nothing"},
	}
	for _, tt := range tests {
		if got := scrub.Secret(tt.give, tt.secret, "xxxxx"); got != tt.want {
			t.Errorf("Secret(%q, %q) = %q, want %q", tt.give, tt.secret, got, tt.want)
		}
	}
}

func TestProviderText(t *testing.T) {
	got := scrub.ProviderText(`401: key re_Key_1 refused for https://acme.example.test/auth/magic-link?token=abc (user:re_Key_1@x)`, "re_Key_1", "")
	if want := `401: key xxxxx refused for https://acme.example.test/… (user:xxxxx@x)`; got != want {
		t.Errorf("ProviderText = %q, want %q", got, want)
	}
}
