package messaging_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/stockadehq/stockade/core/messaging"
)

// TestClassify is MSG-3's table. The keywords come from the carriers'
// published lists: Twilio's default opt-out (STOP, STOPALL, UNSUBSCRIBE,
// CANCEL, END, QUIT, REVOKE, OPTOUT), opt-in (START, YES, UNSTOP) and help
// (HELP, INFO) keywords; CTIA's Messaging Principles (STOP, QUIT, END,
// REVOKE, OPT OUT, CANCEL, UNSUBSCRIBE; HELP; START); the FCC's 2024
// revocation rule (47 CFR 64.1200(a)(10): "stop, quit, end, revoke, opt
// out, cancel, or unsubscribe"); and ARRET, the French opt-out Canadian
// carriers honour. Around them: the case, whitespace, punctuation and
// courtesy words people add, clear free-text opt-outs, and ordinary
// sentences that merely contain a keyword.
func TestClassify(t *testing.T) {
	const (
		none   = messaging.KeywordNone
		optOut = messaging.KeywordOptOut
		optIn  = messaging.KeywordOptIn
		help   = messaging.KeywordHelp
	)
	tests := []struct {
		give string
		want messaging.Keyword
	}{
		// Twilio's and CTIA's opt-out keywords, as sent.
		{"STOP", optOut},
		{"STOPALL", optOut},
		{"UNSUBSCRIBE", optOut},
		{"CANCEL", optOut},
		{"END", optOut},
		{"QUIT", optOut},
		{"REVOKE", optOut},
		{"OPTOUT", optOut},
		{"OPT OUT", optOut},
		{"ARRET", optOut},
		// Case, whitespace, punctuation.
		{"stop", optOut},
		{"Stop", optOut},
		{"sToP", optOut},
		{"  STOP  ", optOut},
		{"\tstop\n", optOut},
		{"STOP.", optOut},
		{"Stop!!!", optOut},
		{"\"STOP\"", optOut},
		{"STOP 🛑", optOut},
		{"...unsubscribe...", optOut},
		{"Opt-Out", optOut},
		{"opt-out.", optOut},
		{"Stop all", optOut},
		{"end.", optOut},
		{"Quit!", optOut},
		{"Revoke", optOut},
		// Keywords with courtesy words.
		{"STOP please", optOut},
		{"Please stop", optOut},
		{"stop it", optOut},
		{"STOP NOW!", optOut},
		{"Stop, thanks", optOut},
		{"Unsubscribe me please", optOut},
		{"stop stop stop", optOut},
		{"Cancel please", optOut},
		// Clear free-text opt-outs.
		{"Please stop texting me", optOut},
		{"stop texting me", optOut},
		{"Can you stop sending me these messages?", optOut},
		{"Stop sending me texts", optOut},
		{"Take me off your list", optOut},
		{"remove me from this list", optOut},
		{"Please remove my number", optOut},
		{"Do not text me again", optOut},
		{"don't text me", optOut},
		{"No more texts please", optOut},
		{"How do I unsubscribe?", optOut},
		{"opt me out", optOut},
		{"Leave me alone", optOut},
		{"Not interested. Stop texting me.", optOut},
		{"This is the third text today. STOP!", optOut},
		{"I want to cancel my subscription", optOut},
		{"quit messaging me", optOut},
		{"Lose my number", optOut},
		// Opt-in keywords.
		{"START", optIn},
		{"start", optIn},
		{"UNSTOP", optIn},
		{"Yes", optIn},
		{"YES!", optIn},
		{" Start. ", optIn},
		// Help keywords.
		{"HELP", help},
		{"help?", help},
		{"INFO", help},
		{"Info", help},
		// Ordinary messages that merely contain a keyword.
		{"I'll stop by the shop at 5", none},
		{"Can you stop at the store on the way?", none},
		{"Is there a bus stop near you?", none},
		{"Don't stop the reminders, they help!", none},
		{"I don't want you to stop texting me", none},
		{"I need to cancel my appointment", none},
		{"Cancel my 3pm appointment please", none},
		{"When does the sale end?", none},
		{"At the end of the day works", none},
		{"Please don't unsubscribe me", none},
		{"I quit my job so I can come by anytime", none},
		{"Non-stop rain here, can we reschedule?", none},
		{"Yes I'll be there", none},
		{"yes please, 10am works", none},
		{"Start the work on Monday?", none},
		{"I need help with my order", none},
		{"More info on the water heater please", none},
		{"Thanks!", none},
		{"", none},
		{"   ", none},
		{"👍", none},
		{"STOPPED by earlier, nobody was home", none},
		{"Please send me the invoice", none},
	}
	if len(tests) < 60 {
		t.Fatalf("MSG-3 asks for at least 60 messages, the table has %d", len(tests))
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, messaging.Classify(tt.give), "Classify(%q)", tt.give)
	}
}
