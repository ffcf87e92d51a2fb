package main

// TestChaos's end: letting the run settle, then checking the invariants of
// docs/lifecycle.md from the storefront's records and the gateway's.

import (
	"context"
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"cardflow/card"
	"cardflow/internal/storefront"
	"cardflow/internal/testkit"
	"cardflow/suppliers/fulu/fulufake"
)

// explained are the reasons an order of this run may fail with: a top-up
// to a refused account (the gateway failed it), or a batch whose purchases
// kept bringing duplicate cards. Anything else is a promise broken.
func explained(o *chaosOrder, reason string) bool {
	if o.invalid {
		return reason == "supplier_failed" || reason == "invalid_account"
	}
	return reason == "duplicate_card"
}

// settle waits until every order has its last word at the storefront
// (order.delivered or order.refunded) and nothing is left in the outbox.
// A failed order is refunded through the admin API, as an operator would,
// once its reason is checked.
func (ch *chaosRun) settle(t *testing.T, p *proc, limit time.Duration) {
	ctx := context.Background()
	admin := ch.s.adminClient()
	var open []*chaosOrder
	settled := testkit.Poll(limit, 200*time.Millisecond, func() bool {
		open = nil
		for _, o := range ch.orders {
			cbs := ch.s.receiver.Callbacks(o.id)
			if len(cbs) == 0 {
				open = append(open, o)
				continue
			}
			last := cbs[len(cbs)-1]
			switch last.Type {
			case "order.delivered", "order.refunded":
				continue
			case "order.failed":
				if ch.byHand[o.id] {
					break
				}
				ch.byHand[o.id] = true
				if !explained(o, last.Order.Reason) {
					t.Errorf("order %s (%s, account %q) failed with reason %q, which nothing in this run explains",
						o.id, o.req.SKU, o.req.Account, last.Order.Reason)
				}
				if status, err := admin.Refund(ctx, o.id, "chaos test refunds what failed"); err != nil || status != "refunded" {
					t.Errorf("refund failed order %s: %s %v", o.id, status, err)
				}
			}
			open = append(open, o)
		}
		return len(open) == 0 && strings.Contains(ch.s.scrape(t), "\ncardflow_outbox_backlog 0\n")
	})
	if settled {
		return
	}
	ch.explainStuck(t, open)
	backlog := "?"
	for _, line := range strings.Split(ch.s.scrape(t), "\n") {
		if strings.HasPrefix(line, "cardflow_outbox_backlog ") {
			backlog = strings.TrimPrefix(line, "cardflow_outbox_backlog ")
		}
	}
	t.Fatalf("%d orders not settled %v after the load (outbox backlog %s); service log:\n%s", len(open), limit,
		backlog, lastLines(p.logs(), 30))
}

// explainStuck logs what the storefront and the gateway know of a few
// unsettled orders.
func (ch *chaosRun) explainStuck(t *testing.T, open []*chaosOrder) {
	recs := ch.gw.Orders()
	for _, o := range open[:min(len(open), 5)] {
		got, _, err := ch.s.client().Get(context.Background(), o.id)
		t.Logf("order %s (%s ×%d): status %s reason %q err %v; callbacks %v", o.id, o.req.SKU, o.req.Quantity,
			got.Status, got.Reason, err, ch.s.receiver.Types(o.id))
		for _, r := range recs {
			if strings.HasPrefix(r.No, "CF"+o.id+"-") {
				t.Logf("  gateway %s: %s, %d add calls", r.No, r.State, r.AddCalls)
			}
		}
	}
}

// findings reports the first broken promises in full and counts the rest,
// so that a systematic break reads as one screen, not thousands of lines.
type findings struct {
	t *testing.T
	n int
}

func (f *findings) add(format string, args ...any) {
	f.t.Helper()
	if f.n++; f.n <= 20 {
		f.t.Errorf(format, args...)
	}
}

