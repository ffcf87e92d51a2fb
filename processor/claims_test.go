package processor

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"cardflow/alert"
	"cardflow/config"
	"cardflow/internal/money"
	"cardflow/internal/testkit"
	"cardflow/processor/outbox"
	"cardflow/storage"
)

// claimFixture is an engine with two cardflow-protocol storefronts ("shop"
// and "shop2", one callback receiver) and a docking shop "dj1", and qb-10
// in stock.
func claimFixture(t *testing.T) *fixture {
	f := newFixture(t, func(o *Options) {
		o.Storefronts = append(o.Storefronts, outbox.Storefront{ID: "shop2", Secret: []byte(shopSecret), CallbackURL: o.Storefronts[0].CallbackURL})
		o.Docking = map[string]money.Amount{"dj1": 100_00}
		o.Products = []config.Product{testProducts[0], testProducts[1]}
		o.Products[0].ID, o.Products[0].Price = 1001, 950
	})
	f.receiver.Secrets["shop2"] = []byte(shopSecret) // before any callback: nothing reads it yet
	f.importCards("qb-10", "CL", 40)
	return f
}

// delivered submits an order of shop and waits for its delivery.
func (f *fixture) delivered(ext string, qty int) *storage.Order {
	f.t.Helper()
	o := f.submit(ext, "qb-10", qty, money.Amount(qty*1000))
	o = f.waitStatus(o.ID, storage.StatusDelivered)
	f.waitCallbacks(o.ID, CallbackDelivered)
	return o
}

// number opens the number of an order's card i.
func (f *fixture) number(o *storage.Order, i int) string {
	f.t.Helper()
	c, err := f.store.Vault().Open(o.Cards[i])
	if err != nil {
		f.t.Fatal(err)
	}
	return c.Number
}

func (f *fixture) openClaim(orderID uint64, req ClaimRequest) *storage.Claim {
	f.t.Helper()
	cl, created, err := f.engine.OpenClaim("shop", orderID, req)
	if err != nil || !created {
		f.t.Fatalf("open claim on %d: created %v, %v", orderID, created, err)
	}
	return cl
}

func (f *fixture) claimAlert(id uint64, resolved bool) (storage.Alert, bool) {
	f.alerts.mu.Lock()
	defer f.alerts.mu.Unlock()
	for _, a := range f.alerts.alerts {
		if a.Type == alert.Claim && a.Claim != nil && a.Claim.ID == id && a.Resolved == resolved {
			return a, true
		}
	}
	return storage.Alert{}, false
}

// TestAClaimRaisesOnePromptWithWhatAnOperatorNeeds: a claim on a delivered
// order is stored open with the positions of the cards it names (any
// spelling of the number), and its prompt says the order, SKU, quantity,
// reason, the buyer's words, the supplier of each card and how often the
// buyer claimed before. Nothing about the order changes.
func TestAClaimRaisesOnePromptWithWhatAnOperatorNeeds(t *testing.T) {
	f := claimFixture(t)
	o := f.delivered("CL-1", 3)
	second := f.number(o, 1)
	spelled := strings.ToLower(second[:2]) + " " + second[2:] // how a buyer may type it
	cl := f.openClaim(o.ID, ClaimRequest{Reason: ClaimCardInvalid, Message: "提示已使用\n第二张", Cards: []string{spelled, second}})
	if cl.Status != storage.ClaimOpen || cl.OrderID != o.ID || cl.CardSet != 1 || len(cl.Cards) != 1 || cl.Cards[0] != 1 ||
		cl.Sources[0] != "own" || cl.Storefront != "shop" {
		t.Fatalf("claim = %+v", cl)
	}
	testkit.Eventually(t, "claim prompt", func() bool { _, ok := f.claimAlert(cl.ID, false); return ok })
	a, _ := f.claimAlert(cl.ID, false)
	if a.OrderID != o.ID || a.SKU != "qb-10" || a.Key != fmt.Sprintf("claim:%d", cl.ID) || a.Claim.Quantity != 3 || a.Claim.Cards != 1 ||
		a.Claim.Reason != ClaimCardInvalid || a.Claim.Message != "提示已使用\n第二张" || a.Claim.History != 0 ||
		len(a.Claim.Sources) != 1 || a.Claim.Sources[0] != "own #1" { // own stock, import batch 1
		t.Fatalf("prompt = %+v %+v", a, a.Claim)
	}
	if strings.Contains(fmt.Sprintf("%+v %+v", a, a.Claim), second) {
		t.Fatal("the prompt carries a card number")
	}
	after := f.order(o.ID)
	if after.Status != storage.StatusDelivered || len(after.History) != len(o.History) || len(after.Cards) != 3 {
		t.Fatalf("the claim changed the order: %+v", after)
	}
	if got, err := f.engine.ClaimsOf(o.ID); err != nil || len(got) != 1 || got[0].ID != cl.ID {
		t.Fatalf("claims of the order = %v, %v", got, err)
	}
	if open, n, err := f.engine.Claims(storage.ClaimOpen, 10); err != nil || n != 1 || open[0].ID != cl.ID {
		t.Fatalf("open claims = %v (%d), %v", open, n, err)
	}
}

