package audit

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/stockadehq/stockade/ports"
)

// Record is an audit event as Stockade shows it to readers: the JSON shape
// of the HTTP answers and of the JSON Lines export. Hashes are lower-case
// hex; Before and After are the stored JSON, verbatim.
type Record struct {
	Seq          int64           `json:"seq"`
	ID           string          `json:"id"`
	Time         time.Time       `json:"time"`
	Actor        string          `json:"actor"`
	Impersonator string          `json:"impersonator,omitempty"`
	Action       string          `json:"action"`
	Target       string          `json:"target,omitempty"`
	Outcome      ports.Outcome   `json:"outcome"`
	Before       json.RawMessage `json:"before,omitempty"`
	After        json.RawMessage `json:"after,omitempty"`
	IP           string          `json:"ip,omitempty"`
	UserAgent    string          `json:"user_agent,omitempty"`
	RequestID    string          `json:"request_id,omitempty"`
	PrevHash     string          `json:"prev_hash,omitempty"`
	Hash         string          `json:"hash,omitempty"`
}

// RecordOf returns e as a Record.
func RecordOf(e ports.AuditEvent) Record {
	r := Record{
		Seq: e.Seq, ID: e.ID.String(), Time: e.Time.UTC(), Actor: e.Actor, Impersonator: e.Impersonator,
		Action: e.Action, Target: e.Target, Outcome: e.Outcome, Before: e.Before, After: e.After,
		IP: e.IP, UserAgent: e.UserAgent, RequestID: e.RequestID,
	}
	if !e.PrevHash.IsZero() {
		r.PrevHash = e.PrevHash.String()
	}
	if !e.Hash.IsZero() {
		r.Hash = e.Hash.String()
	}
	return r
}

// Encoder writes exported events in one format. Encode writes one event;
// Close flushes what is buffered (it does not close the underlying
// writer).
type Encoder interface {
	Format() string
	Encode(e ports.AuditEvent) error
	Close() error
}

// Export formats.
const (
	FormatJSONLines = "jsonl"
	FormatCSV       = "csv"
)

// NewEncoder returns the Encoder for format (FormatJSONLines or
// FormatCSV) over w; ErrInvalid for another format.
func NewEncoder(format string, w io.Writer) (Encoder, error) {
	switch format {
	case FormatJSONLines:
		return newJSONLines(w), nil
	case FormatCSV:
		return newCSV(w), nil
	}
	return nil, ports.Invalid("format", `must be "jsonl" or "csv"`)
}

// jsonLines writes one Record per line (JSON Lines): the faithful export,
// from which the hash chain can be re-verified.
type jsonLines struct {
	buf *bufio.Writer
	enc *json.Encoder
}

func newJSONLines(w io.Writer) *jsonLines {
	buf := bufio.NewWriter(w)
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	return &jsonLines{buf: buf, enc: enc}
}

func (j *jsonLines) Format() string                  { return FormatJSONLines }
func (j *jsonLines) Encode(e ports.AuditEvent) error { return j.enc.Encode(RecordOf(e)) }
func (j *jsonLines) Close() error                    { return j.buf.Flush() }

// csvColumns are the export's CSV header, in order.
var csvColumns = []string{"seq", "id", "time", "actor", "impersonator", "action", "target", "outcome",
	"before", "after", "ip", "user_agent", "request_id", "prev_hash", "hash"}

// csvWriter writes a header and one row per event, for spreadsheets. A
// cell that a spreadsheet would run as a formula (starting with =, +, -,
// @, tab or carriage return) is prefixed with a single quote (OWASP "CSV
// injection"); such a cell no longer hashes to the chain, so re-verify from
// the JSON Lines export.
type csvWriter struct {
	w      *csv.Writer
	header bool
}

func newCSV(w io.Writer) *csvWriter { return &csvWriter{w: csv.NewWriter(w)} }

func (c *csvWriter) Format() string { return FormatCSV }

func (c *csvWriter) Encode(e ports.AuditEvent) error {
	if !c.header {
		if err := c.w.Write(csvColumns); err != nil {
			return err
		}
		c.header = true
	}
	r := RecordOf(e)
	row := []string{strconv.FormatInt(r.Seq, 10), r.ID, r.Time.Format(time.RFC3339Nano), r.Actor, r.Impersonator,
		r.Action, r.Target, string(r.Outcome), string(r.Before), string(r.After), r.IP, r.UserAgent, r.RequestID,
		r.PrevHash, r.Hash}
	for i, cell := range row {
		row[i] = neutralise(cell)
	}
	if err := c.w.Write(row); err != nil {
		return fmt.Errorf("csv: %w", err)
	}
	return nil
}

func (c *csvWriter) Close() error {
	if !c.header { // an empty export still names its columns
		if err := c.w.Write(csvColumns); err != nil {
			return err
		}
		c.header = true
	}
	c.w.Flush()
	return c.w.Error()
}

// neutralise defuses a cell a spreadsheet would evaluate as a formula.
func neutralise(cell string) string {
	if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
		return "'" + cell
	}
	return cell
}
