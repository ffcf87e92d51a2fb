package api_test

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"cardflow/internal/storefront"
)

// TestCreateOrderAnswers201AndDeliversFromImportedStock follows one order
// from POST to delivery: the 201 carries the ORDER object (with cards only
// if it is already delivered), the delivered order is the same through GET
// by id, GET by external_id and the signed callback, and its cards are the
// oldest imported keys.
func TestCreateOrderAnswers201AndDeliversFromImportedStock(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	imp := f.importStock(t, skuQB, "QB-0001-AAAA,pass-0001,2027-12-31\nQB-0002-BBBB,pass-0002,2027-12-31\nQB-0003-CCCC,pass-0003\n")
	if imp.Added != 3 {
		t.Fatalf("import added %d, want 3", imp.Added)
	}
	wantCards := []cardJSON{
		{Number: "QB-0001-AAAA", Password: "pass-0001", ExpiresAt: "2027-12-31"},
		{Number: "QB-0002-BBBB", Password: "pass-0002", ExpiresAt: "2027-12-31"},
	}

	body := mustJSON(t, newOrder{
		ExternalID: "T20261125-0001", SKU: skuQB, Quantity: 2, Amount: "100.00",
		Buyer:   &buyerJSON{ID: "u-8812", Contact: "a@example.com", IP: "203.0.113.9"},
		Account: "12345678", Extra: map[string]string{"region": "电信一区"},
	})
	r := f.post(t, "shop1", body)
	wantStatus(t, r, http.StatusCreated)
	created := r.order(t)

	// The engine may answer before or after delivering from stock; either
	// way the answer is consistent: cards exactly when delivered.
	want := orderJSON{ID: created.ID, ExternalID: "T20261125-0001", Storefront: "shop1", SKU: skuQB, Quantity: 2,
		Amount: "100.00", Status: "pending", Reason: "", CreatedAt: created.CreatedAt, UpdatedAt: created.UpdatedAt,
		DeliveredAt: nil, Cards: []cardJSON{}}
	if created.Status == "delivered" {
		want.Status, want.DeliveredAt, want.Cards = "delivered", created.DeliveredAt, wantCards
		if created.DeliveredAt == nil {
			t.Errorf("delivered order without delivered_at")
		}
	}
	if !ordersEqual(created, want) {
		t.Fatalf("201 order = %+v\nwant        %+v", created, want)
	}
	if created.ID != "1" {
		t.Errorf("first order id = %q, want \"1\"", created.ID)
	}

	cb := f.waitCallback(t, created.ID, "order.delivered")
	got := f.getOrder(t, "shop1", created.ID)
	if got.Status != "delivered" || got.Reason != "" || got.DeliveredAt == nil {
		t.Fatalf("delivered order: status %q reason %q delivered_at %v", got.Status, got.Reason, got.DeliveredAt)
	}
	if got.CreatedAt != created.CreatedAt {
		t.Errorf("created_at changed from %s to %s", created.CreatedAt, got.CreatedAt)
	}
	if !slices.Equal(got.Cards, wantCards) {
		t.Errorf("cards = %+v, want the two oldest imported keys %+v", got.Cards, wantCards)
	}

	byExt := f.get(t, "shop1", "/v1/orders?external_id=T20261125-0001")
	wantStatus(t, byExt, http.StatusOK)
	if o := byExt.order(t); !ordersEqual(o, got) {
		t.Errorf("GET by external_id = %+v\nGET by id          = %+v", o, got)
	}

	if cb.EventID == "" || cb.CreatedAt == "" {
		t.Errorf("callback event_id %q created_at %q, want both set", cb.EventID, cb.CreatedAt)
	}
	fromCallback := orderJSON{ID: cb.Order.ID, ExternalID: cb.Order.ExternalID, Storefront: cb.Order.Storefront,
		SKU: cb.Order.SKU, Quantity: cb.Order.Quantity, Amount: cb.Order.Amount, Status: cb.Order.Status,
		Reason: cb.Order.Reason, CreatedAt: cb.Order.CreatedAt, UpdatedAt: cb.Order.UpdatedAt, DeliveredAt: cb.Order.DeliveredAt}
	for _, c := range cb.Order.Cards {
		fromCallback.Cards = append(fromCallback.Cards, cardJSON(c))
	}
	if !ordersEqual(fromCallback, got) {
		t.Errorf("callback order = %+v\nGET order      = %+v", fromCallback, got)
	}
	if types := f.callbackTypes(created.ID); !slices.Equal(types, []string{"order.delivered"}) {
		t.Errorf("callbacks = %v, want [order.delivered]", types)
	}
	if lv := f.stockLevels(t)[skuQB]; lv != 1 {
		t.Errorf("qb-100 stock after delivering 2 of 3 = %d, want 1", lv)
	}
}