// TestAClaimIDIsIdempotentPerStorefront: the same claim_id with the same
// claim answers the stored claim, not a new one (also once resolved);
// with another claim it is a conflict.
func TestAClaimIDIsIdempotentPerStorefront(t *testing.T) {
	f := claimFixture(t)
	o := f.delivered("CL-2", 1)
	req := ClaimRequest{ClaimID: "T-9", Reason: ClaimNotReceived, Message: "没到账"}
	first := f.openClaim(o.ID, req)
	again, created, err := f.engine.OpenClaim("shop", o.ID, req)
	if err != nil || created || again.ID != first.ID {
		t.Fatalf("repeat: claim %+v, created %v, %v", again, created, err)
	}
	other := req
	other.Message = "另一件事"
	if _, _, err := f.engine.OpenClaim("shop", o.ID, other); !errors.Is(err, ErrClaimIDConflict) {
		t.Fatalf("claim_id reused for another claim: %v, want ErrClaimIDConflict", err)
	}
	if _, _, err := f.engine.ResolveClaim(alice, first.ID, ActionReject, "已核实"); err != nil {
		t.Fatal(err)
	}
	again, created, err = f.engine.OpenClaim("shop", o.ID, req)
	if err != nil || created || again.ID != first.ID || again.Status != storage.ClaimRejected {
		t.Fatalf("repeat after rejection: claim %+v, created %v, %v", again, created, err)
	}
}