// decimal is a money string as the API writes one: at most two decimals.
var decimal = regexp.MustCompile(`^(0|[1-9][0-9]*)(\.[0-9]{1,2})?$`)

// fen reads a decimal money string, or -1 if it is not one.
func fen(s string) int64 {
	if !decimal.MatchString(s) {
		return -1
	}
	whole, frac, _ := strings.Cut(s, ".")
	frac += "00"[len(frac):]
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil {
		return -1
	}
	return n
}

// chaosStatus is the order status each callback type may carry.
var chaosStatus = map[string][]string{"order.delivered": {"delivered"}, "order.failed": {"failed"},
	"order.refunded": {"refunded"}, "order.delayed": {"pending", "processing"}}

// lifecycle checks an order's callbacks against the order's moves
// (docs/lifecycle.md) as this run drives them (no reissues; only failed
// orders are refunded by hand): any number of delays, then exactly one
// outcome.
func lifecycle(cbs []storefront.Callback) bool {
	i := 0
	for i < len(cbs) && cbs[i].Type == "order.delayed" {
		i++
	}
	var rest []string
	for _, cb := range cbs[i:] {
		rest = append(rest, cb.Type)
	}
	switch strings.Join(rest, " ") {
	case "order.delivered", "order.refunded", "order.failed order.refunded":
		return true
	}
	return false
}

// chaosBatch is each product's batch_size (chaosCatalogue; qb-10 is never
// bought from a supplier).
var chaosBatch = map[string]int{"qb-10": 5, "fl-card": 2, "mix-card": 2, "fl-topup": 5}

// batches is how many supplier purchases an order is bought in.
func batches(o *chaosOrder) int {
	size := chaosBatch[o.req.SKU]
	return (o.req.Quantity + size - 1) / size
}

// cardKey identifies one issued card: duplicate cards share a number but
// never a password, so this tells which purchase a delivered card came from.
func cardKey(number, password string) string { return number + "\x00" + password }

// tally is what the check counted, for the summary.
type tally struct {
	delivered, refunded, invalid int
	dupNumbers, dupRejected      int // card numbers the gateway issued more than once, and purchases cardflow rejected for one
	ownDelivered                 map[string]int
}

