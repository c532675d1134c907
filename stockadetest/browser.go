package stockadetest

import (
	"testing"

	"github.com/stockadehq/stockade/internal/smtptest"
	"github.com/stockadehq/stockade/internal/testinfra"
)

// Browser is a headless Chromium started for one test (StartBrowser):
// its WebSocketURL is the DevTools endpoint for a client such as
// github.com/chromedp/chromedp (remote.NewAllocator).
type Browser = testinfra.Chromium

// StartBrowser starts a headless Chromium for t, stopped when t ends, so
// that an app's tests drive its pages and Stockade's in a real browser:
// the binary named by STOCKADE_TEST_CHROMIUM_BIN, else /usr/bin/chromium
// (Debian's chromium package). hostRules, when not empty, is Chromium's
// --host-resolver-rules; "MAP *.localhost 127.0.0.1" resolves every
// shop's host to loopback. Without the binary the test skips with the
// reason and how to get it, or fails under
// STOCKADE_REQUIRE_INTEGRATION=1. The test binary's TestMain must route
// through Main.
func StartBrowser(t testing.TB, hostRules string) Browser {
	t.Helper()
	return testinfra.StartChromium(t, hostRules)
}

// MailServer is an SMTP server in the test process that keeps every
// message it accepts (WaitForMessages, Messages; a message's Parse gives
// its subject and text), for tests of the mail Stockade sends: point the
// configuration at it with app.EmailConfig{Provider: "smtp", SMTPHost:
// "127.0.0.1", SMTPPort: s.Port(), SMTPTLS: "none"}.
type MailServer = smtptest.Server

// MailOptions configure StartMailServer (STARTTLS, authentication).
type MailOptions = smtptest.Options

// StartMailServer starts a MailServer on a loopback port, stopped when t
// ends.
func StartMailServer(t testing.TB, o MailOptions) *MailServer {
	t.Helper()
	return smtptest.Start(t, o)
}
