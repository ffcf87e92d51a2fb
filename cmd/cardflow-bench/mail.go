package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"cardflow/mail/smtpfake"
)

// benchMail runs the native storefront twice, each on a fresh data
// directory: without buyer mails, then with a mail of order.delivered to
// every buyer through an SMTP server on loopback in this process. Mail must
// never slow orders: the second run's accepted orders/s is set beside the
// first's (target ≥ 90%).
func benchMail(ctx context.Context, o benchOptions) int {
	sink, err := smtpfake.Start(smtpfake.Options{Security: smtpfake.None, Discard: true})
	if err != nil {
		fmt.Fprintf(os.Stderr, "cardflow bench: mail server: %v\n", err)
		return 1
	}
	defer sink.Close()
	var reports [2]benchReport
	code := 0
	for i, on := range []bool{false, true} {
		one := o
		if on {
			one.mailSink = sink
		}
		if o.dir != "" {
			one.dir = filepath.Join(o.dir, map[bool]string{false: "mail-off", true: "mail-on"}[on])
		}
		rep, err := runBench(ctx, one)
		fmt.Fprintln(os.Stderr)
		if err != nil {
			fmt.Fprintf(os.Stderr, "cardflow bench: mail %v: %v\n", on, err)
			return 1
		}
		fmt.Printf("mail %s:\n", map[bool]string{false: "off", true: "on"}[on])
		rep.print(one)
		if rep.failed(one) || (on && rep.mail.received < rep.Accepted) {
			code = 1
		}
		reports[i] = rep
	}
	off, on := reports[0].AcceptedPerSecond(), reports[1].AcceptedPerSecond()
	share := on / max(off, 1)
	verdict := "meets"
	if share < 0.9 {
		verdict = "misses"
	}
	fmt.Printf("summary: with buyer mails %.0f accepted/s, without %.0f: %.2f of it (target ≥ 0.90, %s); delivered/s %.0f vs %.0f\n",
		on, off, share, verdict, reports[1].DeliveredPerSecond(), reports[0].DeliveredPerSecond())
	return code
}

// mailFigures are the mails of a run with mail on.
type mailFigures struct {
	received   int
	distinct   int
	sessions   int
	sinceFirst time.Duration // first order sent to last mail received
	heldDown   bool          // -mail-down: the server came up after the orders
	drain      time.Duration // -mail-down: server up to last mail received
}

func (m *mailFigures) print() {
	fmt.Printf("  mail       %8.0f mails/s     (received %d, %d distinct, over %d SMTP connections; last %v after the first order)\n",
		float64(m.received)/max(m.sinceFirst.Seconds(), 1e-9), m.received, m.distinct, m.sessions, m.sinceFirst.Round(time.Millisecond))
	if m.heldDown {
		fmt.Printf("  mail burst %8.0f mails/s     (%d mails queued while the SMTP server was down, drained %v after it came up)\n",
			float64(m.distinct)/max(m.drain.Seconds(), 1e-9), m.distinct, m.drain.Round(time.Millisecond))
	}
}

// mailClock times the mails of a run.
type mailClock struct {
	sink  *smtpfake.Server
	down  bool
	start time.Time
}

// startMailClock starts timing when the load starts (and takes the server
// down for -mail-down); it does nothing for a run without mail.
func startMailClock(o benchOptions) *mailClock {
	if o.mailSink == nil {
		return nil
	}
	if o.mailDown {
		o.mailSink.Down()
	}
	return &mailClock{sink: o.mailSink, down: o.mailDown, start: time.Now()}
}

// wait brings the server up (-mail-down) and waits until a mail per
// accepted order has arrived, or two minutes have passed.
func (c *mailClock) wait(ctx context.Context, rep *benchReport) error {
	if c == nil {
		return nil
	}
	m := &mailFigures{heldDown: c.down}
	up := time.Now()
	if c.down {
		if err := c.sink.Up(); err != nil {
			return fmt.Errorf("mail server up: %w", err)
		}
	}
	deadline := time.Now().Add(2 * time.Minute)
	for c.sink.Distinct() < rep.Accepted && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
	end := time.Now()
	m.received, m.distinct, m.sessions = c.sink.Received(), c.sink.Distinct(), c.sink.Sessions()
	m.sinceFirst, m.drain = end.Sub(c.start), end.Sub(up)
	rep.mail = m
	return nil
}
