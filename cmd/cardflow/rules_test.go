package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"cardflow/internal/storefront"
	"cardflow/internal/testkit"
)

const ruleConfig = `
[[rules]]
name = "big"
when = %q
action = "review"
`

// TestSighupReloadsRulesAndRefusesABrokenFile runs the real binary: a rule
// holds large orders; a config with a typo is refused on SIGHUP (the old
// rule stays, the log says why); a good one takes effect.
func TestSighupReloadsRulesAndRefusesABrokenFile(t *testing.T) {
	if testing.Short() {
		t.Skip("drives the real binary")
	}
	s := newService(t, fmt.Sprintf(ruleConfig, "order.amount > 50"))
	original, err := os.ReadFile(s.config)
	if err != nil {
		t.Fatal(err)
	}
	p := s.start(t)
	client := s.client()
	n := 0
	status := func() string {
		n++
		o, _, err := client.Create(context.Background(), storefront.NewOrder{ExternalID: fmt.Sprintf("R-%d", n), SKU: "qb-10",
			Quantity: 1, Amount: "60.00", Buyer: storefront.Buyer{ID: fmt.Sprintf("b-%d", n)}})
		if err != nil {
			t.Fatal(err)
		}
		return o.Status
	}
	if st := status(); st != "review" {
		t.Fatalf("a ¥60 order is %s under order.amount > 50", st)
	}
	rewrite := func(when string) {
		cfg := strings.Replace(string(original), "order.amount > 50", when, 1)
		if err := os.WriteFile(s.config, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
	}
	rewrite("order.amout > 50")
	testkit.EventuallyWithin(t, 10*time.Second, "the refused reload in the log", func() bool {
		return strings.Contains(p.logs(), "rules not reloaded")
	})
	if !strings.Contains(p.logs(), "order has no field amout") {
		t.Errorf("the log does not say why:\n%s", p.logs())
	}
	if st := status(); st != "review" {
		t.Fatalf("after a refused reload a ¥60 order is %s: the old rule must stay", st)
	}
	rewrite("order.amount > 70")
	testkit.EventuallyWithin(t, 10*time.Second, "the new rule", func() bool { return status() != "review" })
	p.interrupt(t)
}

func TestCheckReportsARuleThatDoesNotCompileOnItsLine(t *testing.T) {
	s := newService(t, fmt.Sprintf(ruleConfig, "buyer.orders_1hour >= 5"))
	code, out := runBinary(t, s.env, "check", "-config", s.config)
	if code == 0 || !strings.Contains(out, `rules[0].when: rule "big" does not compile`) ||
		!strings.Contains(out, "buyer has no field orders_1hour") || !strings.Contains(out, s.config+":") {
		t.Fatalf("code %d:\n%s", code, out)
	}
}

// TestCheckRefusesARuleWhoseCostHasNoBound tries a rule that builds a string
// of a million bytes per order: `cardflow check` names the rule, its line
// and the limit.
func TestCheckRefusesARuleWhoseCostHasNoBound(t *testing.T) {
	s := newService(t, fmt.Sprintf(ruleConfig, `len(repeat("x", 999999)) > 0`))
	code, out := runBinary(t, s.env, "check", "-config", s.config)
	if code == 0 || !strings.Contains(out, `rules[0].when: rule "big" is over its limits: repeat() is not available`) ||
		!strings.Contains(out, s.config+":") {
		t.Fatalf("code %d:\n%s", code, out)
	}
}

// TestRulesSeeNowHourInTheReportTimeZone runs the real binary with
// [report] timezone = "America/New_York" (12 or 13 hours from the default,
// Asia/Shanghai) and a rule that holds orders placed in this hour or the
// next, New York time: an order placed now is held.
func TestRulesSeeNowHourInTheReportTimeZone(t *testing.T) {
	if testing.Short() {
		t.Skip("drives the real binary")
	}
	const zone = "America/New_York"
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	h := time.Now().In(loc).Hour() // or the next hour, should one begin before the order
	s := newService(t, fmt.Sprintf(ruleConfig+"[report]\ntimezone = %q\n",
		fmt.Sprintf("now.hour == %d || now.hour == %d", h, (h+1)%24), zone))
	p := s.start(t)
	o, _, err := s.client().Create(context.Background(), storefront.NewOrder{ExternalID: "TZ-1", SKU: "qb-10",
		Quantity: 1, Amount: "10.00", Buyer: storefront.Buyer{ID: "b-1"}})
	if err != nil {
		t.Fatal(err)
	}
	if o.Status != "review" {
		t.Fatalf("an order placed at %d:xx in %s is %s under now.hour == %d", h, zone, o.Status, h)
	}
	p.interrupt(t)
}
