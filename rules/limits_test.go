package rules

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/rs/zerolog"

	"cardflow/alert"
	"cardflow/config"
	"cardflow/internal/money"
	"cardflow/internal/testkit"
	"cardflow/internal/teststore"
	"cardflow/storage"
)

// slowPattern takes well over 100µs on a 256-byte string of "a": the
// regexp engine tries twenty nested ".*" and finds no "b". It stays within
// the limit on pattern size, so only the time budget can catch it.
const slowPattern = `(.*a){20}b`

// tightLimits are the default limits with a per-evaluation budget small
// enough for slowPattern to overrun it many times over while the default
// rules (well under a microsecond) stay far below it.
func tightLimits() limits {
	lim := defaultLimits()
	lim.eval = 10 * time.Microsecond
	return lim
}

func newLimitedBook(t *testing.T, s *storage.Store, rs []config.Rule, now func() time.Time, lim limits) *Book {
	t.Helper()
	e, err := newWithLimits(s, rs, shanghai, now, zerolog.Nop(), lim)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestExpressionsWhoseCostHasNoBoundAreRefused(t *testing.T) {
	long := `buyer.ip in [` + strings.Repeat(`"203.0.113.255", `, 70) + `"x"]`
	many := strings.Repeat("1+", 200) + "order.quantity > 0" // 400 bytes, 403 parts
	cases := []struct{ name, when, says string }{
		{"a string a million bytes long", `len(repeat("…", 999999)) > 0`, "repeat() is not available"},
		{"a regular expression built per order", `buyer.contact matches buyer.id`, "matches needs a constant pattern"},
		{"a pattern glued from a field", `buyer.contact matches ("^" + buyer.id)`, "matches needs a constant pattern"},
		{"a huge range", `order.quantity in 1..100000000`, "spans 100000000 values"},
		{"a range with a bound from the order", `order.quantity in 1..buyer.orders_24h`, "whole numbers written in the rule"},
		{"a range built outside in", `len(0..999999) > 0`, "only allowed after in"},
		{"a loop over a range", `all(1..1000, {# > 0})`, "all() is not available"},
		{"a loop over a list", `any(["a", "b"], {buyer.contact endsWith #})`, "any() is not available"},
		{"a map over a list", `len(map([1, 2], {# * 2})) > 0`, "map() is not available"},
		{"a replace that multiplies a string", `len(replace(buyer.id, "", buyer.id)) > 0`, "replace() is not available"},
		{"a join", `join(["a"], buyer.id) == ""`, "join() is not available"},
		{"JSON parsing", `fromJSON(buyer.id) == nil`, "fromJSON() is not available"},
		{"variables that double a string", `let a = buyer.id; let b = a + a; len(b) > 0`, "let"},
		{"strings joined with +", `buyer.id + buyer.contact == "x"`, "joining strings"},
		{"the whole environment", `$env.order.amount > 1`, "$env"},
		{"an expression over the length limit", long, "bytes long"},
		{"an expression over the node limit", many, "parts"},
		{"a pattern over the size limit", `buyer.contact matches "[0-9]{1,400}x"`, "pattern"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Compile(tc.when)
			if err == nil {
				t.Fatalf("%s was accepted", tc.when)
			}
			var le *LimitError
			if !errors.As(err, &le) || !errors.Is(err, ErrOverLimit) || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("%s: error %q is not a limit error saying %q", tc.when, err, tc.says)
			}
		})
	}
}