// check verifies the invariants of docs/lifecycle.md for every accepted order.
func (ch *chaosRun) check(t *testing.T) tally {
	f := &findings{t: t}
	ctx := context.Background()
	client := ch.s.client()
	tl := tally{ownDelivered: map[string]int{}}

	// The gateway's records: purchases by order and batch, and how many
	// purchases issued each card number (more than one: a duplicate card).
	type batchKey struct {
		order string
		batch int
	}
	bought := map[batchKey][]fulufake.OrderRecord{}
	issued := map[string]int{}
	byID := map[string]*chaosOrder{}
	for _, o := range ch.orders {
		byID[o.id] = o
	}
	for _, r := range ch.gw.Orders() {
		// Purchase numbers are CF<order>-<batch>-<random> (processor.attemptNo).
		rest, _ := strings.CutPrefix(r.No, "CF")
		parts := strings.Split(rest, "-")
		var o *chaosOrder
		b := -1
		if len(parts) == 3 {
			o = byID[parts[0]]
			b, _ = strconv.Atoi(parts[1])
		}
		if o == nil || b < 0 || b >= batches(o) {
			f.add("gateway order %q is for no batch of an accepted order: bought for nobody", r.No)
			continue
		}
		bought[batchKey{o.id, b}] = append(bought[batchKey{o.id, b}], r)
		for _, c := range r.Cards {
			issued[c.Number]++
		}
	}
	for _, n := range issued {
		if n > 1 {
			tl.dupNumbers++
		}
	}

	owner := map[string]string{} // card number → the order it was delivered to
	heldMax := 0                 // own-stock units refunded orders may hold
	for _, ext := range slices.Sorted(maps.Keys(ch.orders)) {
		o := ch.orders[ext]
		got := ch.checkStorefront(ctx, f, client, o)
		if o.invalid {
			tl.invalid++
		}
		switch got.Status {
		case "delivered":
			tl.delivered++
		case "refunded":
			tl.refunded++
			if o.req.SKU == "mix-card" {
				heldMax += o.req.Quantity
			}
		}
		// Invariant 2: a card key goes to one order, ever.
		delivered := map[string]bool{}
		for _, c := range got.Cards {
			if other, ok := owner[c.Number]; ok {
				f.add("card %s delivered to orders %s and %s", c.Number, other, o.id)
			}
			owner[c.Number] = o.id
			delivered[cardKey(c.Number, c.Password)] = true
			if own := "OWN-" + strings.ToUpper(o.req.SKU) + "-"; strings.HasPrefix(c.Number, own) {
				tl.ownDelivered[o.req.SKU]++
			} else if o.req.SKU == "qb-10" || issued[c.Number] == 0 {
				f.add("order %s (%s) delivered card %s, which neither its own stock nor the gateway issued",
					o.id, o.req.SKU, c.Number)
			}
		}
		// Invariant 3: each batch bought at most once; a purchase that was
		// not delivered is one cardflow rejected for a duplicate card.
		rejected := 0
		for b := range batches(o) {
			units := min(chaosBatch[o.req.SKU], o.req.Quantity-b*chaosBatch[o.req.SKU])
			rejected += ch.checkBatch(f, o, got.Status, b, units, bought[batchKey{o.id, b}], delivered, issued)
		}
		// A duplicate card delays the order, and the buyer is told.
		if rejected > 0 && !slices.Contains(ch.s.receiver.Types(o.id), "order.delayed") {
			f.add("order %s had %d purchases rejected for duplicate cards but no order.delayed callback", o.id, rejected)
		}
		tl.dupRejected += rejected
	}
	if f.n > 20 {
		t.Errorf("… and %d more broken promises", f.n-20)
	}
	if pr := ch.s.receiver.Problems(); len(pr) > 0 {
		t.Errorf("the storefront's receiver saw %d broken promises, first: %v", len(pr), pr[:min(len(pr), 5)])
	}
	if st := ch.s.receiver.Stats(); st.Rejected > 0 {
		t.Errorf("%d callbacks were rejected (bad signature or body)", st.Rejected)
	}
	ch.checkStock(t, tl, heldMax)
	if n := ch.gw.BalanceRefusals(); n > 0 {
		t.Errorf("the gateway refused %d purchases for balance: chaosBalance is too small for this load", n)
	}
	if tl.ownDelivered["mix-card"] == 0 {
		t.Errorf("no two-source order fell back to own stock, though the gateway's item sold out: routing untested")
	}
	return tl
}

