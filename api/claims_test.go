package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"cardflow/internal/money"
	"cardflow/internal/storefront"
)

// claimReply checks that the reply is {"claim": CLAIM} and returns it.
func (r *reply) claim(t testing.TB) claimJSON {
	t.Helper()
	wantJSON(t, r)
	var top map[string]json.RawMessage
	if err := json.Unmarshal(r.body, &top); err != nil {
		t.Fatalf("answer is not a JSON object: %v: %s", err, r)
	}
	if got := sortedKeys(top); !slices.Equal(got, []string{"claim"}) {
		t.Fatalf("answer keys = %v, want [claim]: %s", got, r)
	}
	return checkClaimShape(t, top["claim"])
}

// postClaim posts a claim body on an order as a storefront.
func (f *fixture) postClaim(t testing.TB, storefrontID, orderID string, body []byte) *reply {
	t.Helper()
	return send(t, f.api, f.signed(storefrontID, http.MethodPost, "/v1/orders/"+orderID+"/claims", body))
}

// resolve posts an admin resolution as actor.
func (f *fixture) resolve(t testing.TB, claimID, actor string, body []byte) *reply {
	t.Helper()
	c := adminCall(http.MethodPost, "/v1/claims/"+claimID+"/resolve", body, "Bearer "+adminToken)
	c.header.Set("X-Cardflow-Actor", actor)
	return send(t, f.admin, c)
}

// deliveredOrder places a one-card order of shop1 and waits for its
// delivery; it answers the order as GET shows it.
func (f *fixture) deliveredOrder(t testing.TB, ext string) orderJSON {
	t.Helper()
	r := f.post(t, "shop1", simpleOrder(t, ext, skuQB, 1, "100.00"))
	wantStatus(t, r, http.StatusCreated)
	id := r.order(t).ID
	f.waitCallback(t, id, "order.delivered")
	return f.getOrder(t, "shop1", id)
}

// TestAClaimIsOpenedOnADeliveredOrderAndShownOnIt: 201 with the CLAIM; the
// order's answers carry it under "claims" (an order without claims says
// []); a repeat of the claim_id answers the same claim with 200; the same
// claim_id for another claim is a 409 naming claim_id.
func TestAClaimIsOpenedOnADeliveredOrderAndShownOnIt(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.importStock(t, skuQB, "QB-CL-0001,p1\nQB-CL-0002,p2\nQB-CL-0003,p3\n")
	o := f.deliveredOrder(t, "T-CL-1")
	if len(o.Claims) != 0 || o.Claims == nil {
		t.Fatalf("a delivered order without claims has claims %v, want []", o.Claims)
	}
	body := mustJSON(t, map[string]any{"reason": "card_invalid", "message": "提示已使用", "cards": []string{"qb-cl-0001"}, "claim_id": "TK-1"})
	r := f.postClaim(t, "shop1", o.ID, body)
	wantStatus(t, r, http.StatusCreated)
	cl := r.claim(t)
	if cl.OrderID != o.ID || cl.Reason != "card_invalid" || cl.Message != "提示已使用" || !slices.Equal(cl.Cards, []string{"QB-CL-0001"}) ||
		cl.Status != "open" || cl.Note != "" || cl.ResolvedAt != nil {
		t.Fatalf("claim = %+v", cl)
	}
	got := f.getOrder(t, "shop1", o.ID)
	if len(got.Claims) != 1 || got.Claims[0].ID != cl.ID || got.Status != "delivered" {
		t.Fatalf("order after the claim: status %s, claims %+v", got.Status, got.Claims)
	}
	byExt := f.get(t, "shop1", "/v1/orders?external_id=T-CL-1")
	wantStatus(t, byExt, http.StatusOK)
	if c := byExt.order(t).Claims; len(c) != 1 || c[0].ID != cl.ID {
		t.Fatalf("by external id, claims = %+v", c)
	}

	again := f.postClaim(t, "shop1", o.ID, body)
	wantStatus(t, again, http.StatusOK)
	if c := again.claim(t); c.ID != cl.ID {
		t.Fatalf("repeat answered claim %s, want %s", c.ID, cl.ID)
	}
	other := mustJSON(t, map[string]any{"reason": "other", "claim_id": "TK-1"})
	wantError(t, f.postClaim(t, "shop1", o.ID, other), http.StatusConflict, "conflict", "claim_id")
	f.checkReceiver(t)
}