func ordersEqual(a, b orderJSON) bool {
	deref := func(p *string) string {
		if p == nil {
			return "<null>"
		}
		return *p
	}
	return a.ID == b.ID && a.ExternalID == b.ExternalID && a.Storefront == b.Storefront && a.SKU == b.SKU &&
		a.Quantity == b.Quantity && a.Amount == b.Amount && a.Status == b.Status && a.Reason == b.Reason &&
		a.CreatedAt == b.CreatedAt && a.UpdatedAt == b.UpdatedAt && deref(a.DeliveredAt) == deref(b.DeliveredAt) &&
		slices.Equal(a.Cards, b.Cards) && (a.Cards == nil) == (b.Cards == nil)
}

// TestAmountIsAnsweredWithTwoDecimals: money goes out as a decimal string
// with exactly two decimals, whatever form came in.
func TestAmountIsAnsweredWithTwoDecimals(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	for i, tc := range []struct{ in, out string }{
		{"100", "100.00"},
		{"100.5", "100.50"},
		{"0.05", "0.05"},
		{"0", "0.00"},
		{"007.10", "7.10"},
		{"999999999.99", "999999999.99"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			r := f.post(t, "shop1", simpleOrder(t, fmt.Sprintf("AMOUNT-%d", i), skuQB, 1, tc.in))
			wantStatus(t, r, http.StatusCreated)
			if got := r.order(t).Amount; got != tc.out {
				t.Errorf("amount %q answered as %q, want %q", tc.in, got, tc.out)
			}
		})
	}
}

// TestOrderWaitingForStockIsDelayedThenDeliveredOnImport: with no stock the
// order stays pending (reason out_of_stock), the storefront hears
// order.delayed, and an import delivers it without anyone asking.
func TestOrderWaitingForStockIsDelayedThenDeliveredOnImport(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	r := f.post(t, "shop1", simpleOrder(t, "WAIT-1", skuJD, 2, "50.00"))
	wantStatus(t, r, http.StatusCreated)
	id := r.order(t).ID

	delayed := f.waitCallback(t, id, "order.delayed")
	if delayed.Order.Status != "pending" || delayed.Order.Reason != "out_of_stock" || len(delayed.Order.Cards) != 0 {
		t.Errorf("delayed callback order: status %q reason %q cards %d, want pending/out_of_stock/0",
			delayed.Order.Status, delayed.Order.Reason, len(delayed.Order.Cards))
	}
	waiting := f.getOrder(t, "shop1", id)
	if waiting.Status != "pending" || waiting.Reason != "out_of_stock" || len(waiting.Cards) != 0 || waiting.DeliveredAt != nil {
		t.Errorf("waiting order = %+v, want pending, out_of_stock, no cards, no delivered_at", waiting)
	}

	f.importStock(t, skuJD, "JD-W-1,pw-1\nJD-W-2,pw-2\n")
	f.waitCallback(t, id, "order.delivered")
	got := f.getOrder(t, "shop1", id)
	if got.Status != "delivered" || len(got.Cards) != 2 {
		t.Fatalf("after import: status %q with %d cards, want delivered with 2", got.Status, len(got.Cards))
	}
	if types := f.callbackTypes(id); !slices.Equal(types, []string{"order.delayed", "order.delivered"}) {
		t.Errorf("callbacks = %v, want [order.delayed order.delivered]", types)
	}
}