// checkStorefront checks one order as the storefront knows it: its answer,
// GETs by id and external id, and its callbacks (invariants 1, 4 and 5).
func (ch *chaosRun) checkStorefront(ctx context.Context, f *findings, client *storefront.Client, o *chaosOrder) storefront.Order {
	byExt, _, err := client.Do(ctx, "GET", "/v1/orders?external_id="+url.QueryEscape(o.req.ExternalID), nil)
	if err != nil || byExt.ID != o.id {
		f.add("order %s: GET by external id answered order %q, %v: the accepted order is lost", o.req.ExternalID, byExt.ID, err)
	}
	got, _, err := client.Get(ctx, o.id)
	if err != nil {
		f.add("order %s: GET: %v", o.id, err)
		return got
	}
	same := func(what string, v storefront.Order) {
		if v.ID != o.id || v.ExternalID != o.req.ExternalID || v.SKU != o.req.SKU || v.Quantity != o.req.Quantity {
			f.add("order %s: %s is about %s %s %s×%d, the storefront sent %s %s×%d", o.id, what, v.ID, v.ExternalID,
				v.SKU, v.Quantity, o.req.ExternalID, o.req.SKU, o.req.Quantity)
		}
		if fen(v.Amount) != o.fen {
			f.add("order %s: %s has amount %q, the storefront sent %q (%d fen)", o.id, what, v.Amount, o.req.Amount, o.fen)
		}
	}
	same("the answer", o.answer)
	same("GET", got)
	switch {
	case got.Status != "delivered" && got.Status != "refunded":
		f.add("order %s ended %s (%s), not delivered or refunded", o.id, got.Status, got.Reason)
	case got.Status == "delivered" && o.invalid:
		f.add("order %s, a top-up to refused account %q, was delivered", o.id, o.req.Account)
	case got.Status == "refunded" && len(got.Cards) > 0:
		f.add("order %s was refunded but shows %d cards", o.id, len(got.Cards))
	case got.Status == "refunded" && !ch.byHand[o.id] && !(o.invalid && got.Reason == "invalid_account"):
		f.add("order %s refunded by itself with reason %q: only refused accounts are refunded without a person", o.id, got.Reason)
	}
	if o.answer.Status == "delivered" && !sameCards(o.answer.Cards, got.Cards) {
		f.add("order %s: the answer delivered other cards than GET shows", o.id)
	}

	cbs := ch.s.receiver.Callbacks(o.id)
	if !lifecycle(cbs) {
		types := make([]string, 0, len(cbs))
		for _, cb := range cbs {
			types = append(types, cb.Type+"/"+cb.Order.Reason)
		}
		f.add("order %s (%s) callbacks %v: not delays then one outcome", o.id, o.req.SKU, types)
		return got
	}
	if last := cbs[len(cbs)-1]; last.Order.Status != got.Status {
		f.add("order %s: last callback says %s, GET says %s", o.id, last.Order.Status, got.Status)
	}
	// order.delayed is news once per cause: a second delay that looks like
	// an earlier one is the order being looked at again, not news.
	told := map[string]bool{}
	for _, cb := range cbs {
		if cb.Type != "order.delayed" {
			continue
		}
		if cause := cb.Order.Status + "/" + cb.Order.Reason; told[cause] {
			f.add("order %s (%s): order.delayed sent again for %s", o.id, o.req.SKU, cause)
		} else {
			told[cause] = true
		}
	}
	for _, cb := range cbs {
		same(cb.Type+" callback", cb.Order)
		if !slices.Contains(chaosStatus[cb.Type], cb.Order.Status) {
			f.add("order %s: %s callback carries status %s", o.id, cb.Type, cb.Order.Status)
		}
		if cb.Type == "order.delivered" && !sameCards(cb.Order.Cards, got.Cards) {
			f.add("order %s: the delivered callback carries other cards than GET shows", o.id)
		}
	}
	return got
}

func sameCards(a, b []storefront.Card) bool {
	key := func(cs []storefront.Card) []string {
		out := make([]string, 0, len(cs))
		for _, c := range cs {
			out = append(out, cardKey(c.Number, c.Password))
		}
		slices.Sort(out)
		return out
	}
	return slices.Equal(key(a), key(b))
}