// TestBadClaimsAreRefusedWithTheirErrors: each input the API documents an
// answer for gets its error, and none stores a claim. Tried: an unknown
// order, another storefront's order, a docking shop, an order in review,
// a claim while one is open, an unknown reason, a card of another order, a
// card number never delivered, an empty card, a malformed claim_id, a
// message of 1,001 characters, a message with a control character and one
// with a bidi override, too many cards, a note too long.
func TestBadClaimsAreRefusedWithTheirErrors(t *testing.T) {
	f := newFixture(t, func(o *Options) {
		o.Screen = holdLarge{}
		o.Storefronts = append(o.Storefronts, outbox.Storefront{ID: "shop2", Secret: []byte(shopSecret), CallbackURL: o.Storefronts[0].CallbackURL})
		o.Docking = map[string]money.Amount{"dj1": 100_00}
	})
	f.receiver.Secrets["shop2"] = []byte(shopSecret)
	f.importCards("qb-10", "BAD", 20)
	o := f.delivered("BAD-1", 1)
	other := f.delivered("BAD-2", 1)
	held := f.submit("BAD-3", "qb-10", 6, 600_00) // in review
	card := f.number(o, 0)
	open := f.openClaim(other.ID, ClaimRequest{Reason: ClaimOther})
	inputErr := func(code, field string) func(error) bool {
		return func(err error) bool {
			var in *InputError
			return errors.As(err, &in) && in.Code == code && in.Field == field
		}
	}
	isState := func(err error) bool { var st *StateError; return errors.As(err, &st) }
	for _, tc := range []struct {
		name       string
		storefront string
		order      uint64
		req        ClaimRequest
		want       func(error) bool
	}{
		{"unknown order", "shop", 9999, ClaimRequest{Reason: ClaimOther}, func(err error) bool { return errors.Is(err, ErrNotFound) }},
		{"another storefront's order", "shop2", o.ID, ClaimRequest{Reason: ClaimOther}, func(err error) bool { return errors.Is(err, ErrNotFound) }},
		{"a docking shop", "dj1", o.ID, ClaimRequest{Reason: ClaimOther}, func(err error) bool { return errors.Is(err, ErrNotFound) }},
		{"an order in review", "shop", held.ID, ClaimRequest{Reason: ClaimOther}, isState},
		{"a claim open already", "shop", other.ID, ClaimRequest{Reason: ClaimOther}, func(err error) bool { return errors.Is(err, ErrClaimOpen) }},
		{"unknown reason", "shop", o.ID, ClaimRequest{Reason: "angry"}, inputErr(CodeUnknownReason, "reason")},
		{"a card of another order", "shop", o.ID, ClaimRequest{Reason: ClaimCardInvalid, Cards: []string{card, f.number(other, 0)}},
			inputErr(CodeUnknownCard, "cards[1]")},
		{"a card never delivered", "shop", o.ID, ClaimRequest{Reason: ClaimCardInvalid, Cards: []string{"NOPE-1"}}, inputErr(CodeUnknownCard, "cards[0]")},
		{"an empty card", "shop", o.ID, ClaimRequest{Reason: ClaimCardInvalid, Cards: []string{" - "}}, inputErr(CodeInvalidRequest, "cards[0]")},
		{"a malformed claim_id", "shop", o.ID, ClaimRequest{Reason: ClaimOther, ClaimID: "a b"}, inputErr(CodeInvalidRequest, "claim_id")},
		{"a message too long", "shop", o.ID, ClaimRequest{Reason: ClaimOther, Message: strings.Repeat("长", MaxClaimMessage+1)},
			inputErr(CodeInvalidRequest, "message")},
		{"a control character", "shop", o.ID, ClaimRequest{Reason: ClaimOther, Message: "a\x1b[31m"}, inputErr(CodeInvalidRequest, "message")},
		{"a bidi override", "shop", o.ID, ClaimRequest{Reason: ClaimOther, Message: "a\u202eb"}, inputErr(CodeInvalidRequest, "message")},
		{"invalid UTF-8", "shop", o.ID, ClaimRequest{Reason: ClaimOther, Message: "a\xffb"}, inputErr(CodeInvalidRequest, "message")},
		{"too many cards", "shop", o.ID, ClaimRequest{Reason: ClaimOther, Cards: make([]string, MaxClaimCards+1)}, inputErr(CodeInvalidRequest, "cards")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cl, created, err := f.engine.OpenClaim(tc.storefront, tc.order, tc.req)
			if !tc.want(err) || cl != nil || created {
				t.Fatalf("claim %+v, created %v, err %v", cl, created, err)
			}
			if strings.Contains(err.Error(), card) {
				t.Fatalf("the error quotes a card number: %v", err)
			}
		})
	}
	if claims, n, _ := f.engine.Claims("", 100); n != 1 || claims[0].ID != open.ID {
		t.Fatalf("claims stored: %v", claims)
	}
	if _, _, err := f.engine.ResolveClaim(alice, open.ID, "destroy", ""); !inputErr(CodeInvalidRequest, "action")(err) {
		t.Fatalf("an unknown action: %v", err)
	}
	if _, _, err := f.engine.ResolveClaim(alice, open.ID, ActionReject, strings.Repeat("x", MaxClaimNote+1)); !inputErr(CodeInvalidRequest, "note")(err) {
		t.Fatalf("a note too long: %v", err)
	}
	if _, _, err := f.engine.ResolveClaim(alice, 777, ActionReject, ""); !errors.Is(err, ErrNotFound) {
		t.Fatalf("an unknown claim: %v", err)
	}
	if _, _, err := f.engine.Claims("closed", 10); !inputErr(CodeInvalidRequest, "status")(err) {
		t.Fatalf("an unknown status: %v", err)
	}
}

