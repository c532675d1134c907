package s3

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// stringOrList is an IAM policy field that may be one string or a list.
type stringOrList []string

func (s *stringOrList) UnmarshalJSON(b []byte) error {
	if bytes.HasPrefix(bytes.TrimSpace(b), []byte("[")) {
		var l []string
		if err := json.Unmarshal(b, &l); err != nil {
			return err
		}
		*s = l
		return nil
	}
	var one string
	if err := json.Unmarshal(b, &one); err != nil {
		return err
	}
	*s = stringOrList{one}
	return nil
}

// principal is "*" or {"AWS": …, "CanonicalUser": …, …}.
type principal struct {
	everyone bool
	ids      map[string]stringOrList
}

func (p *principal) UnmarshalJSON(b []byte) error {
	var star string
	if json.Unmarshal(b, &star) == nil {
		p.everyone = star == "*"
		return nil
	}
	return json.Unmarshal(b, &p.ids)
}

// anonymous reports whether p includes every caller, signed or not.
func (p *principal) anonymous() bool {
	if p == nil {
		return false
	}
	if p.everyone {
		return true
	}
	for _, ids := range p.ids {
		for _, id := range ids {
			if id == "*" {
				return true
			}
		}
	}
	return false
}

type statement struct {
	Sid          string       `json:"Sid"`
	Effect       string       `json:"Effect"`
	Principal    *principal   `json:"Principal"`
	NotPrincipal *principal   `json:"NotPrincipal"`
	Action       stringOrList `json:"Action"`
	NotAction    stringOrList `json:"NotAction"`
}

// statements accepts "Statement" as a list or a single object.
type statements []statement

func (s *statements) UnmarshalJSON(b []byte) error {
	if bytes.HasPrefix(bytes.TrimSpace(b), []byte("[")) {
		var l []statement
		if err := json.Unmarshal(b, &l); err != nil {
			return err
		}
		*s = l
		return nil
	}
	var one statement
	if err := json.Unmarshal(b, &one); err != nil {
		return err
	}
	*s = statements{one}
	return nil
}

// anonymousGrants returns a description of every statement of the bucket
// policy document that allows something to anyone: an Allow whose
// Principal includes "*", or any Allow with a NotPrincipal (everyone but
// a few). Conditions are not evaluated: a public grant narrowed by, say, a
// source-IP condition is still reported, since Stockade's objects are
// never meant to be reachable without a signature. A policy that cannot be
// parsed is an error, so it is never waved through.
func anonymousGrants(policy string) ([]string, error) {
	if strings.TrimSpace(policy) == "" {
		return nil, nil
	}
	var doc struct {
		Statement statements `json:"Statement"`
	}
	if err := json.Unmarshal([]byte(policy), &doc); err != nil {
		return nil, fmt.Errorf("parse bucket policy: %w", err)
	}
	var grants []string
	for _, st := range doc.Statement {
		if !strings.EqualFold(st.Effect, "Allow") {
			continue
		}
		if !st.Principal.anonymous() && st.NotPrincipal == nil {
			continue
		}
		actions := append([]string(nil), st.Action...)
		for _, a := range st.NotAction {
			actions = append(actions, "NotAction:"+a)
		}
		who := "Principal *"
		if st.NotPrincipal != nil {
			who = "NotPrincipal (everyone else)"
		}
		desc := fmt.Sprintf("Allow %s %s", who, strings.Join(actions, ","))
		if st.Sid != "" {
			desc = st.Sid + ": " + desc
		}
		grants = append(grants, desc)
	}
	return grants, nil
}