// TestRepeatedOrderIsIdempotentByExternalID: the same external_id with the
// same order (however its JSON is written) answers 200 with the existing
// order; with a different order it answers 409 and changes nothing.
func TestRepeatedOrderIsIdempotentByExternalID(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.importStock(t, skuQB, "IDEM-1,p1\nIDEM-2,p2\nIDEM-3,p3\n")
	original := `{"external_id":"IDEM-0001","sku":"qb-100","quantity":2,"amount":"100.00",` +
		`"buyer":{"id":"u-1","contact":"a@example.com","ip":"203.0.113.9"},"extra":{"region":"电信一区","server":"s1"}}`
	r := f.post(t, "shop1", []byte(original))
	wantStatus(t, r, http.StatusCreated)
	id := r.order(t).ID

	for _, tc := range []struct {
		name   string
		body   string
		status int
	}{
		{"identical bytes", original, http.StatusOK},
		{"same fields, keys in another order, indented", `{
			"extra": {"server": "s1", "region": "电信一区"},
			"amount": "100.00", "quantity": 2,
			"buyer": {"ip": "203.0.113.9", "contact": "a@example.com", "id": "u-1"},
			"sku": "qb-100",   "external_id": "IDEM-0001"
		}`, http.StatusOK},
		{"same amount written as 100", strings.Replace(original, `"100.00"`, `"100"`, 1), http.StatusOK},
		{"different amount", strings.Replace(original, `"100.00"`, `"99.00"`, 1), http.StatusConflict},
		{"different quantity", strings.Replace(original, `"quantity":2`, `"quantity":3`, 1), http.StatusConflict},
		{"different sku", strings.Replace(original, `"qb-100"`, `"jd-50"`, 1), http.StatusConflict},
		{"different buyer contact", strings.Replace(original, `a@example.com`, `b@example.com`, 1), http.StatusConflict},
		{"account added", strings.Replace(original, `"sku"`, `"account":"12345678","sku"`, 1), http.StatusConflict},
		{"extra value changed", strings.Replace(original, `"s1"`, `"s2"`, 1), http.StatusConflict},
		{"extra dropped", strings.Replace(original, `,"extra":{"region":"电信一区","server":"s1"}`, ``, 1), http.StatusConflict},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := f.post(t, "shop1", []byte(tc.body))
			if tc.status == http.StatusConflict {
				e := wantError(t, r, http.StatusConflict, "conflict", "external_id")
				if !strings.Contains(e.Message, "external_id") {
					t.Errorf("conflict message %q does not say what conflicts", e.Message)
				}
				return
			}
			wantStatus(t, r, tc.status)
			if got := r.order(t); got.ID != id || got.ExternalID != "IDEM-0001" || got.Quantity != 2 {
				t.Errorf("repeat answered order %+v, want the existing order %s", got, id)
			}
		})
	}
	if n := f.lastOrderID(t); n != 1 {
		t.Errorf("orders stored = %d, want 1", n)
	}

	// Once delivered, a repeat answers the delivered order with its cards.
	f.waitCallback(t, id, "order.delivered")
	r = f.post(t, "shop1", []byte(original))
	wantStatus(t, r, http.StatusOK)
	if o := r.order(t); o.ID != id || o.Status != "delivered" || len(o.Cards) != 2 {
		t.Errorf("repeat after delivery = %+v, want order %s delivered with 2 cards", o, id)
	}
	if types := f.callbackTypes(id); !slices.Equal(types, []string{"order.delivered"}) {
		t.Errorf("callbacks = %v, want one order.delivered however often the order was repeated", types)
	}
}