// TestBadClaimsGetTheirDocumentedErrors: every input the API documents an
// answer for. Tried: an order id that is no number, an unknown order,
// another storefront's order, an order in review, an order with a claim
// open, a body that is no JSON, two JSON objects, an array, no reason, a
// reason that is a number, cards that are a string, an unknown reason, a
// card of another order, a card never delivered, an empty card, a message
// of 1,001 characters, a message with a control character, a malformed
// claim_id, a body over 64 KiB, and an unsigned request.
func TestBadClaimsGetTheirDocumentedErrors(t *testing.T) {
	f := newFixture(t, fixtureOptions{screen: largeOrderScreener{over: money.Amount(500_00)}})
	f.importStock(t, skuQB, "QB-BAD-0001,p1\nQB-BAD-0002,p2\nQB-BAD-0003,p3\nQB-BAD-0004,p4\n")
	o := f.deliveredOrder(t, "T-BAD-1")
	busy := f.deliveredOrder(t, "T-BAD-2")
	wantStatus(t, f.postClaim(t, "shop1", busy.ID, []byte(`{"reason":"other"}`)), http.StatusCreated)
	held := f.post(t, "shop1", simpleOrder(t, "T-BAD-3", skuQB, 1, "900.00"))
	wantStatus(t, held, http.StatusCreated)
	heldID := held.order(t).ID
	card := o.Cards[0].Number
	for _, tc := range []struct {
		name, storefront, order, body string
		status                        int
		code, field                   string
	}{
		{"an order id that is no number", "shop1", "x1", `{"reason":"other"}`, 404, "not_found", ""},
		{"an unknown order", "shop1", "9999", `{"reason":"other"}`, 404, "not_found", ""},
		{"another storefront's order", "shop2", o.ID, `{"reason":"other"}`, 404, "not_found", ""},
		{"an order in review", "shop1", heldID, `{"reason":"other"}`, 409, "conflict", ""},
		{"a claim open on the order", "shop1", busy.ID, `{"reason":"other"}`, 409, "conflict", ""},
		{"no JSON", "shop1", o.ID, `reason=other`, 400, "invalid_request", ""},
		{"two objects", "shop1", o.ID, `{"reason":"other"}{}`, 400, "invalid_request", ""},
		{"an array", "shop1", o.ID, `[]`, 400, "invalid_request", ""},
		{"no reason", "shop1", o.ID, `{"message":"hi"}`, 400, "invalid_request", "reason"},
		{"a number for the reason", "shop1", o.ID, `{"reason":1}`, 400, "invalid_request", "reason"},
		{"a string for the cards", "shop1", o.ID, `{"reason":"other","cards":"QB"}`, 400, "invalid_request", "cards"},
		{"an unknown reason", "shop1", o.ID, `{"reason":"angry"}`, 422, "unknown_reason", "reason"},
		{"a card of another order", "shop1", o.ID, `{"reason":"card_invalid","cards":["` + busy.Cards[0].Number + `"]}`, 422, "unknown_card", "cards[0]"},
		{"a card never delivered", "shop1", o.ID, `{"reason":"card_invalid","cards":["` + card + `","QB-BAD-0004"]}`, 422, "unknown_card", "cards[1]"},
		{"an empty card", "shop1", o.ID, `{"reason":"card_invalid","cards":[""]}`, 400, "invalid_request", "cards[0]"},
		{"a message too long", "shop1", o.ID, `{"reason":"other","message":"` + strings.Repeat("长", 1001) + `"}`, 400, "invalid_request", "message"},
		{"a control character", "shop1", o.ID, `{"reason":"other","message":"a\u001b[2Jb"}`, 400, "invalid_request", "message"},
		{"a malformed claim_id", "shop1", o.ID, `{"reason":"other","claim_id":"a/b"}`, 400, "invalid_request", "claim_id"},
		{"a body over 64 KiB", "shop1", o.ID, `{"reason":"other","message":"` + strings.Repeat("a", 65<<10) + `"}`, 413, "too_large", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := f.postClaim(t, tc.storefront, tc.order, []byte(tc.body))
			e := wantError(t, r, tc.status, tc.code, tc.field)
			if strings.Contains(e.Message, card) || strings.Contains(e.Message, "QB-BAD") {
				t.Errorf("the error quotes a card number: %q", e.Message)
			}
		})
	}
	unsigned := call{method: http.MethodPost, path: "/v1/orders/" + o.ID + "/claims", body: []byte(`{"reason":"other"}`), header: http.Header{}}
	wantError(t, send(t, f.api, unsigned), http.StatusUnauthorized, "unauthorized", "-")
	if got := f.getOrder(t, "shop1", o.ID); len(got.Claims) != 0 {
		t.Fatalf("refused claims were stored: %+v", got.Claims)
	}
	if strings.Contains(f.logs.String(), card) {
		t.Fatal("a card number is in the log")
	}
}

