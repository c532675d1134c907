package messaging

import (
	"slices"
	"strings"
	"unicode"
)

// Keyword is what an inbound SMS asks for (MSG-3).
type Keyword int

// The keywords.
const (
	// KeywordNone: an ordinary message; consent is unchanged.
	KeywordNone Keyword = iota
	// KeywordOptOut: STOP and its family, or a clear free-text request
	// to stop; withdraws SMS and marketing consent.
	KeywordOptOut
	// KeywordOptIn: START, UNSTOP or YES; restores them.
	KeywordOptIn
	// KeywordHelp: HELP or INFO; answered with the shop's help text.
	KeywordHelp
)

func (k Keyword) String() string {
	return [...]string{"none", "opt-out", "opt-in", "help"}[k]
}

// The single-word keywords: Twilio's default lists (its opt-out list adds
// REVOKE and OPTOUT, which the FCC's 2024 revocation rule names, as does
// CTIA's "OPT OUT"), plus ARRET, the French opt-out Canadian carriers
// honour.
var (
	optOutWords = []string{"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout", "arret"}
	optInWords  = []string{"start", "unstop", "yes"}
	helpWords   = []string{"help", "info"}
)

// courtesy words may surround a keyword without changing what it asks:
// "STOP please", "stop it", "Stop texting me!", "please unsubscribe me".
var courtesy = []string{
	"please", "pls", "plz", "now", "it", "all", "me", "thanks", "thank", "you", "thx", "ty", "ok", "okay",
	"texting", "texts", "text", "txt", "txts", "txting", "messaging", "messages", "message", "msgs", "msg", "sms",
	"sending", "contacting", "these", "this", "them", "immediately", "asap", "already", "just",
}

// messageNouns are what a free-text opt-out asks to stop receiving.
var messageNouns = []string{"texts", "text", "txts", "txt", "messages", "message", "msgs", "msg", "sms", "these", "marketing", "promotions", "ads", "spam"}

// negations before a keyword turn it around: "don't stop", "never
// unsubscribe".
var negations = []string{"don't", "dont", "do not", "not", "never", "won't", "wont", "didn't", "didnt", "doesn't", "shouldn't"}

// Classify reads an inbound SMS (MSG-3). A message that is one keyword,
// whatever its case, surrounding whitespace and punctuation, and optional
// courtesy words ("STOP please", "stop texting me"), is that keyword; so is
// a sentence of its own that is STOP, STOPALL, UNSUBSCRIBE or OPT OUT
// ("Third text today. STOP!"). Among longer messages only clear requests
// to stop count as opt-outs: "please stop texting me", "take me off your
// list", "remove me from this list", "do not text me", "no more texts",
// "unsubscribe me from these"; a sentence that merely contains "stop",
// "end" or "cancel" ("I'll stop by at 5", "I need to cancel my
// appointment", "don't stop the reminders") is not. Opt-in and help must
// be the keyword alone: "yes I'll be there" confirms an appointment, it
// does not re-subscribe.
func Classify(body string) Keyword {
	words := joinPhrases(tokens(body))
	if len(words) == 0 {
		return KeywordNone
	}
	if len(words) == 1 {
		switch w := words[0]; {
		case slices.Contains(optOutWords, w):
			return KeywordOptOut
		case slices.Contains(optInWords, w):
			return KeywordOptIn
		case slices.Contains(helpWords, w):
			return KeywordHelp
		}
	}
	if allOptOut(withoutCourtesy(words)) {
		return KeywordOptOut // "OPT OUT", "STOP please", "stop it!!", "STOP STOP"
	}
	for _, sentence := range strings.FieldsFunc(body, func(r rune) bool { return strings.ContainsRune(".!?;\n", r) }) {
		core := withoutCourtesy(joinPhrases(tokens(sentence)))
		if len(core) == 1 && slices.Contains(definite, core[0]) {
			return KeywordOptOut
		}
	}
	if freeTextOptOut(words) {
		return KeywordOptOut
	}
	return KeywordNone
}

// definite keywords opt out even as one sentence of a longer message; the
// others (END, CANCEL, QUIT, …) are ordinary words in conversation.
var definite = []string{"stop", "stopall", "unsubscribe", "optout"}