// TestConcurrentRepeatsOfOneOrderCreateItOnce: a storefront that retries in
// parallel gets one 201 and 200s, all for the same order.
func TestConcurrentRepeatsOfOneOrderCreateItOnce(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	const n = 16
	body := simpleOrder(t, "RACE-0001", skuQB, 1, "10.00")
	calls := make([]call, n)
	for i := range calls {
		calls[i] = f.signed("shop1", http.MethodPost, "/v1/orders", body)
	}
	replies := make([]*reply, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			replies[i], errs[i] = roundTrip(context.Background(), f.api, calls[i])
		})
	}
	close(start)
	wg.Wait()

	statuses := map[int]int{}
	ids := map[string]bool{}
	for i, r := range replies {
		if errs[i] != nil {
			t.Fatalf("request %d: %v", i, errs[i])
		}
		statuses[r.status]++
		if r.status == http.StatusOK || r.status == http.StatusCreated {
			ids[r.order(t).ID] = true
		}
	}
	if statuses[http.StatusCreated] != 1 || statuses[http.StatusOK] != n-1 {
		t.Errorf("statuses = %v, want one 201 and %d 200", statuses, n-1)
	}
	if len(ids) != 1 {
		t.Errorf("order ids = %v, want one", slices.Collect(maps.Keys(ids)))
	}
	if got := f.lastOrderID(t); got != 1 {
		t.Errorf("orders stored = %d, want 1", got)
	}
}

// TestSameExternalIDFromTwoStorefrontsIsTwoOrders: external ids are per
// storefront; each storefront sees only its own.
func TestSameExternalIDFromTwoStorefrontsIsTwoOrders(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	r1 := f.post(t, "shop1", simpleOrder(t, "SHARED-0001", skuQB, 1, "100.00"))
	wantStatus(t, r1, http.StatusCreated)
	// A different body too: it is not a conflict, it is another shop's order.
	r2 := f.post(t, "shop2", simpleOrder(t, "SHARED-0001", skuJD, 2, "98.00"))
	wantStatus(t, r2, http.StatusCreated)
	o1, o2 := r1.order(t), r2.order(t)
	if o1.ID == o2.ID {
		t.Fatalf("both storefronts got order %s", o1.ID)
	}
	if o1.Storefront != "shop1" || o2.Storefront != "shop2" {
		t.Errorf("storefronts = %q, %q; want shop1, shop2", o1.Storefront, o2.Storefront)
	}
	for sf, want := range map[string]orderJSON{"shop1": o1, "shop2": o2} {
		r := f.get(t, sf, "/v1/orders?external_id=SHARED-0001")
		wantStatus(t, r, http.StatusOK)
		if got := r.order(t); got.ID != want.ID || got.SKU != want.SKU || got.Storefront != sf {
			t.Errorf("%s by external_id = order %s (%s, %s), want its own order %s", sf, got.ID, got.SKU, got.Storefront, want.ID)
		}
	}
}

