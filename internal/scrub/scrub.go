// Package scrub removes secrets from messages (errors, logs) without
// garbling the text around them.
package scrub

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Secret replaces with mask each occurrence of secret in msg that is not
// part of a longer word: an occurrence whose first (last) rune is a letter
// or digit must not follow (precede) a letter or digit. So the password
// component of "app:b@db" and a quoted "b" go, but the "b" of
// "sslmode=disable" stays: a short password would otherwise garble every
// word it occurs in ("disaxxxxxle"), and a word that merely contains the
// password does not reveal it. An empty secret changes nothing.
func Secret(msg, secret, mask string) string {
	if secret == "" {
		return msg
	}
	first, firstSize := utf8.DecodeRuneInString(secret)
	last, _ := utf8.DecodeLastRuneInString(secret)
	var b strings.Builder
	done := 0 // msg[:done] is in b
	for from := 0; from < len(msg); {
		i := strings.Index(msg[from:], secret)
		if i < 0 {
			break
		}
		start, end := from+i, from+i+len(secret)
		before, _ := utf8.DecodeLastRuneInString(msg[:start])
		after, _ := utf8.DecodeRuneInString(msg[end:])
		if (isWordRune(first) && start > 0 && isWordRune(before)) || (isWordRune(last) && end < len(msg) && isWordRune(after)) {
			from = start + firstSize // inside a longer word: not the password
			continue
		}
		b.WriteString(msg[done:start])
		b.WriteString(mask)
		done, from = end, end
	}
	if done == 0 {
		return msg
	}
	b.WriteString(msg[done:])
	return b.String()
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }
