package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"strings"

	"github.com/stockadehq/stockade/ports"
)

// maxJSONBody bounds a JSON request body.
const maxJSONBody = 64 << 10

// decodeJSON reads r's body, which must be one JSON object of at most
// maxJSONBody bytes sent as application/json, into v, refusing unknown
// fields. Every refusal matches ports.ErrInvalid.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	probeBody(r, v)
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return ports.Invalid("content-type", "must be application/json")
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxJSONBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return ports.Invalid("body", fmt.Sprintf("must be at most %d bytes", maxJSONBody))
		}
		if errors.Is(err, os.ErrDeadlineExceeded) { // the server's read timeout
			return fmt.Errorf("the body did not arrive in time: %w", errTooSlow)
		}
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		if !errors.As(err, &syn) && !errors.As(err, &typ) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) && !strings.HasPrefix(err.Error(), "json: ") {
			return ports.Invalid("body", "could not be read")
		}
		return ports.Invalid("body", "is not the expected JSON object: "+err.Error())
	}
	if _, err := dec.Token(); err != io.EOF {
		return ports.Invalid("body", "must hold exactly one JSON object")
	}
	return nil
}