// TestOrderOfAnotherStorefrontIsNotFound: another storefront's order is a
// 404 by id and by external_id, answered exactly like a missing order so it
// cannot even learn that the order exists.
func TestOrderOfAnotherStorefrontIsNotFound(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.importStock(t, skuQB, "OWN-1,secret-pw-1\n")
	r := f.post(t, "shop1", simpleOrder(t, "ONLY-SHOP1", skuQB, 1, "100.00"))
	wantStatus(t, r, http.StatusCreated)
	id := r.order(t).ID
	f.waitCallback(t, id, "order.delivered")

	missing := f.get(t, "shop2", "/v1/orders/999")
	wantError(t, missing, http.StatusNotFound, "not_found", "")
	missingExt := f.get(t, "shop2", "/v1/orders?external_id=NO-SUCH-ORDER")
	wantError(t, missingExt, http.StatusNotFound, "not_found", "")

	for _, tc := range []struct {
		name, path string
		like       *reply
	}{
		{"by id", "/v1/orders/" + id, missing},
		{"by external_id", "/v1/orders?external_id=ONLY-SHOP1", missingExt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := f.get(t, "shop2", tc.path)
			wantError(t, r, http.StatusNotFound, "not_found", "")
			if string(r.body) != string(tc.like.body) {
				t.Errorf("404 for another shop's order = %s\n404 for a missing order     = %s\nwant them identical", r.body, tc.like.body)
			}
			if strings.Contains(string(r.body), "secret-pw-1") || strings.Contains(string(r.body), "OWN-1") {
				t.Errorf("404 body leaks the card: %s", r.body)
			}
		})
	}
	if o := f.getOrder(t, "shop1", id); o.Status != "delivered" {
		t.Errorf("owner sees status %q, want delivered", o.Status)
	}
}

// TestGetOrderByMalformedIDIsNotFound: ids that are not a stored order's
// decimal id are 404 not_found in JSON, never 400 or 500.
func TestGetOrderByMalformedIDIsNotFound(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	wantStatus(t, f.post(t, "shop1", simpleOrder(t, "EXISTS-1", skuQB, 1, "1.00")), http.StatusCreated)
	for _, id := range []string{"abc", "1abc", "-1", "+1", "0", "1.0", "1e0", "0x1", "2", "18446744073709551615",
		"18446744073709551616", "99999999999999999999999", url.PathEscape("１"), url.PathEscape(" 1")} {
		t.Run(id, func(t *testing.T) {
			wantError(t, f.get(t, "shop1", "/v1/orders/"+id), http.StatusNotFound, "not_found", "")
		})
	}
}

// TestExternalIDOf64AllowedCharactersRoundTrips: the longest external id of
// the allowed alphabet (A-Z a-z 0-9 . _ : -) is accepted and found again.
func TestExternalIDOf64AllowedCharactersRoundTrips(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	ext := "AZaz09._:-" + strings.Repeat("x", 54)
	if len(ext) != 64 {
		t.Fatalf("test external id has %d chars", len(ext))
	}
	r := f.post(t, "shop1", simpleOrder(t, ext, skuQB, 1, "1.00"))
	wantStatus(t, r, http.StatusCreated)
	got := f.get(t, "shop1", "/v1/orders?external_id="+url.QueryEscape(ext))
	wantStatus(t, got, http.StatusOK)
	if o := got.order(t); o.ExternalID != ext {
		t.Errorf("external_id = %q, want %q", o.ExternalID, ext)
	}
}

// TestConcurrentOrdersNeverShareACard: many orders racing for little stock
// get distinct cards, the rest wait, and an import serves them all — no key
// ever reaches two orders (docs/lifecycle.md, invariant 2).
func TestConcurrentOrdersNeverShareACard(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	var lines strings.Builder
	for i := range 8 {
		fmt.Fprintf(&lines, "RACE-CARD-%02d,pw-%02d\n", i, i)
	}
	f.importStock(t, skuQB, lines.String())

	const n = 20
	calls := make([]call, n)
	for i := range calls {
		shop := []string{"shop1", "shop2"}[i%2]
		calls[i] = f.signed(shop, http.MethodPost, "/v1/orders", simpleOrder(t, fmt.Sprintf("RACE-%02d", i), skuQB, 1, "100.00"))
	}
	replies := make([]*reply, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { replies[i], errs[i] = roundTrip(context.Background(), f.api, calls[i]) })
	}
	wg.Wait()
	ids := make([]string, n)
	for i, r := range replies {
		if errs[i] != nil {
			t.Fatalf("order %d: %v", i, errs[i])
		}
		wantStatus(t, r, http.StatusCreated)
		ids[i] = r.order(t).ID
	}

	// 8 delivered and 12 told to wait, in whatever order the workers chose.
	waitCounts(t, f, 8, 12)

	var more strings.Builder
	for i := 8; i < n; i++ {
		fmt.Fprintf(&more, "RACE-CARD-%02d,pw-%02d\n", i, i)
	}
	f.importStock(t, skuQB, more.String())
	waitCounts(t, f, n, 12)

	owner := map[string]string{}
	for i, id := range ids {
		o := f.getOrder(t, calls[i].header.Get("X-Cardflow-Storefront"), id)
		if o.Status != "delivered" || len(o.Cards) != 1 {
			t.Fatalf("order %s: status %q with %d cards, want delivered with 1", id, o.Status, len(o.Cards))
		}
		if prev, ok := owner[o.Cards[0].Number]; ok {
			t.Errorf("card %s went to orders %s and %s", o.Cards[0].Number, prev, id)
		}
		owner[o.Cards[0].Number] = id
	}
	if len(owner) != n {
		t.Errorf("%d distinct cards delivered, want %d", len(owner), n)
	}
	if lv := f.stockLevels(t)[skuQB]; lv != 0 {
		t.Errorf("stock left = %d, want 0", lv)
	}
}

