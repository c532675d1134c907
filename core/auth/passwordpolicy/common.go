package passwordpolicy

import (
	_ "embed" // the common-password list
	"strings"
)

// commonPasswords is the shipped list: one lower-cased password per line,
// most frequent first. Source and licence: README.md beside this file.
//
//go:embed common_passwords.txt
var commonPasswords string

// commonSet builds a fresh lookup set from the embedded list. Its keys are
// substrings of the embedded text, so only the map itself is allocated.
func commonSet() map[string]struct{} {
	set := make(map[string]struct{}, strings.Count(commonPasswords, "\n"))
	for line := range strings.SplitSeq(commonPasswords, "\n") {
		if line != "" {
			set[line] = struct{}{}
		}
	}
	return set
}
