package web

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stockadehq/stockade/core/audit"
	"github.com/stockadehq/stockade/ports"
)

// Audit pages (on a shop's host, for holders of audit.read: Owner and
// Admin by default):
//
//	GET /settings/audit?actor=&action=&target=&since=&until=&before=|after=
//	    the shop's audit log, newest first, AuditPageSize events a page,
//	    with the chain's verification status for the events shown
//	GET /settings/access-review?since=&until=
//	    the access review (every access from outside the membership) for
//	    a period, by default the last AccessReviewDefault
//
// Their export links are the API's GET /audit/export and
// GET /audit/access-review with the same filters, which the browser
// fetches with the same session cookie.
const (
	// AuditPageSize is how many events one page of the audit log shows.
	AuditPageSize = 50
	// AccessReviewDefault is the period the access review covers when
	// the form gives no start.
	AccessReviewDefault = 90 * 24 * time.Hour
	// AccessReviewShown is the most entries the access review page lists;
	// the export has them all.
	AccessReviewShown = 500
)

// auditRoutes registers the audit log and the access review pages.
func (p *Pages) auditRoutes(mux *http.ServeMux, g guards) {
	if p.d.Audit == nil {
		return
	}
	mux.Handle("GET "+AuditLogPath, p.chain(p.auditLogPage, g.onShop, g.sess, g.banner))
	mux.Handle("GET "+AccessReviewPath, p.chain(p.accessReviewPage, g.onShop, g.sess, g.banner))
}

// auditFilterForm is the audit log's filter form as typed, echoed back
// into the form and into the pagination and export links.
type auditFilterForm struct {
	Actor, Action, Target, Since, Until string
}

// empty reports whether no filter is set: the page then shows the log's
// consecutive events and their links can be checked.
func (f auditFilterForm) empty() bool { return f == auditFilterForm{} }

// query returns the filter's non-empty fields as query parameters, the
// times as typed.
func (f auditFilterForm) query() url.Values {
	q := url.Values{}
	for k, v := range map[string]string{"actor": f.Actor, "action": f.Action, "target": f.Target, "since": f.Since, "until": f.Until} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q
}

// parseAuditFilter reads the filter form of r into a ports.AuditFilter;
// a bad field is an ErrInvalid naming it.
func parseAuditFilter(r *http.Request) (auditFilterForm, ports.AuditFilter, error) {
	q := r.URL.Query()
	form := auditFilterForm{
		Actor: strings.TrimSpace(q.Get("actor")), Action: strings.TrimSpace(q.Get("action")), Target: strings.TrimSpace(q.Get("target")),
		Since: strings.TrimSpace(q.Get("since")), Until: strings.TrimSpace(q.Get("until")),
	}
	f := ports.AuditFilter{Actor: form.Actor, Action: form.Action, Target: form.Target}
	var err error
	if f.Since, err = parseFormTime("since", form.Since, false); err != nil {
		return form, f, err
	}
	if f.Until, err = parseFormTime("until", form.Until, true); err != nil {
		return form, f, err
	}
	return form, f, f.Validate()
}

// parseFormTime reads a time typed in a form: RFC 3339, a datetime-local
// value ("2026-11-23T09:00", in UTC) or a date ("2026-11-23", midnight
// UTC; the midnight after it when end is set, so that an end date is
// included). Empty is the zero time.
func parseFormTime(field, v string, end bool) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		if end {
			t = t.AddDate(0, 0, 1)
		}
		return t, nil
	}
	return time.Time{}, ports.Invalid(field, "must be a date (2026-11-23) or a date and time in UTC (2026-11-23T09:00)")
}

