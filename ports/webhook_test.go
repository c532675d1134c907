package ports

import (
	"errors"
	"testing"
)

func TestValidateWebhookURL(t *testing.T) {
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"https://hooks.example.com/stockade", true},
		{"https://hooks.example.com:8443/a?b=c", true},
		{"http://localhost:8080/hook", true},
		{"http://127.0.0.1/hook", true},
		{"http://[::1]/hook", true},
		{"http://hooks.example.com/hook", false}, // plain http off loopback
		{"ftp://hooks.example.com/", false},
		{"https://user:pass@hooks.example.com/", false},
		{"https://hooks.example.com/#frag", false},
		{"/relative/path", false},
		{"https:opaque", false},
		{"", false},
		{"https://example.com/" + string(make([]byte, MaxWebhookURLLen)), false},
	} {
		err := ValidateWebhookURL(tc.url)
		if tc.ok && err != nil {
			t.Errorf("%q: %v, want accepted", tc.url, err)
		}
		if !tc.ok && !errors.Is(err, ErrInvalid) {
			t.Errorf("%q: %v, want ErrInvalid", tc.url, err)
		}
	}
}

func TestWebhookEndpointWants(t *testing.T) {
	e := WebhookEndpoint{Events: NormalizeWebhookEvents([]string{"member.added", "file.uploaded", "member.added"})}
	if got := e.Events; len(got) != 2 || got[0] != "file.uploaded" {
		t.Fatalf("normalised events %v", got)
	}
	if !e.Wants("member.added") || e.Wants("member.removed") || e.Wants("") {
		t.Error("Wants does not follow Events")
	}
	all := WebhookEndpoint{Events: []string{WebhookAllEvents}}
	if !all.Wants("anything.at_all") {
		t.Error("* wants every event")
	}
}
