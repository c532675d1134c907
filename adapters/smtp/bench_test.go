package smtp_test

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stockadehq/stockade/adapters/smtp"
	"github.com/stockadehq/stockade/internal/smtptest"
	"github.com/stockadehq/stockade/ports"
)

// BenchmarkSendEmail measures SendEmail to the in-process SMTP server over
// STARTTLS with AUTH PLAIN: with connections kept (the default), with one
// connection per message, and from 8 goroutines at once.
func BenchmarkSendEmail(b *testing.B) {
	for _, bc := range []struct {
		name     string
		maxIdle  int
		parallel bool
	}{
		{"pooled", 0, false},
		{"conn-per-message", -1, false},
		{"pooled-8-goroutines", 8, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			srv := smtptest.Start(b, smtptest.Options{TLS: true, RequireTLS: true, Username: "mailer", Password: "pw"})
			s, err := smtp.New(smtp.Config{
				Host: srv.Host(), Port: srv.Port(), Username: "mailer", Password: "pw",
				RootCAs: srv.RootCAs(), Timeout: 10 * time.Second, MaxIdle: bc.maxIdle,
			})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			ctx := context.Background()
			var n atomic.Int64
			send := func() {
				m := ports.Email{
					From: "Bob <hello@bobs.example.test>", To: "ada@example.test", Subject: "Your quote",
					Text: "Hi Ada, your quote is ready.", HTML: "<p>Hi Ada, your quote is ready.</p>",
					Headers: map[string]string{
						"List-Unsubscribe":      "<https://bobs.example.test/u/tok>",
						"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
					},
					IdempotencyKey: fmt.Sprintf("bench-%d", n.Add(1)),
				}
				if _, err := s.SendEmail(ctx, m); err != nil {
					b.Error(err)
				}
			}
			b.ResetTimer()
			start := time.Now()
			if bc.parallel {
				b.SetParallelism(max(1, 8/runtime.GOMAXPROCS(0))) // 8 goroutines in all
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						send()
					}
				})
			} else {
				for b.Loop() {
					send()
				}
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
			b.StopTimer()
			if got := len(srv.Messages()); got != b.N {
				b.Fatalf("server has %d messages, want %d", got, b.N)
			}
		})
	}
}