// auditCursor reads the pagination parameter: before=N (the page of
// events older than seq N) or after=N (the page newer than seq N).
func auditCursor(r *http.Request) (seq int64, newer bool, err error) {
	q := r.URL.Query()
	b, a := q.Get("before"), q.Get("after")
	if b != "" && a != "" {
		return 0, false, ports.Invalid("before", "give before or after, not both")
	}
	v, name := b, "before"
	if a != "" {
		v, name, newer = a, "after", true
	}
	if v == "" {
		return 0, false, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 {
		return 0, false, ports.Invalid(name, "must be an event number from a previous page")
	}
	return n, newer, nil
}

// auditRow is one event as the audit log table shows it.
type auditRow struct {
	ports.AuditEvent
	// Broken marks the event the chain check found at fault.
	Broken bool
}

// chainStatus is what the audit log page says of the hash chain. The
// check covers only the events the page read (see checkChain).
type chainStatus struct {
	Intact bool
	// Checked is how many events had their hash recomputed; Unhashed how
	// many come from before the chain (no hash to check).
	Checked, Unhashed int
	// Linked says the links between consecutive events were checked too
	// (an unfiltered page: its events follow each other in the log).
	Linked bool
	// First and Last are the lowest and highest seq read: the page's
	// events and the one beyond them.
	First, Last int64
	// Seq and Problem name the first bad event and what is wrong.
	Seq     int64
	Problem string
}

// auditLogData is the audit log page's data.
type auditLogData struct {
	Filter       auditFilterForm
	Rows         []auditRow
	Chain        chainStatus
	Older, Newer string // the pagination links, "" when there is no such page
	ExportCSV    string
	ExportJSONL  string
	AccessReview string
}

func (p *Pages) auditLogPage(w http.ResponseWriter, r *http.Request) {
	form, f, err := parseAuditFilter(r)
	v := view{Title: "Audit log", Form: "filter"}
	if err == nil {
		var cursor int64
		var newer bool
		cursor, newer, err = auditCursor(r)
		if err == nil {
			var data auditLogData
			data, err = p.auditLog(r, form, f, cursor, newer)
			if err == nil {
				v.Data = data
				p.render(w, r, http.StatusOK, "auditlog", v)
				return
			}
		}
	}
	if !errors.Is(err, ports.ErrInvalid) {
		p.fail(w, r, err)
		return
	}
	v.Error, v.FieldErrors = formErrors(err, nil)
	v.Data = auditLogData{Filter: form, AccessReview: AccessReviewPath}
	p.render(w, r, http.StatusBadRequest, "auditlog", v)
}

// auditLog reads one page of the log for the filter f (as typed: form)
// starting after cursor (older events, or newer ones when newer is set)
// and checks the chain over what it read.
func (p *Pages) auditLog(r *http.Request, form auditFilterForm, f ports.AuditFilter, cursor int64, newer bool) (auditLogData, error) {
	// One event more than shown: it tells whether a further page exists
	// and lets the check link the page's last event to the one beyond.
	f.Limit, f.Cursor, f.Newest = AuditPageSize+1, cursor, !newer
	page, err := p.d.Audit.Search(r.Context(), f)
	if err != nil {
		return auditLogData{}, fmt.Errorf("audit log page: %w", err)
	}
	read := page.Events
	more := len(read) > AuditPageSize
	shown := read[:min(len(read), AuditPageSize)]
	if newer {
		shown = slices.Clone(shown)
		slices.Reverse(shown)
	}
	// read, newest first, for the check.
	all := slices.Clone(read)
	slices.SortFunc(all, func(a, b ports.AuditEvent) int { return cmp.Compare(b.Seq, a.Seq) })
	chain, bad := checkChain(all, form.empty())
	d := auditLogData{Filter: form, Chain: chain, AccessReview: AccessReviewPath}
	for _, e := range shown {
		d.Rows = append(d.Rows, auditRow{AuditEvent: e, Broken: e.Seq == bad})
	}
	if len(all) > 0 {
		// The check's range: the page and the event read beyond it.
		d.Chain.First, d.Chain.Last = all[len(all)-1].Seq, all[0].Seq
	}
	if len(shown) > 0 {
		hasOlder, hasNewer := more, cursor != 0
		if newer {
			hasOlder, hasNewer = true, more
		}
		if hasOlder {
			d.Older = auditPageLink(form, "before", shown[len(shown)-1].Seq)
		}
		if hasNewer {
			d.Newer = auditPageLink(form, "after", shown[0].Seq)
		}
	} else if cursor != 0 {
		// An empty page past either end: offer the way back to the newest.
		d.Newer = auditPageLink(form, "", 0)
	}
	d.ExportCSV, d.ExportJSONL = auditExportLink(f, "csv"), auditExportLink(f, "jsonl")
	return d, nil
}

// auditPageLink is the audit log page with the filter and the cursor
// param=seq (none when param is empty).
func auditPageLink(form auditFilterForm, param string, seq int64) string {
	q := form.query()
	if param != "" {
		q.Set(param, strconv.FormatInt(seq, 10))
	}
	if len(q) == 0 {
		return AuditLogPath
	}
	return AuditLogPath + "?" + q.Encode()
}

// auditExportLink is the API's export (GET /audit/export) of the events
// matching f in format, the times in RFC 3339 as the API reads them.
func auditExportLink(f ports.AuditFilter, format string) string {
	q := url.Values{"format": {format}}
	for k, v := range map[string]string{"actor": f.Actor, "action": f.Action, "target": f.Target} {
		if v != "" {
			q.Set(k, v)
		}
	}
	setTimes(q, f.Since, f.Until)
	return "/audit/export?" + q.Encode()
}

func setTimes(q url.Values, since, until time.Time) {
	if !since.IsZero() {
		q.Set("since", since.UTC().Format(time.RFC3339Nano))
	}
	if !until.IsZero() {
		q.Set("until", until.UTC().Format(time.RFC3339Nano))
	}
}

// checkChain checks the hash chain over events (newest first, as read):
// every event with a hash must hash to it (ports.AuditEvent.ChainHash),
// an event without one must not be newer than one with one (a removed
// hash), and, when linked is set (the events are the log's own run, no
// filter), consecutive events must be numbered without gaps and each
// must name the one before it as its PrevHash. It returns the status and
// the seq of the first bad event, oldest first (0 when intact).
//
// It is a check of the events read for one page, not of the whole log:
// a tampered event elsewhere, a truncated tail or a forged checkpoint is
// not seen here; `stockade audit verify` checks those.
func checkChain(events []ports.AuditEvent, linked bool) (chainStatus, int64) {
	st := chainStatus{Intact: true, Linked: linked}
	var bad int64
	fail := func(seq int64, problem string) {
		if bad == 0 || seq < bad {
			bad, st.Seq, st.Problem = seq, seq, problem
		}
		st.Intact = false
	}
	for i, e := range events {
		if e.Hash.IsZero() {
			st.Unhashed++
			for _, newer := range events[:i] {
				if !newer.Hash.IsZero() {
					// An older event has no hash, a newer one has: the chain
					// began before it, so its hash was removed.
					fail(e.Seq, "it has no hash although later events do (its hash was removed)")
					break
				}
			}
			continue
		}
		st.Checked++
		if e.ChainHash() != e.Hash {
			fail(e.Seq, "its stored fields no longer match its hash (edited)")
			continue
		}
		if !linked || i+1 >= len(events) {
			continue
		}
		older := events[i+1]
		switch {
		case older.Seq != e.Seq-1:
			fail(older.Seq+1, fmt.Sprintf("events %d to %d are missing (deleted)", older.Seq+1, e.Seq-1))
		case older.Hash.IsZero():
			if !e.PrevHash.IsZero() {
				fail(older.Seq, "it has no hash although later events do (its hash was removed)")
			}
		case e.PrevHash != older.Hash:
			fail(older.Seq, "the next event no longer links to it (edited, inserted or reordered)")
		}
	}
	return st, bad
}

// accessReviewData is the access review page's data.
type accessReviewData struct {
	Since, Until string // as typed (the form's values)
	Entries      []audit.AccessEntry
	// More is set when the period holds more than AccessReviewShown
	// entries (the export has them all).
	More        bool
	ExportCSV   string
	ExportJSONL string
}

// errEnough stops the access review once the page has what it shows.
var errEnough = errors.New("enough entries for the page")

func (p *Pages) accessReviewPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d := accessReviewData{Since: strings.TrimSpace(q.Get("since")), Until: strings.TrimSpace(q.Get("until"))}
	if _, given := q["since"]; !given {
		d.Since = time.Now().UTC().Add(-AccessReviewDefault).Format(time.DateOnly)
	}
	v := view{Title: "Access review", Form: "period"}
	since, err := parseFormTime("since", d.Since, false)
	var until time.Time
	if err == nil {
		until, err = parseFormTime("until", d.Until, true)
	}
	if err == nil && !since.IsZero() && !until.IsZero() && !since.Before(until) {
		err = ports.Invalid("since", "must be before until")
	}
	if err != nil {
		v.Error, v.FieldErrors = formErrors(err, nil)
		v.Data = d
		p.render(w, r, http.StatusBadRequest, "accessreview", v)
		return
	}
	_, err = p.d.Audit.AccessReview(r.Context(), since, until, func(a audit.AccessEntry) error {
		if len(d.Entries) == AccessReviewShown {
			d.More = true
			return errEnough
		}
		d.Entries = append(d.Entries, a)
		return nil
	})
	if err != nil && !errors.Is(err, errEnough) {
		p.fail(w, r, fmt.Errorf("access review page: %w", err))
		return
	}
	for _, format := range []string{"csv", "jsonl"} {
		eq := url.Values{"format": {format}}
		setTimes(eq, since, until)
		link := "/audit/access-review?" + eq.Encode()
		if format == "csv" {
			d.ExportCSV = link
		} else {
			d.ExportJSONL = link
		}
	}
	v.Data = d
	p.render(w, r, http.StatusOK, "accessreview", v)
}