// checkBatch checks the gateway's purchases for one batch of an order of
// units units against what the order got, and returns how many purchases
// cardflow rightly rejected for a duplicate card.
func (ch *chaosRun) checkBatch(f *findings, o *chaosOrder, status string, b, units int, recs []fulufake.OrderRecord,
	delivered map[string]bool, issued map[string]int) (rejected int) {
	var kept []fulufake.OrderRecord
	for _, r := range recs {
		if r.Kind == "direct" {
			continue // checked below: top-ups have no cards to tell purchases apart
		}
		all := len(r.Cards) > 0
		for _, c := range r.Cards {
			all = all && delivered[cardKey(c.Number, c.Password)]
		}
		switch {
		case all && status == "delivered":
			kept = append(kept, r)
		case slices.ContainsFunc(r.Cards, func(c card.Card) bool { return issued[c.Number] > 1 }):
			rejected++ // a duplicate card: rightly never delivered, and bought again
		default:
			f.add("order %s batch %d: gateway purchase %s (%s) was neither delivered nor a duplicate: bought twice",
				o.id, b, r.No, r.State)
		}
	}
	switch o.req.SKU {
	case "fl-card", "mix-card":
		if len(kept) > 1 || o.req.SKU == "fl-card" && status == "delivered" && len(kept) != 1 {
			f.add("order %s batch %d: %d gateway purchases delivered", o.id, b, len(kept))
		}
		if len(kept) == 1 && len(kept[0].Cards) != units {
			f.add("order %s batch %d: delivered purchase %s has %d cards for %d units", o.id, b, kept[0].No, len(kept[0].Cards), units)
		}
	case "fl-topup":
		success := 0
		for _, r := range recs {
			if r.State == "success" {
				success++
			}
			if r.Account != o.req.Account || r.BuyNum != units {
				f.add("order %s: top-up %s is %d to %q, the storefront sent %d to %q", o.id, r.No, r.BuyNum, r.Account, units, o.req.Account)
			}
		}
		want := 0
		if status == "delivered" {
			want = 1
		}
		if len(recs) > 1 || success != want {
			f.add("order %s (%s): %d top-ups at the gateway, %d succeeded", o.id, status, len(recs), success)
		}
	case "qb-10":
		if len(recs) > 0 {
			f.add("order %s of own stock has %d gateway purchases", o.id, len(recs))
		}
	}
	return rejected
}

// checkStock checks own stock: every card that left it was delivered,
// except those held by refunded orders of the two-source product.
func (ch *chaosRun) checkStock(t *testing.T, tl tally, heldMax int) {
	levels, err := ch.s.adminClient().Stock(context.Background())
	if err != nil {
		t.Fatalf("stock: %v", err)
	}
	for _, l := range levels {
		held := ch.imported[l.SKU] - l.Level - tl.ownDelivered[l.SKU]
		if held < 0 || held > 0 && (l.SKU != "mix-card" || held > heldMax) {
			t.Errorf("stock %s: %d imported, %d left, %d delivered: %d cards unaccounted for", l.SKU,
				ch.imported[l.SKU], l.Level, tl.ownDelivered[l.SKU], held)
		}
	}
}

// summary logs the run's figures.
func (ch *chaosRun) summary(t *testing.T, tl tally, load, ran, settled time.Duration) {
	skus := map[string]int{}
	for _, o := range ch.orders {
		skus[o.req.SKU]++
	}
	faults := ch.gw.Faults()
	var fs []string
	total := 0
	for _, k := range slices.Sorted(maps.Keys(faults)) {
		fs = append(fs, fmt.Sprintf("%s=%d", k, faults[k]))
		total += faults[k]
	}
	st := ch.s.receiver.Stats()
	t.Logf("chaos %v (load ran %v, settled in %v): %d orders (own %d, fulu card %d, two-source %d, top-up %d of which %d to refused accounts); "+
		"%d delivered, %d refunded (%d by hand after failing), %d two-source cards from own stock; %d kills, %d with gateway requests in flight; "+
		"gateway: %d purchases, %d add calls, %d faults (%s), %s yuan of its %s balance spent; callbacks: %d accepted, %d failed on purpose and retried, %d repeats de-duplicated; "+
		"duplicate cards: %d numbers issued twice, %d purchases rejected; re-sent orders: %d same body, %d other body",
		load, ran.Round(time.Millisecond), settled.Round(time.Millisecond), len(ch.orders), skus["qb-10"], skus["fl-card"],
		skus["mix-card"], skus["fl-topup"], tl.invalid, tl.delivered, tl.refunded, len(ch.byHand), tl.ownDelivered["mix-card"], ch.kills, ch.midFlight,
		len(ch.gw.Orders()), ch.gw.AddCalls(), total, strings.Join(fs, " "), ch.balance-ch.gw.Balance(), ch.balance, st.Accepted, st.Failed, st.Repeats,
		tl.dupNumbers, tl.dupRejected, ch.resent.Load(), ch.conflicts.Load())
}
