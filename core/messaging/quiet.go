package messaging

import (
	"fmt"
	"time"
	_ "time/tzdata" // zone rules even on hosts without /usr/share/zoneinfo

	"github.com/stockadehq/stockade/ports"
)

// heldForQuietHours is the HeldFor of a marketing SMS held until the
// recipient's sending window opens.
const heldForQuietHours = "quiet hours"

// window is when marketing SMS may go out: [from, until) minutes after
// local midnight, in loc.
type window struct {
	from, until int
	loc         *time.Location
}

// sendWindow is the window for a contact of a shop: the shop's hours (or
// the configured default), in the contact's zone if known, else the
// shop's, else UTC.
func (s *Service) sendWindow(settings ports.MessagingSettings, contact ports.Contact) window {
	w := window{from: s.cfg.SendFrom, until: s.cfg.SendUntil, loc: time.UTC}
	if settings.SendFrom != 0 || settings.SendUntil != 0 {
		w.from, w.until = settings.SendFrom, settings.SendUntil
	}
	for _, zone := range []string{contact.TimeZone, settings.TimeZone} {
		if zone == "" {
			continue
		}
		if loc, err := time.LoadLocation(zone); err == nil {
			w.loc = loc
			break
		}
	}
	return w
}

// next returns now when now is inside the window, and otherwise the
// moment the window next opens. On a day whose opening falls in a
// daylight-saving gap, the opening is the first instant after it.
func (w window) next(now time.Time) time.Time {
	local := now.In(w.loc)
	minute := local.Hour()*60 + local.Minute()
	if minute >= w.from && minute < w.until {
		return now
	}
	day := local
	if minute >= w.until {
		day = local.AddDate(0, 0, 1)
	}
	open := time.Date(day.Year(), day.Month(), day.Day(), w.from/60, w.from%60, 0, 0, w.loc)
	if !open.After(now) { // cannot happen outside the window; keep time moving forward
		open = now
	}
	return open
}

func (w window) String() string {
	return fmt.Sprintf("%02d:%02d-%02d:%02d %s", w.from/60, w.from%60, w.until/60, w.until%60, w.loc)
}
