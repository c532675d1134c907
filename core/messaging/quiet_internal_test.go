package messaging

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

func TestSendWindowNext(t *testing.T) {
	chicago, err := time.LoadLocation("America/Chicago")
	require.NoError(t, err)
	w := window{from: 8 * 60, until: 21 * 60, loc: chicago}
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, chicago)
		require.NoError(t, err)
		return v
	}
	tests := []struct{ now, want string }{
		{"2026-11-23 12:00", "2026-11-23 12:00"}, // inside: now
		{"2026-11-23 08:00", "2026-11-23 08:00"}, // the window opens at 08:00 sharp
		{"2026-11-23 07:59", "2026-11-23 08:00"},
		{"2026-11-23 02:00", "2026-11-23 08:00"},
		{"2026-11-23 21:00", "2026-11-24 08:00"}, // closes at 21:00
		{"2026-11-23 23:30", "2026-11-24 08:00"},
		{"2026-12-31 22:00", "2027-01-01 08:00"},
		// The night DST ends (1 Nov 2026) and starts (14 Mar 2027).
		{"2026-10-31 22:00", "2026-11-01 08:00"},
		{"2027-03-13 22:00", "2027-03-14 08:00"},
	}
	for _, tt := range tests {
		got := w.next(at(tt.now))
		assert.True(t, at(tt.want).Equal(got), "next(%s) = %s, want %s", tt.now, got.In(chicago), tt.want)
	}
	// The same instant is quiet in Chicago and not in Berlin.
	utc := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC) // 06:00 Chicago, 13:00 Berlin
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	assert.True(t, w.next(utc).After(utc))
	assert.Equal(t, utc, window{from: 8 * 60, until: 21 * 60, loc: berlin}.next(utc))
}

func TestSendWindowPicksTheRecipientsZoneThenTheShops(t *testing.T) {
	s := &Service{cfg: Config{SendFrom: 8 * 60, SendUntil: 21 * 60}}
	shop := ports.MessagingSettings{TimeZone: "Europe/Berlin"}
	assert.Equal(t, "America/Denver", s.sendWindow(shop, ports.Contact{TimeZone: "America/Denver"}).loc.String())
	assert.Equal(t, "Europe/Berlin", s.sendWindow(shop, ports.Contact{}).loc.String())
	assert.Equal(t, "UTC", s.sendWindow(ports.MessagingSettings{}, ports.Contact{}).loc.String())
	w := s.sendWindow(ports.MessagingSettings{SendFrom: 10 * 60, SendUntil: 18 * 60}, ports.Contact{})
	assert.Equal(t, [2]int{600, 1080}, [2]int{w.from, w.until}, "the shop's own hours win over the default")
	w = s.sendWindow(ports.MessagingSettings{}, ports.Contact{})
	assert.Equal(t, [2]int{480, 1260}, [2]int{w.from, w.until}, "default 08:00-21:00")
}