// waitCounts waits for at least delivered order.delivered and delayed
// order.delayed callbacks (distinct events).
func waitCounts(t *testing.T, f *fixture, delivered, delayed int) {
	t.Helper()
	f.callbacks.wait(t, fmt.Sprintf("%d delivered and %d delayed callbacks", delivered, delayed), func(cbs []storefront.Callback) bool {
		seen := map[string]bool{}
		count := map[string]int{}
		for _, cb := range cbs {
			if !seen[cb.EventID] {
				seen[cb.EventID] = true
				count[cb.Type]++
			}
		}
		return count["order.delivered"] >= delivered && count["order.delayed"] >= delayed
	})
}

// TestOrderTimesComeFromTheInjectedClock: orders are stamped by the injected
// clock, not the wall clock, and a new order's updated_at is its
// created_at.
func TestOrderTimesComeFromTheInjectedClock(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	r := f.post(t, "shop1", simpleOrder(t, "CLOCK-1", skuQB, 1, "1.00"))
	wantStatus(t, r, http.StatusCreated)
	o := r.order(t)
	created, err := time.Parse(time.RFC3339, o.CreatedAt)
	if err != nil {
		t.Fatal(err)
	}
	if now := f.clock.Now(); created.Before(startTime) || created.After(now) {
		t.Errorf("created_at %s is outside the injected clock's span %s..%s", o.CreatedAt, startTime, now)
	}
	if o.UpdatedAt != o.CreatedAt {
		t.Errorf("new order updated_at %s != created_at %s", o.UpdatedAt, o.CreatedAt)
	}
}

// TestNewOrdersWhileShuttingDownAre503: once the engine stops taking work,
// a new order is refused with 503 unavailable (the storefront retries
// later) and is not stored; reading existing orders still works.
func TestNewOrdersWhileShuttingDownAre503(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	r := f.post(t, "shop1", simpleOrder(t, "BEFORE-STOP", skuQB, 1, "1.00"))
	wantStatus(t, r, http.StatusCreated)
	id := r.order(t).ID
	f.waitCallback(t, id, "order.delayed")

	f.engine.Stop()
	wantError(t, f.post(t, "shop1", simpleOrder(t, "AFTER-STOP", skuQB, 1, "1.00")), http.StatusServiceUnavailable, "unavailable", "")
	if o := f.getOrder(t, "shop1", id); o.Status != "pending" {
		t.Errorf("existing order reads %s, want pending", o.Status)
	}
	wantError(t, f.get(t, "shop1", "/v1/orders?external_id=AFTER-STOP"), http.StatusNotFound, "not_found", "")
	if n := f.lastOrderID(t); n != 1 {
		t.Errorf("orders stored = %d, want 1", n)
	}
}