// TestAdminResolvesAClaimOnceAndTheStorefrontHears: a rejection is 200 with
// the claim and sends claim.resolved; resolving it again is a 409 naming who
// did; a refund sends order.refunded and claim.resolved; a reissue sends
// claim.resolved, then order.delivered (reissue) with new cards. Bad
// requests: an unknown claim, a claim id that is no number, an unknown
// action, no action, a body that is no JSON, an unknown status to list.
func TestAdminResolvesAClaimOnceAndTheStorefrontHears(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	var lines strings.Builder
	for i := range 8 {
		fmt.Fprintf(&lines, "QB-ADM-%04d,p%d\n", i, i)
	}
	f.importStock(t, skuQB, lines.String())
	rejected, refunded, reissued := f.deliveredOrder(t, "T-ADM-1"), f.deliveredOrder(t, "T-ADM-2"), f.deliveredOrder(t, "T-ADM-3")
	ids := map[string]string{}
	for _, o := range []orderJSON{rejected, refunded, reissued} {
		r := f.postClaim(t, "shop1", o.ID, mustJSON(t, map[string]any{"reason": "card_invalid", "cards": []string{o.Cards[0].Number}}))
		wantStatus(t, r, http.StatusCreated)
		ids[o.ID] = r.claim(t).ID
	}

	list := f.adminDo(t, http.MethodGet, "/v1/claims?status=open", nil)
	wantStatus(t, list, http.StatusOK)
	var open struct {
		Claims []json.RawMessage `json:"claims"`
	}
	decodeStrict(t, list.body, &open)
	if len(open.Claims) != 3 || checkClaimShape(t, open.Claims[0]).ID != ids[rejected.ID] {
		t.Fatalf("open claims = %s", list.body)
	}

	r := f.resolve(t, ids[rejected.ID], "alice", []byte(`{"action":"reject","note":"已核实可用"}`))
	wantStatus(t, r, http.StatusOK)
	if c := r.claim(t); c.Status != "rejected" || c.Note != "已核实可用" || c.ResolvedBy == nil || *c.ResolvedBy != "claimed:alice" {
		t.Fatalf("rejected claim = %+v", c)
	}
	cb := f.waitCallback(t, rejected.ID, "claim.resolved")
	if cb.Claim == nil || cb.Claim.ID != ids[rejected.ID] || cb.Claim.Status != "rejected" || cb.Order.Status != "delivered" {
		t.Fatalf("claim.resolved = %+v (claim %+v)", cb, cb.Claim)
	}
	again := f.resolve(t, ids[rejected.ID], "bob", []byte(`{"action":"refund"}`))
	if e := wantError(t, again, http.StatusConflict, "conflict", "-"); !strings.Contains(e.Message, "claimed:alice") {
		t.Fatalf("the second resolution does not say who was first: %q", e.Message)
	}

	wantStatus(t, f.resolve(t, ids[refunded.ID], "bob", []byte(`{"action":"refund"}`)), http.StatusOK)
	f.waitCallback(t, refunded.ID, "claim.resolved")
	if types := f.callbackTypes(refunded.ID); !slices.Equal(types, []string{"order.delivered", "order.refunded", "claim.resolved"}) {
		t.Fatalf("callbacks of the refunded order = %v", types)
	}

	wantStatus(t, f.resolve(t, ids[reissued.ID], "carol", []byte(`{"action":"reissue","note":"换卡"}`)), http.StatusOK)
	f.callbacks.wait(t, "the reissue delivered", func([]storefront.Callback) bool { return len(f.callbackTypes(reissued.ID)) == 3 })
	types := f.callbackTypes(reissued.ID)
	if !slices.Equal(types, []string{"order.delivered", "claim.resolved", "order.delivered"}) {
		t.Fatalf("callbacks of the reissued order = %v", types)
	}
	now := f.getOrder(t, "shop1", reissued.ID)
	if now.Reason != "reissue" || len(now.Cards) != 1 || now.Cards[0].Number == reissued.Cards[0].Number ||
		len(now.Claims) != 1 || now.Claims[0].Status != "reissued" || now.Claims[0].Cards[0] != reissued.Cards[0].Number {
		t.Fatalf("reissued order = %+v", now)
	}

	for _, tc := range []struct {
		name, claim, body string
		status            int
		code, field       string
	}{
		{"an unknown claim", "999", `{"action":"reject"}`, 404, "not_found", ""},
		{"a claim id that is no number", "abc", `{"action":"reject"}`, 404, "not_found", ""},
		{"an unknown action", ids[reissued.ID], `{"action":"destroy"}`, 400, "invalid_request", "action"},
		{"no action", ids[reissued.ID], `{"note":"x"}`, 400, "invalid_request", "action"},
		{"no JSON", ids[reissued.ID], `action=reject`, 400, "invalid_request", ""},
		{"a bad actor", ids[reissued.ID], `{"action":"reject"}`, 400, "invalid_request", "X-Cardflow-Actor"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			actor := "alice"
			if tc.name == "a bad actor" {
				actor = "al ice"
			}
			wantError(t, f.resolve(t, tc.claim, actor, []byte(tc.body)), tc.status, tc.code, tc.field)
		})
	}
	wantError(t, f.adminDo(t, http.MethodGet, "/v1/claims?status=closed", nil), http.StatusBadRequest, "invalid_request", "status")
	all := f.adminDo(t, http.MethodGet, "/v1/claims?status=all", nil)
	wantStatus(t, all, http.StatusOK)
	decodeStrict(t, all.body, &open)
	if len(open.Claims) != 3 || checkClaimShape(t, open.Claims[0]).ID != ids[reissued.ID] {
		t.Fatalf("all claims, newest first = %s", all.body)
	}
	f.checkReceiver(t)
}