// TestAReissuedClaimDeliversNewCardsAndSaysWhichReplacedWhich: a reissue
// resolves the claim, takes cards never delivered, keeps the claimed set
// as replaced (the claim names both sets), closes the prompt, is audited,
// and the storefront hears claim.resolved, then order.delivered (reissue)
// with the new cards. The claim still shows the numbers the buyer named.
func TestAReissuedClaimDeliversNewCardsAndSaysWhichReplacedWhich(t *testing.T) {
	f := claimFixture(t)
	o := f.delivered("CL-3", 2)
	old := []string{f.number(o, 0), f.number(o, 1)}
	cl := f.openClaim(o.ID, ClaimRequest{Reason: ClaimCardInvalid, Cards: []string{old[1]}})
	got, after, err := f.engine.ResolveClaim(alice, cl.ID, ActionReissue, "换新卡")
	if err != nil || got.Status != storage.ClaimReissued || got.ReplacedBy != 2 || got.ResolvedBy != alice || got.Note != "换新卡" ||
		after.Reason != ReasonReissue {
		t.Fatalf("resolved claim %+v, order %+v, %v", got, after, err)
	}
	now := f.waitStatus(o.ID, storage.StatusDelivered)
	f.waitCallbacks(o.ID, CallbackDelivered, CallbackClaimResolved, CallbackDelivered)
	if len(now.Replaced) != 1 || now.CardSet() != got.ReplacedBy {
		t.Fatalf("order card sets: %d replaced, current %d", len(now.Replaced), now.CardSet())
	}
	for i := range now.Cards {
		if n := f.number(now, i); n == old[0] || n == old[1] {
			t.Fatalf("reissued card %d is one delivered before", i)
		}
	}
	cbs := f.receiver.Callbacks(fmt.Sprint(o.ID))
	resolved, redelivered := cbs[1], cbs[2]
	if c := resolved.Claim; c == nil || c.ID != fmt.Sprint(cl.ID) || c.Status != "reissued" || c.Note != "换新卡" ||
		len(c.Cards) != 1 || c.Cards[0] != old[1] || c.ResolvedBy == nil || *c.ResolvedBy != "alice" || c.ResolvedAt == nil {
		t.Fatalf("claim.resolved carries %+v", resolved.Claim)
	}
	if resolved.Order.Status != "pending" || resolved.Order.Reason != ReasonReissue || len(resolved.Order.Cards) != 0 {
		t.Fatalf("claim.resolved's order = %+v, want the reissue under way", resolved.Order)
	}
	if redelivered.Order.Reason != ReasonReissue || len(redelivered.Order.Cards) != 2 || redelivered.Order.Cards[0].Number != f.number(now, 0) {
		t.Fatalf("order.delivered after the reissue = %+v", redelivered.Order)
	}
	if p := f.receiver.Problems(); len(p) > 0 {
		t.Fatalf("storefront saw problems: %v", p)
	}
	testkit.Eventually(t, "prompt resolved", func() bool { _, ok := f.claimAlert(cl.ID, true); return ok })
	if e := f.audit(1)[0]; e.Action != "claim.reissue" || e.Outcome != "ok" || e.Actor != alice || e.Target != fmt.Sprint(o.ID) ||
		!strings.Contains(e.Detail, fmt.Sprintf("claim %d", cl.ID)) {
		t.Fatalf("audit = %+v", e)
	}
	if open, n, _ := f.engine.Claims(storage.ClaimOpen, 10); n != 0 || len(open) != 0 {
		t.Fatalf("open claims after resolving: %v", open)
	}
}

