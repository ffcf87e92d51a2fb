package rules

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"cardflow/config"
	"cardflow/internal/money"
	"cardflow/internal/testkit"
	"cardflow/internal/teststore"
	"cardflow/storage"
)

var shanghai = time.FixedZone("CST", 8*3600)

// screen runs the book on a new order inside a write, as intake does.
func screen(t *testing.T, s *storage.Store, e *Book, o *storage.Order) Decision {
	t.Helper()
	var d Decision
	err := s.Update(func(tx *storage.Tx) error {
		id, err := tx.NewOrderID()
		if err != nil {
			return err
		}
		o.ID = id
		o.Move(storage.StatusPending, "", storage.System, o.CreatedAt)
		if d, err = e.Screen(tx, o); err != nil {
			return err
		}
		return tx.CreateOrder(o)
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func order(at time.Time, buyer, ip string, amount money.Amount) *storage.Order {
	return &storage.Order{ExternalID: fmt.Sprintf("E%d", at.UnixNano()), Storefront: "shop1", SKU: "qb-100", Kind: "card",
		Quantity: 2, Amount: amount, Buyer: storage.Buyer{ID: buyer, Contact: buyer + "@example.com", IP: ip},
		CreatedAt: at}
}

func newBook(t *testing.T, s *storage.Store, rules []config.Rule, now func() time.Time) *Book {
	t.Helper()
	e, err := New(s, rules, shanghai, now, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestEveryRuleFieldCanDecide(t *testing.T) {
	base := time.Date(2026, 11, 25, 3, 30, 0, 0, shanghai)
	cases := []struct {
		when string
		tune func(*storage.Order)
	}{
		{`order.sku == "qb-100"`, nil},
		{`order.quantity == 2`, nil},
		{`order.amount > 99.98 && order.amount < 100`, func(o *storage.Order) { o.Amount = 9999 }},
		{`order.storefront == "shop1"`, nil},
		{`order.kind == "direct"`, func(o *storage.Order) { o.Kind = "direct" }},
		{`buyer.id == "u-1"`, nil},
		{`buyer.contact endsWith "@example.com"`, nil},
		{`buyer.ip startsWith "203.0.113."`, nil},
		{`buyer.account == "12345678"`, func(o *storage.Order) { o.Account = "12345678" }},
		{`buyer.orders_1h == 3`, nil},
		{`buyer.orders_24h == 4`, nil},
		{`buyer.amount_24h == 40`, nil},
		{`buyer.refunds_30d == 1`, nil},
		{`buyer.first_seen_days == 2`, nil},
		{`now.hour == 3`, nil},
	}
	for _, tc := range cases {
		t.Run(tc.when, func(t *testing.T) {
			s := testkit.NewStore(t, teststore.Open)
			// History: first seen two days ago, one order 20 h ago, three in
			// the last hour, and a refund yesterday.
			var history []*storage.Order
			_ = s.Update(func(tx *storage.Tx) error {
				ids := storage.BuyerIdentities(order(base, "u-1", "203.0.113.9", 0))
				_ = tx.RecordBuyerOrder(ids, base.Add(-49*time.Hour), 1000)
				_ = tx.RecordBuyerOrder(ids, base.Add(-20*time.Hour), 1000)
				for i := range 3 {
					_ = tx.RecordBuyerOrder(ids, base.Add(-time.Duration(10+i)*time.Minute), 1000)
				}
				return tx.RecordBuyerRefund(ids, base.Add(-24*time.Hour))
			})
			_ = history
			e := newBook(t, s, []config.Rule{{Name: "r", When: tc.when, Action: config.ActionReview}}, func() time.Time { return base })
			o := order(base, "u-1", "203.0.113.9", 5000)
			if tc.tune != nil {
				tc.tune(o)
			}
			if d := screen(t, s, e, o); d.Action != config.ActionReview || d.Reason != "rule:r" {
				t.Fatalf("decision = %+v with features %+v", d, *o.Features)
			}
		})
	}
}

func TestCompileErrorsNameTheRuleAndThePlace(t *testing.T) {
	_, errs := CompileAll([]config.Rule{
		{Name: "ok", When: "order.amount > 1", Action: "review"},
		{Name: "typo", When: "order.amout > 5", Action: "review"},
		{Name: "not-bool", When: "order.amount", Action: "review"},
		{Name: "syntax", When: "order.amount >", Action: "review"},
		{Name: "empty", When: "  ", Action: "review"},
		{Name: "unknown-root", When: "customer.id == 1", Action: "review"},
	})
	want := map[string]string{"typo": "order has no field amout", "not-bool": "expected bool", "syntax": "unexpected token",
		"empty": "empty", "unknown-root": "unknown name customer"}
	if len(errs) != len(want) {
		t.Fatalf("%d errors, want %d: %v", len(errs), len(want), errs)
	}
	for _, err := range errs {
		var ce *CompileError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), want[ce.Name]) || !strings.Contains(err.Error(), ce.Name) {
			t.Errorf("error %v does not name the rule and say %q", err, want[ce.Name])
		}
		if strings.Contains(err.Error(), "\n") || strings.Contains(err.Error(), "rules.") {
			t.Errorf("error %q has a second line or a Go type name", err)
		}
	}
}

func TestVelocityWindowsAcrossHourAndDayBoundaries(t *testing.T) {
	s := testkit.NewStore(t, teststore.Open)
	clock := time.Date(2026, 11, 25, 23, 50, 0, 0, shanghai) // ten minutes before midnight
	e := newBook(t, s, nil, func() time.Time { return clock })
	seen := func(at time.Time) storage.Features {
		o := order(at, "u-9", "198.51.100.7", 10000)
		screen(t, s, e, o)
		return *o.Features
	}
	f := seen(clock) // the first order: nothing before it
	if f.Orders1h != 0 || f.Orders24h != 0 || f.FirstSeenDays != 0 || f.Hour != 23 {
		t.Fatalf("first order features %+v", f)
	}
	f = seen(clock.Add(15 * time.Minute)) // 00:05 the next day
	if f.Orders1h != 1 || f.Orders24h != 1 || f.Amount24h != 10000 || f.Hour != 0 {
		t.Fatalf("after midnight %+v", f)
	}
	f = seen(clock.Add(69 * time.Minute)) // 00:59: the 23:50 order is 69 minutes old
	if f.Orders1h != 1 || f.Orders24h != 2 {
		t.Fatalf("an hour on %+v", f)
	}
	f = seen(clock.Add(24*time.Hour + time.Minute)) // a day and a minute after the first
	if f.Orders24h != 2 || f.Orders1h != 0 || f.FirstSeenDays != 1 {
		t.Fatalf("a day on %+v", f)
	}
	f = seen(clock.Add(72 * time.Hour))
	if f.Orders24h != 0 || f.Amount24h != 0 || f.FirstSeenDays != 3 {
		t.Fatalf("three days on %+v", f)
	}
}

func TestHistoryFollowsTheBuyerAcrossIdentitiesAndExcludesThisOrder(t *testing.T) {
	s := testkit.NewStore(t, teststore.Open)
	at := time.Date(2026, 11, 25, 12, 0, 0, 0, shanghai)
	e := newBook(t, s, nil, func() time.Time { return at })
	for i := range 5 {
		screen(t, s, e, order(at.Add(time.Duration(i)*time.Minute), fmt.Sprintf("fresh-%d", i), "192.0.2.1", 1000))
	}
	// A new buyer id and contact from the same IP: the IP's five orders count.
	o := order(at.Add(10*time.Minute), "brand-new", "192.0.2.1", 1000)
	o.Buyer.Contact = "other@example.com"
	screen(t, s, e, o)
	if o.Features.Orders1h != 5 {
		t.Fatalf("orders_1h = %d, want the IP's 5 earlier orders (not this one)", o.Features.Orders1h)
	}
	// The same buyer id from another storefront is another buyer.
	o2 := order(at.Add(11*time.Minute), "fresh-0", "192.0.2.200", 1000)
	o2.Storefront, o2.Buyer.Contact = "shop2", ""
	screen(t, s, e, o2)
	if o2.Features.Orders1h != 0 {
		t.Fatalf("another storefront's buyer id counted: %+v", o2.Features)
	}
}

func TestDefaultRulesHoldLargeAndBurstyOrders(t *testing.T) {
	s := testkit.NewStore(t, teststore.Open)
	at := time.Date(2026, 11, 25, 12, 0, 0, 0, shanghai)
	e := newBook(t, s, config.DefaultRules(), func() time.Time { return at })
	if d := screen(t, s, e, order(at, "big", "203.0.113.50", 50001)); d.Reason != "rule:large-order" {
		t.Fatalf("¥500.01: %+v", d)
	}
	if d := screen(t, s, e, order(at, "edge", "203.0.113.51", 50000)); d.Action != config.ActionAllow {
		t.Fatalf("¥500.00 exactly: %+v", d)
	}
	var d Decision
	for i := range 6 {
		d = screen(t, s, e, order(at.Add(time.Duration(i)*time.Minute), "burst", "203.0.113.60", 1000))
		if i < 5 && d.Action != config.ActionAllow {
			t.Fatalf("order %d of the burst held: %+v", i+1, d)
		}
	}
	if d.Reason != "rule:buyer-velocity" {
		t.Fatalf("the sixth order in an hour: %+v", d)
	}
}

func TestFirstMatchDecidesAndAllowSkipsLaterRules(t *testing.T) {
	s := testkit.NewStore(t, teststore.Open)
	at := time.Date(2026, 11, 25, 12, 0, 0, 0, shanghai)
	e := newBook(t, s, []config.Rule{
		{Name: "vip", When: `buyer.id == "vip"`, Action: config.ActionAllow},
		{Name: "banned-ip", When: `buyer.ip == "10.6.6.6"`, Action: config.ActionRefund},
		{Name: "big", When: `order.amount > 100`, Action: config.ActionReview},
		{Name: "div", When: `10 % (order.quantity - 2) == 0`, Action: config.ActionRefund},
	}, func() time.Time { return at })
	cases := []struct {
		buyer, ip string
		amount    money.Amount
		want      string
	}{
		{"vip", "10.6.6.6", 99999, "rule:vip"},
		{"joe", "10.6.6.6", 99999, "rule:banned-ip"},
		{"joe", "10.0.0.1", 99999, "rule:big"},
		{"joe", "10.0.0.2", 100, ""}, // "div" fails at run time (modulo by zero): no match, not an error
	}
	for _, tc := range cases {
		d := screen(t, s, e, order(at, tc.buyer, tc.ip, tc.amount))
		if d.Reason != tc.want {
			t.Errorf("%s from %s: %+v, want %q", tc.buyer, tc.ip, d, tc.want)
		}
	}
	list, _ := e.List()
	hits := map[string]int{}
	for _, r := range list {
		hits[r.Name] = r.HitsToday
	}
	if hits["vip"] != 1 || hits["banned-ip"] != 1 || hits["big"] != 1 || hits["div"] != 0 {
		t.Errorf("hits = %v", hits)
	}
}

func TestRulesSetFromChatAreValidatedDurableAndAudited(t *testing.T) {
	s := testkit.NewStore(t, teststore.Open)
	at := time.Date(2026, 11, 25, 12, 0, 0, 0, shanghai)
	now := func() time.Time { return at }
	e := newBook(t, s, config.DefaultRules(), now)
	alice := storage.Actor{Name: "alice", Platform: "telegram"}
	for _, bad := range []struct{ name, action, when string }{
		{"Bad Name", "review", "true"}, {"night", "block", "true"}, {"night", "review", "now.hourr < 6"},
	} {
		if err := e.Set(alice, bad.name, bad.action, bad.when); err == nil {
			t.Errorf("Set(%q, %q, %q) accepted", bad.name, bad.action, bad.when)
		}
	}
	if err := e.Off(alice, "nosuch"); !errors.Is(err, ErrNoRule) {
		t.Errorf("Off(nosuch) = %v", err)
	}
	if err := e.Set(alice, "night", "refund", "now.hour < 6 && order.amount > 200"); err != nil {
		t.Fatal(err)
	}
	if err := e.Set(alice, "large-order", "review", "order.amount > 300"); err != nil {
		t.Fatal(err)
	}
	if err := e.Off(alice, "buyer-velocity"); err != nil {
		t.Fatal(err)
	}
	check := func(e *Book) {
		t.Helper()
		list, _ := e.List()
		got := map[string]Status{}
		var names []string
		for _, r := range list {
			got[r.Name] = r
			names = append(names, r.Name)
		}
		if strings.Join(names, ",") != "large-order,buyer-velocity,night" {
			t.Fatalf("rules = %v", names)
		}
		if r := got["large-order"]; r.When != "order.amount > 300" || r.By != "alice" {
			t.Errorf("large-order = %+v", r)
		}
		if r := got["buyer-velocity"]; !r.Off || r.When != "buyer.orders_1h >= 5" {
			t.Errorf("buyer-velocity = %+v", r)
		}
		if d := screen(t, s, e, order(at, "x", "10.1.1.1", 40000)); d.Reason != "rule:large-order" {
			t.Errorf("¥400 after the change: %+v", d)
		}
	}
	check(e)
	// A restart (a new book on the same store) and a config reload keep them.
	e2 := newBook(t, s, config.DefaultRules(), now)
	check(e2)
	if err := e2.Reload(config.DefaultRules()); err != nil {
		t.Fatal(err)
	}
	check(e2)
	var audit []storage.AuditEntry
	_ = s.View(func(tx *storage.Tx) (err error) { audit, err = tx.AuditLast(3); return err })
	if audit[0].Action != "rules.off" || audit[2].Action != "rules.set" || audit[2].Actor.Name != "alice" || audit[2].Target != "night" {
		t.Errorf("audit = %+v", audit)
	}
}

func TestReloadRefusesABadFileAndKeepsTheOldRules(t *testing.T) {
	s := testkit.NewStore(t, teststore.Open)
	at := time.Date(2026, 11, 25, 12, 0, 0, 0, shanghai)
	e := newBook(t, s, config.DefaultRules(), func() time.Time { return at })
	err := e.Reload([]config.Rule{{Name: "broken", When: "order.amout > 1", Action: "review"}})
	if err == nil || !strings.Contains(err.Error(), "broken") {
		t.Fatalf("bad reload: %v", err)
	}
	if d := screen(t, s, e, order(at, "y", "10.2.2.2", 60000)); d.Reason != "rule:large-order" {
		t.Fatalf("old rules gone after a refused reload: %+v", d)
	}
	if err := e.Reload([]config.Rule{{Name: "tiny", When: "order.amount > 1", Action: "review"}}); err != nil {
		t.Fatal(err)
	}
	if d := screen(t, s, e, order(at, "z", "10.3.3.3", 200)); d.Reason != "rule:tiny" {
		t.Fatalf("new rules not in force: %+v", d)
	}
	if _, err := New(s, []config.Rule{{Name: "x", When: "nope ==", Action: "review"}}, shanghai, nil, zerolog.Nop()); err == nil {
		t.Fatal("New accepted a rule that does not compile")
	}
}

func TestRulesTestReplaysTheLastSevenDaysWithoutTouchingAnything(t *testing.T) {
	s := testkit.NewStore(t, teststore.Open)
	at := time.Date(2026, 11, 25, 12, 0, 0, 0, shanghai)
	clock := at
	e := newBook(t, s, nil, func() time.Time { return clock })
	for i := range 10 { // one order a day for ten days, ¥100 … ¥1000
		screen(t, s, e, order(at.Add(time.Duration(i-9)*24*time.Hour), fmt.Sprintf("b%d", i), fmt.Sprintf("10.9.9.%d", i), money.Amount((i+1)*10000)))
	}
	clock = at.Add(time.Hour) // the order of exactly seven days ago is now outside the window
	res, err := e.Test("order.amount >= 800")
	if err != nil {
		t.Fatal(err)
	}
	// The last 7 days hold the orders of ¥400 … ¥1000; ¥800, ¥900, ¥1000 match.
	if res.Orders != 7 || res.Matched != 3 || len(res.Examples) != 3 || res.Examples[0] != 10 {
		t.Fatalf("test = %+v", res)
	}
	if _, err := e.Test("order.amout > 1"); err == nil {
		t.Fatal("a broken expression was tried")
	}
	list, _ := e.List()
	if len(list) != 0 {
		t.Fatalf("trying an expression changed the rules: %+v", list)
	}
}