// TestTheRulesShopsWriteStillCompile keeps the limits usable: the default
// rules, the examples of config.toml.example and the README, and the kinds of
// rule shops write all compile.
func TestTheRulesShopsWriteStillCompile(t *testing.T) {
	exprs := []string{
		`order.amount > 500`, `buyer.orders_1h >= 5`, `now.hour < 6`, `order.amount > 300 && now.hour < 6`,
		`now.hour < 6 && order.amount > 200`, `buyer.refunds_30d > 0 && buyer.first_seen_days < 1`,
		`buyer.ip in ["203.0.113.7", "198.51.100.22"]`, `buyer.id not in ["vip-1", "vip-2"]`,
		`order.sku == "qb-100" && order.storefront != "shop2"`, `order.kind == "direct" && buyer.account startsWith "138"`,
		`buyer.contact endsWith "@example.com"`, `buyer.contact matches "^[0-9]{5,11}@qq\\.com$"`,
		`buyer.contact not matches "@(qq|163|126)\\.com$"`, `now.hour in 0..5`, `buyer.first_seen_days in 0..2`,
		`lower(buyer.contact) contains "test"`, `len(buyer.account) != 11`, `order.amount / order.quantity > 100`,
		`buyer.amount_24h + order.amount > 2000`, `buyer.orders_24h >= 20 || buyer.amount_24h > 5000`,
		`trim(buyer.id) == ""`, `int(order.amount) % 100 == 0`, `max(order.amount, buyer.amount_24h) > 1000`,
		`hasPrefix(buyer.ip, "10.") ? order.amount > 50 : order.amount > 500`, `buyer.account[0:3] == "170"`,
	}
	for _, r := range config.DefaultRules() {
		exprs = append(exprs, r.When)
	}
	var example struct{ Rules []config.Rule }
	if _, err := toml.DecodeFile("../config.toml.example", &example); err != nil || len(example.Rules) == 0 {
		t.Fatalf("the example's rules: %v", err)
	}
	for _, r := range example.Rules {
		exprs = append(exprs, r.When)
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	// `/rules test <expr>` and `/rules set <name> <action> <expr>` examples.
	for _, m := range regexp.MustCompile("`/rules (?:test|set [a-z0-9_-]+ [a-z]+) ([^`]+)`").FindAllStringSubmatch(string(readme), -1) {
		if !strings.Contains(m[1], "<") {
			exprs = append(exprs, m[1])
		}
	}
	for _, when := range exprs {
		if _, err := Compile(when); err != nil {
			t.Errorf("%s: %v", when, err)
		}
	}
}

func TestARuleOverItsTimeBudgetIsRefusedAtLoadSetReloadAndTestNamingIt(t *testing.T) {
	s := testkit.NewStore(t, teststore.Open)
	at := time.Date(2026, 11, 25, 12, 0, 0, 0, shanghai)
	now := func() time.Time { return at }
	slow := config.Rule{Name: "slow-contact", When: fmt.Sprintf("buyer.contact matches %q", slowPattern), Action: config.ActionReview}

	_, err := newWithLimits(s, []config.Rule{slow}, shanghai, now, zerolog.Nop(), tightLimits())
	if err == nil || !errors.Is(err, ErrOverLimit) || !strings.Contains(err.Error(), `rule "slow-contact"`) || !strings.Contains(err.Error(), "took") {
		t.Fatalf("a config rule over its budget at load: %v", err)
	}

	e := newLimitedBook(t, s, config.DefaultRules(), now, tightLimits())
	err = e.Set(storage.Actor{Name: "carol"}, slow.Name, slow.Action, slow.When)
	if !errors.Is(err, ErrOverLimit) || !strings.Contains(err.Error(), "slow-contact") || !strings.Contains(err.Error(), "at most 10µs") {
		t.Fatalf("/rules set of a rule over its budget: %v", err)
	}
	err = e.Reload([]config.Rule{slow})
	if !errors.Is(err, ErrOverLimit) || !strings.Contains(err.Error(), "slow-contact") {
		t.Fatalf("a reload with a rule over its budget: %v", err)
	}
	if _, err := e.Test(slow.When); !errors.Is(err, ErrOverLimit) {
		t.Fatalf("/rules test of an expression over its budget: %v", err)
	}
	list, _ := e.List()
	if len(list) != 2 || list[0].Name != "large-order" || list[1].Name != "buyer-velocity" {
		t.Fatalf("the refused changes changed the rules: %+v", list)
	}
}

// alertSink is where the book raises its alerts in these tests.
type alertSink chan storage.Alert

func (a alertSink) RaiseAlert(al storage.Alert) error {
	a <- al
	return nil
}

// next waits for the next alert.
func (a alertSink) next(t *testing.T) storage.Alert {
	t.Helper()
	select {
	case al := <-a:
		return al
	case <-time.After(20 * time.Second):
		t.Fatal("no alert within 20 s")
		return storage.Alert{}
	}
}

func TestARuleThatGoesSlowAtRunTimeIsSwitchedOffWithAnAlertAndAnAuditEntry(t *testing.T) {
	s := testkit.NewStore(t, teststore.Open)
	at := time.Date(2026, 11, 25, 12, 0, 0, 0, shanghai)
	now := func() time.Time { return at }
	// Cheap on every order the load-time check tries (no buyer id is
	// "slow" there), slow on the order that has it.
	sneaky := config.Rule{Name: "sneaky", When: fmt.Sprintf(`buyer.id == "slow" && buyer.contact matches %q`, slowPattern),
		Action: config.ActionReview}
	rs := append(config.DefaultRules(), sneaky)
	e := newLimitedBook(t, s, rs, now, tightLimits())
	alerts := make(alertSink, 4)
	e.AlertTo(alerts)

	o := order(at, "slow", "203.0.113.9", 1000)
	o.Buyer.Contact = strings.Repeat("a", 256)
	screen(t, s, e, o)

	al := alerts.next(t) // the rule overran its budget on that order
	if al.Type != alert.RuleOff || al.Key != "rule_off:sneaky" || al.Target != "sneaky" || al.OrderID != o.ID || al.Resolved ||
		!strings.Contains(al.Detail, "10µs") {
		t.Fatalf("alert = %+v", al)
	}
	list, _ := e.List()
	if r := list[2]; r.Name != "sneaky" || !r.Off || r.By != "system" {
		t.Fatalf("after the overrun the rule is %+v, want off by system", r)
	}
	var audit []storage.AuditEntry
	_ = s.View(func(tx *storage.Tx) (err error) { audit, err = tx.AuditLast(1); return err })
	if len(audit) != 1 || audit[0].Action != "rules.off" || audit[0].Actor != storage.System || audit[0].Target != "sneaky" ||
		!strings.Contains(audit[0].Detail, fmt.Sprintf("order #%d", o.ID)) {
		t.Fatalf("audit = %+v", audit)
	}
	// Switched off: the same order shape now goes through.
	o2 := order(at, "slow", "203.0.113.9", 1000)
	o2.Buyer.Contact = o.Buyer.Contact
	if d := screen(t, s, e, o2); d.Reason != "" {
		t.Fatalf("a switched-off rule still decided: %+v", d)
	}
	// It stays off across a restart and a reload, like an operator's /rules off.
	e2 := newLimitedBook(t, s, rs, now, tightLimits())
	if err := e2.Reload(rs); err != nil {
		t.Fatal(err)
	}
	list, _ = e2.List()
	if !list[2].Off {
		t.Fatalf("after a restart and a reload: %+v", list[2])
	}
	// An admin setting it again closes the alert.
	e2.AlertTo(alerts)
	if err := e2.Set(storage.Actor{Name: "carol"}, "sneaky", config.ActionReview, `buyer.id == "slow"`); err != nil {
		t.Fatal(err)
	}
	if al := alerts.next(t); al.Key != "rule_off:sneaky" || !al.Resolved {
		t.Fatalf("after /rules set: %+v", al)
	}
}

// seedOrders stores n orders, one a minute up to at, oldest first.
func seedOrders(t *testing.T, s *storage.Store, at time.Time, n int, tune func(*storage.Order)) {
	t.Helper()
	for start := 0; start < n; start += 1000 {
		err := s.Update(func(tx *storage.Tx) error {
			for i := start; i < min(n, start+1000); i++ {
				o := order(at.Add(-time.Duration(n-1-i)*time.Minute), fmt.Sprintf("b%d", i), "10.0.0.1", money.Amount(100*(i+1)))
				o.ExternalID = fmt.Sprintf("S%d", i)
				if tune != nil {
					tune(o)
				}
				o.Move(storage.StatusPending, "", storage.System, o.CreatedAt)
				if err := tx.CreateOrder(o); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestRulesTestReadsAtMostTheNewestOrdersAndSaysSo(t *testing.T) {
	s := testkit.NewStore(t, teststore.Open)
	at := time.Date(2026, 11, 25, 12, 0, 0, 0, shanghai)
	seedOrders(t, s, at, 45, nil)
	lim := defaultLimits()
	lim.testOrders, lim.testChunk = 30, 7
	e := newLimitedBook(t, s, nil, func() time.Time { return at }, lim)
	res, err := e.Test("order.amount > 0")
	if err != nil {
		t.Fatal(err)
	}
	if res.Orders != 30 || res.Matched != 30 || !res.Capped || res.TimedOut || len(res.Examples) != 5 || res.Examples[0] != 45 {
		t.Fatalf("45 orders in the window, a cap of 30: %+v", res)
	}
	// Exactly the cap is not capped.
	lim.testOrders = 45
	e = newLimitedBook(t, s, nil, func() time.Time { return at }, lim)
	if res, _ := e.Test("order.amount > 0"); res.Orders != 45 || res.Capped {
		t.Fatalf("45 orders, a cap of 45: %+v", res)
	}
}

func TestRulesTestStopsAtItsTimeLimitAndSaysTheResultIsPartial(t *testing.T) {
	s := testkit.NewStore(t, teststore.Open)
	at := time.Date(2026, 11, 25, 12, 0, 0, 0, shanghai)
	seedOrders(t, s, at, 50, nil)
	lim := defaultLimits()
	lim.testChunk, lim.testTime = 10, time.Minute
	calls := 0
	// Every look at the clock finds 40 s gone: past the minute after two chunks.
	clock := func() time.Time { calls++; return at.Add(time.Duration(calls) * 40 * time.Second) }
	e := newLimitedBook(t, s, nil, clock, lim)
	res, err := e.Test("order.amount > 0")
	if err != nil {
		t.Fatal(err)
	}
	if !res.TimedOut || res.Orders != 20 || res.Capped || res.TimeLimit != time.Minute {
		t.Fatalf("a test over its time limit: %+v", res)
	}
}

// gate is a clock that holds a /rules test at a known point: its first
// caller closes began, and its stop-th caller closes entered and waits until
// released is closed. From the stop-th call on it reads an hour later.
type gate struct {
	at       time.Time
	stop     int
	mu       sync.Mutex
	calls    int
	began    chan struct{}
	entered  chan struct{}
	released chan struct{}
}

func newGate(at time.Time, stop int) *gate {
	return &gate{at: at, stop: stop, began: make(chan struct{}), entered: make(chan struct{}), released: make(chan struct{})}
}

func (g *gate) now() time.Time {
	g.mu.Lock()
	g.calls++
	n := g.calls
	g.mu.Unlock()
	if n == 1 {
		close(g.began)
	}
	if n == g.stop {
		close(g.entered)
		<-g.released
	}
	if n >= g.stop {
		return g.at.Add(time.Hour)
	}
	return g.at
}

func TestOnlyOneRulesTestRunsAtATime(t *testing.T) {
	s := testkit.NewStore(t, teststore.Open)
	at := time.Date(2026, 11, 25, 12, 0, 0, 0, shanghai)
	seedOrders(t, s, at, 10, nil)
	g := newGate(at, 1)
	e := newLimitedBook(t, s, nil, g.now, defaultLimits())
	first := make(chan TestResult)
	go func() {
		res, err := e.Test("order.amount > 0")
		if err != nil {
			t.Error(err)
		}
		first <- res
	}()
	<-g.entered
	if _, err := e.Test("order.amount > 5"); !errors.Is(err, ErrTestRunning) {
		t.Errorf("a second test while one runs: %v, want %v", err, ErrTestRunning)
	}
	close(g.released)
	if res := <-first; res.Orders != 10 {
		t.Fatalf("the first test: %+v", res)
	}
	if res, err := e.Test("order.amount > 5"); err != nil || res.Orders != 10 {
		t.Fatalf("a test after the first ended: %+v, %v", res, err)
	}
}

// TestAnOrderWriteIsNotHeldWhileARulesTestRunsOverALargeStore grows the
// file while a test runs: bbolt must remap it, which waits for every open
// read transaction. A test that read all orders in one transaction held
// every such write until it ended.
func TestAnOrderWriteIsNotHeldWhileARulesTestRunsOverALargeStore(t *testing.T) {
	if testing.Short() {
		t.Skip("writes tens of megabytes")
	}
	s := testkit.NewStore(t, teststore.Open)
	began := time.Now()
	at := time.Date(2026, 11, 25, 12, 0, 0, 0, shanghai)
	long := strings.Repeat("a", 256)
	seedOrders(t, s, at, 2500, func(o *storage.Order) { o.Buyer.ID, o.Buyer.Contact, o.Buyer.IP, o.Account = long, long, long, long })
	start := s.Size()
	// Slow enough per order that one long read would last seconds; the
	// budget per order is wide so that the test is about the writer.
	lim := defaultLimits()
	lim.eval, lim.testTime, lim.regex, lim.testChunk = time.Second, time.Minute, 2000, 50
	// The gate holds a chunked test between two reads until the writes are
	// done, so that it is still running when they are; then the hour it
	// reads ends the test.
	g := newGate(at, 2)
	e := newLimitedBook(t, s, nil, g.now, lim)
	var slow []string
	for _, field := range []string{"contact", "id", "ip", "account"} {
		for _, last := range "bcde" {
			slow = append(slow, fmt.Sprintf("buyer.%s matches %q", field, strings.Replace(slowPattern, "b", string(last), 1)))
		}
	}
	when := strings.Join(slow, " || ")
	done := make(chan error, 1)
	go func() {
		_, err := e.Test(when)
		done <- err
	}()
	<-g.began
	grown := time.Now()
	extra := map[string]string{}
	for i := range 16 {
		extra[fmt.Sprintf("k%d", i)] = long
	}
	var worst time.Duration
	// Past twice its size the file has outgrown its memory map at least once.
	for n := 0; s.Size() < 2*start; n++ {
		began := time.Now()
		err := s.Update(func(tx *storage.Tx) error {
			for i := range 200 {
				o := order(at, "w", "10.0.0.2", 100)
				o.ExternalID, o.Extra = fmt.Sprintf("W%d-%d", n, i), extra
				o.Move(storage.StatusPending, "", storage.System, at)
				if err := tx.CreateOrder(o); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		worst = max(worst, time.Since(began))
	}
	if worst > 3*time.Second {
		t.Fatalf("a write that grew the file waited %v while /rules test ran", worst)
	}
	select {
	case err := <-done:
		t.Fatalf("the rules test ended (%v) before the file had doubled: this run proves nothing; make the test slower", err)
	default:
	}
	close(g.released)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	t.Logf("seeded %d bytes in %v, grew to %d in %v; the slowest write took %v", start, grown.Sub(began), s.Size(), time.Since(grown), worst)
}

// TestARuleSetFromChatAndSwitchedOffKeepsItsExpression: switched off (by an
// operator or for its cost), a rule that only chat knows stays listed, off,
// with its expression, so that it can be read and set again.
func TestARuleSetFromChatAndSwitchedOffKeepsItsExpression(t *testing.T) {
	s := testkit.NewStore(t, teststore.Open)
	at := time.Date(2026, 11, 25, 12, 0, 0, 0, shanghai)
	e := newBook(t, s, nil, func() time.Time { return at })
	carol := storage.Actor{Name: "carol"}
	if err := e.Set(carol, "night", config.ActionRefund, "now.hour < 6"); err != nil {
		t.Fatal(err)
	}
	if err := e.Off(carol, "night"); err != nil {
		t.Fatal(err)
	}
	for _, e := range []*Book{e, newBook(t, s, nil, func() time.Time { return at })} {
		list, _ := e.List()
		if len(list) != 1 || !list[0].Off || list[0].When != "now.hour < 6" || list[0].Action != config.ActionRefund {
			t.Fatalf("a chat rule switched off: %+v", list)
		}
	}
}

// TestAStoredRuleNowOverALimitIsOffAndRaisesAnAlert: a rule set from chat
// before the limits came in (here one that builds its pattern per order)
// is kept, switched off, and alerted once the alerts are wired.
func TestAStoredRuleNowOverALimitIsOffAndRaisesAnAlert(t *testing.T) {
	s := testkit.NewStore(t, teststore.Open)
	at := time.Date(2026, 11, 25, 12, 0, 0, 0, shanghai)
	err := s.Update(func(tx *storage.Tx) error {
		return tx.Rules().PutChange(storage.RuleChange{Name: "glue", When: "buyer.contact matches buyer.id", Action: config.ActionReview,
			By: "alice", At: at})
	})
	if err != nil {
		t.Fatal(err)
	}
	e := newBook(t, s, nil, func() time.Time { return at })
	list, _ := e.List()
	if len(list) != 1 || !list[0].Off || list[0].When != "buyer.contact matches buyer.id" {
		t.Fatalf("a stored rule over a limit: %+v", list)
	}
	o := order(at, "x", "203.0.113.1", 1000)
	o.Buyer.Contact = "x"
	if d := screen(t, s, e, o); d.Reason != "" {
		t.Fatalf("a stored rule over a limit decided: %+v", d)
	}
	alerts := make(alertSink, 2)
	e.AlertTo(alerts)
	if al := alerts.next(t); al.Key != "rule_off:glue" || al.OrderID != 0 || !strings.Contains(al.Detail, "matches needs a constant pattern") {
		t.Fatalf("alert = %+v", al)
	}
	if err := e.Set(storage.Actor{Name: "carol"}, "glue", config.ActionReview, `buyer.contact == "x"`); err != nil {
		t.Fatal(err)
	}
	if al := alerts.next(t); al.Key != "rule_off:glue" || !al.Resolved {
		t.Fatalf("after /rules set: %+v", al)
	}
}
