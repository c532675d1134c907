// Package pan finds what looks like a payment card number (a PAN) in
// text, for tests that prove card data never reaches a request, a log
// line or a store (BIL-1).
package pan

import "regexp"

var (
	// runs are unbroken runs of digits; Find keeps those of 13 to 19.
	runs = regexp.MustCompile(`\d+`)
	// grouped are card numbers written in groups of four (an Amex's
	// 4-6-5 too), separated by one space or dash, not themselves part of a
	// longer dash-separated chain (a UUID).
	grouped  = regexp.MustCompile(`(?:^|[^0-9-])(\d{4}([ -])\d{4}([ -])\d{4}([ -])\d{1,7}|\d{4}([ -])\d{6}([ -])\d{5})(?:[^0-9-]|$)`)
	nonDigit = regexp.MustCompile(`\D`)
)

// Find returns what looks like a card number in s: a run of 13 to 19
// digits, unbroken or written in groups, whose first digit is a payment
// card's major industry identifier (2 to 6: Mastercard, Amex, Diners,
// JCB, Visa, Discover, UnionPay) and which passes the Luhn check. The
// first-digit rule keeps millisecond and microsecond Unix times (which
// start with 1) from counting.
func Find(s string) []string {
	var out []string
	for _, run := range runs.FindAllString(s, -1) {
		if cardLike(run) {
			out = append(out, run)
		}
	}
	for _, m := range grouped.FindAllStringSubmatch(s, -1) {
		if cardLike(nonDigit.ReplaceAllString(m[1], "")) {
			out = append(out, m[1])
		}
	}
	return out
}

func cardLike(d string) bool {
	return len(d) >= 13 && len(d) <= 19 && d[0] >= '2' && d[0] <= '6' && Luhn(d)
}

// Luhn reports whether the ASCII digits pass the Luhn (mod 10) check.
func Luhn(digits string) bool {
	if digits == "" {
		return false
	}
	sum, double := 0, false
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if d < 0 || d > 9 {
			return false
		}
		if double {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}