// TestARefundedClaimRefundsTheOrderAndARejectedOneChangesNothing: refund
// goes through the refund path (order.refunded, then claim.resolved); a
// rejection leaves the order as it was and sends only claim.resolved; the
// buyer's next claim shows one claim before.
func TestARefundedClaimRefundsTheOrderAndARejectedOneChangesNothing(t *testing.T) {
	f := claimFixture(t)
	o := f.delivered("CL-4", 1)
	cl := f.openClaim(o.ID, ClaimRequest{Reason: ClaimNotReceived})
	got, after, err := f.engine.ResolveClaim(bob, cl.ID, ActionRefund, "")
	if err != nil || got.Status != storage.ClaimRefunded || after.Status != storage.StatusRefunded {
		t.Fatalf("refund: claim %+v, order %+v, %v", got, after, err)
	}
	f.waitCallbacks(o.ID, CallbackDelivered, CallbackRefunded, CallbackClaimResolved)

	o2 := f.delivered("CL-5", 1)
	cl2 := f.openClaim(o2.ID, ClaimRequest{Reason: ClaimWrongItem, Message: "买错了"})
	testkit.Eventually(t, "second prompt", func() bool { _, ok := f.claimAlert(cl2.ID, false); return ok })
	if a, _ := f.claimAlert(cl2.ID, false); a.Claim.History != 1 {
		t.Fatalf("the buyer's history says %d claims before, want 1", a.Claim.History)
	}
	got, after, err = f.engine.ResolveClaim(alice, cl2.ID, ActionReject, "已核实可用")
	if err != nil || got.Status != storage.ClaimRejected || got.Note != "已核实可用" || after.Status != storage.StatusDelivered ||
		len(after.History) != len(o2.History) {
		t.Fatalf("reject: claim %+v, order %+v, %v", got, after, err)
	}
	f.waitCallbacks(o2.ID, CallbackDelivered, CallbackClaimResolved)
}

// TestTwoOperatorsRacingOnAClaimGetOneSuccess: Reissue and Refund pressed at
// once on the same claim, many times over: exactly one wins, the other
// hears who resolved it, and the order moved once.
func TestTwoOperatorsRacingOnAClaimGetOneSuccess(t *testing.T) {
	f := claimFixture(t)
	for i := range 8 {
		o := f.delivered(fmt.Sprintf("RACE-%d", i), 1)
		cl := f.openClaim(o.ID, ClaimRequest{Reason: ClaimCardInvalid})
		var (
			wg   sync.WaitGroup
			errs [2]error
		)
		for j, act := range []struct {
			who    storage.Actor
			action string
		}{{alice, ActionReissue}, {bob, ActionRefund}} {
			wg.Go(func() { _, _, errs[j] = f.engine.ResolveClaim(act.who, cl.ID, act.action, "") })
		}
		wg.Wait()
		var lost *ClaimStateError
		switch {
		case errs[0] == nil && errors.As(errs[1], &lost) && lost.Claim.ResolvedBy.Name == "alice":
		case errs[1] == nil && errors.As(errs[0], &lost) && lost.Claim.ResolvedBy.Name == "bob":
		default:
			t.Fatalf("round %d: errors %v", i, errs)
		}
		if !strings.Contains(lost.Error(), "by "+lost.Claim.ResolvedBy.Name) {
			t.Fatalf("the refusal does not say by whom: %v", lost)
		}
		now := f.order(o.ID)
		moved := 0
		for _, tr := range now.History[len(o.History):] {
			if tr.Actor.Name == "alice" || tr.Actor.Name == "bob" {
				moved++
			}
		}
		if moved != 1 {
			t.Fatalf("round %d: the order moved %d times by an operator", i, moved)
		}
	}
}