func allOptOut(words []string) bool {
	if len(words) == 0 {
		return false
	}
	for _, w := range words {
		if !slices.Contains(optOutWords, w) {
			return false
		}
	}
	return true
}

// tokens lower-cases body and splits it into words of letters, digits and
// apostrophes; everything else (punctuation, emoji, whitespace) separates.
func tokens(body string) []string {
	body = strings.ToLower(strings.ReplaceAll(body, "’", "'"))
	f := strings.FieldsFunc(body, func(r rune) bool {
		return !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '\'')
	})
	out := f[:0]
	for _, w := range f {
		if w = strings.Trim(w, "'"); w != "" {
			out = append(out, w)
		}
	}
	return out
}

// joinPhrases merges the two-word forms of one keyword ("opt out",
// "stop all", "un subscribe") into it, and "do not" into one token.
func joinPhrases(words []string) []string {
	var out []string
	for i := 0; i < len(words); i++ {
		if i+1 < len(words) {
			if joined, ok := phrases[words[i]+" "+words[i+1]]; ok {
				out = append(out, joined)
				i++
				continue
			}
		}
		out = append(out, words[i])
	}
	return out
}

var phrases = map[string]string{"opt out": "optout", "stop all": "stopall", "un subscribe": "unsubscribe", "do not": "do not"}

func withoutCourtesy(words []string) []string {
	var out []string
	for _, w := range words {
		if !slices.Contains(courtesy, w) {
			out = append(out, w)
		}
	}
	return out
}

// freeTextOptOut finds a clear request to stop in a longer message.
func freeTextOptOut(w []string) bool {
	has := func(i int, seq ...string) bool {
		if i+len(seq) > len(w) {
			return false
		}
		for j, s := range seq {
			if !slices.Contains(strings.Split(s, "|"), w[i+j]) {
				return false
			}
		}
		return true
	}
	nouns := strings.Join(messageNouns, "|")
	for i := range w {
		if negated(w, i) {
			continue
		}
		switch {
		// "stop texting/messaging/contacting (me)", "quit texting me"
		case has(i, "stop|quit|cease", "texting|txting|messaging|contacting|spamming"):
			return true
		// "stop sending (me) texts/these/messages"
		case has(i, "stop|quit|cease", "sending", "me|us", nouns+"|this"),
			has(i, "stop|quit|cease", "sending", nouns):
			return true
		// "stop the texts", "end these messages", "cancel my subscription"
		case has(i, "stop|end|cancel|quit", "the|these|your|all|this|my|those", nouns+"|subscription|alerts"):
			return true
		// "unsubscribe me", "opt me out", "how do I unsubscribe"
		case w[i] == "unsubscribe" || w[i] == "optout", has(i, "opt", "me", "out"):
			return true
		// "remove me from your list", "take me off the list", "delete my number"
		case has(i, "remove|delete|take|drop", "me|us", "from|off"),
			has(i, "remove|delete|take|drop", "my", "number|phone|cell|name|info"):
			return true
		// "do not text me", "don't message us", "dont text"
		case has(i, "do not|don't|dont", "text|txt|message|contact|sms|msg", "me|us|this|again|anymore|number"),
			has(i, "do not|don't|dont", "text|txt|message|contact|sms|msg") && i+2 == len(w):
			return true
		// "no more texts", "no more messages please"
		case has(i, "no", "more", nouns):
			return true
		// "leave me alone", "lose my number"
		case has(i, "leave", "me", "alone"), has(i, "lose", "my", "number"):
			return true
		}
	}
	return false
}

// fillers may stand between a negation and what it negates: "don't want
// you to stop", "never ever unsubscribe".
var fillers = []string{"want", "you", "to", "ever", "please", "i", "we", "u", "need", "ya", "wanna", "going", "gonna"}

// negated reports whether w[i] is negated: the nearest word before it that
// is not a filler, within four words, is a negation ("don't stop", "I do
// not want to unsubscribe"; but "Not interested, stop texting me" asks to
// stop).
func negated(w []string, i int) bool {
	for j := i - 1; j >= max(0, i-4); j-- {
		switch {
		case slices.Contains(negations, w[j]):
			return true
		case !slices.Contains(fillers, w[j]):
			return false
		}
	}
	return false
}
