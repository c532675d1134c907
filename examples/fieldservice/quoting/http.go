package quoting

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/stockadehq/stockade/app/httpapi"
	"github.com/stockadehq/stockade/ports"
)

// CustomerInput is the body of POST /customers.
type CustomerInput struct {
	Name string `json:"name"`
}

// QuoteInput is the body of POST /quotes.
type QuoteInput struct {
	CustomerID string `json:"customer_id"`
	Title      string `json:"title"`
	Cents      int64  `json:"cents"`
}

// Routes are the app's HTTP routes, registered with Stockade's router so
// that each gets its guards (CSRF, the shop from the host, the session,
// the permission, the HQ copy) and appears in its route list:
//
//	POST /customers       QuotesWrite   {"name"}            201 Customer
//	POST /quotes          QuotesWrite   {"customer_id", "title", "cents"}
//	                                                        201 Quote (HQ too)
//	GET  /quotes/{quote}  QuotesRead                        200 Quote (HQ too)
//
// The use cases check the same permissions again: the router's check is
// the floor, not the only guard.
func Routes(q *Quotes) []httpapi.AppRoute {
	return []httpapi.AppRoute{
		{Method: http.MethodPost, Path: "/customers", Permission: QuotesWrite, Body: CustomerInput{},
			Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				var in CustomerInput
				if !decode(w, r, &in) {
					return
				}
				c, err := q.AddCustomer(r.Context(), in.Name)
				answer(w, r, http.StatusCreated, c, err)
			})},
		{Method: http.MethodPost, Path: "/quotes", Permission: QuotesWrite, HQ: true, Body: QuoteInput{},
			Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				var in QuoteInput
				if !decode(w, r, &in) {
					return
				}
				qt, err := q.Create(r.Context(), NewQuote(in))
				answer(w, r, http.StatusCreated, qt, err)
			})},
		{Method: http.MethodGet, Path: "/quotes/{quote}", Permission: QuotesRead, HQ: true,
			Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				qt, err := q.Get(r.Context(), r.PathValue("quote"))
				answer(w, r, http.StatusOK, qt, err)
			})},
	}
}

// LinkRoute is the quote's public page, GET /p/quotes/{quote}: a "view"
// link's holder sees that quote, on its shop's host only.
func LinkRoute(q *Quotes) httpapi.LinkRoute {
	return httpapi.LinkRoute{
		Method: http.MethodGet, Path: "/p/quotes/{quote}", RecordType: QuoteRecord, RecordParam: "quote", Action: "view",
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			qt, err := q.ViewByLink(r.Context(), r.PathValue("quote"))
			answer(w, r, http.StatusOK, qt, err)
		}),
	}
}

// decode reads r's JSON body into v (unknown fields refused), answering a
// 400 problem and false when it cannot.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		httpapi.WriteProblem(w, r, ports.Invalid("body", fmt.Sprintf("not the expected JSON object: %v", err)))
		return false
	}
	return true
}

// answer writes v as JSON with status, or err as a problem.
func answer(w http.ResponseWriter, r *http.Request, status int, v any, err error) {
	if err != nil {
		httpapi.WriteProblem(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the status is sent; a failed write is the client's
}