// TestAClaimIsNotReissuedTwice: an order an operator reissued by hand after
// the claim was opened has new cards already; reissuing the claim is
// refused (the claim stays open and can be rejected).
func TestAClaimIsNotReissuedTwice(t *testing.T) {
	f := claimFixture(t)
	o := f.delivered("CL-6", 1)
	cl := f.openClaim(o.ID, ClaimRequest{Reason: ClaimCardInvalid})
	if _, err := f.engine.Reissue(alice, o.ID); err != nil {
		t.Fatal(err)
	}
	f.waitStatus(o.ID, storage.StatusDelivered)
	_, _, err := f.engine.ResolveClaim(bob, cl.ID, ActionReissue, "")
	var st *StateError
	if !errors.As(err, &st) {
		t.Fatalf("reissue of a claim on a reissued order: %v, want a StateError", err)
	}
	if e := f.audit(1)[0]; e.Action != "claim.reissue" || e.Outcome != "refused" || e.Actor != bob {
		t.Fatalf("audit = %+v", e)
	}
	if got, _, err := f.engine.ResolveClaim(bob, cl.ID, ActionReject, "已补发"); err != nil || got.Status != storage.ClaimRejected {
		t.Fatalf("reject after: %+v, %v", got, err)
	}
}

// TestAClaimSurvivesARestart: after a restart the claim is open and
// resolvable, and its callback goes out. (A kill -9 between the answer and
// the prompt is cmd/cardflow's TestClaimThroughTheRealBinary.)
func TestAClaimSurvivesARestart(t *testing.T) {
	f := claimFixture(t)
	o := f.delivered("CL-7", 1)
	cl := f.openClaim(o.ID, ClaimRequest{Reason: ClaimCardInvalid})
	f.restart()
	if open, n, err := f.engine.Claims(storage.ClaimOpen, 10); err != nil || n != 1 || open[0].ID != cl.ID {
		t.Fatalf("open claims after a restart: %v, %v", open, err)
	}
	if _, _, err := f.engine.ResolveClaim(alice, cl.ID, ActionRefund, ""); err != nil {
		t.Fatal(err)
	}
	f.waitCallbacks(o.ID, CallbackDelivered, CallbackRefunded, CallbackClaimResolved)
}

// TestCardSourcesFollowTheBatches: each card of the current set is named
// by the purchase of its batch, in batch order; archived purchases (before
// a reissue) and failures do not count; a set the attempts do not account
// for names no source.
func TestCardSourcesFollowTheBatches(t *testing.T) {
	p := config.Product{SKU: "x", BatchSize: 2, Sources: []config.Source{{Supplier: "fulu", Units: 1}}}
	cards := make([]storage.SealedCard, 3)
	o := &storage.Order{Quantity: 3, Cards: cards, Attempts: []storage.Attempt{
		{Supplier: "fulu", Batch: 0, Units: 2, State: storage.AttemptSucceeded, Archived: true},
		{Supplier: "sim", Batch: 0, Units: 2, State: storage.AttemptFailed},
		{Supplier: "own", Batch: 1, Units: 1, State: storage.AttemptSucceeded},
		{Supplier: "fulu", Batch: 0, Units: 2, State: storage.AttemptSucceeded},
	}}
	if got := cardSources(o, p); strings.Join(got, ",") != "fulu,fulu,own" {
		t.Fatalf("sources = %v", got)
	}
	o.Cards = make([]storage.SealedCard, 4)
	if got := cardSources(o, p); strings.Join(got, ",") != ",,," {
		t.Fatalf("sources of a set the attempts do not explain = %v", got)
	}
}
