package operator

import (
	"fmt"
	"strings"
	"testing"

	"cardflow/bot/chat"
	"cardflow/storage"
)

// TestBareReferenceThatNamesTwoOrdersActsOnNeither: internal order #1
// belongs to shop; shop2's external id is "1". "/refund 1" (the operator
// meant shop2's order "1") must refund neither and list both, each with its
// storefront, external id, amount and status, and say how to name one.
func TestBareReferenceThatNamesTwoOrdersActsOnNeither(t *testing.T) {
	for _, lg := range langs {
		t.Run(lg.name, func(t *testing.T) {
			f := newFixture(t)
			f.importCards(skuSmall, "cards-qb10.txt")
			own := f.delivered(skuSmall)                              // #1, shop, EXT-1
			other := f.submitTo(storefront2, "1", skuSmall, "800.00") // #2, shop2, "1", in review
			b := f.bot(lg.lang)

			r := f.send(b, adminID, "/refund 1 buyer asked")
			if got := f.order(own.ID).Status; got != storage.StatusDelivered {
				t.Errorf("/refund 1 moved order #1 (shop) to %s", got)
			}
			if got := f.order(other.ID).Status; got != storage.StatusReview {
				t.Errorf("/refund 1 moved order #2 (shop2:1) to %s", got)
			}
			containsAll(t, "/refund 1", r.Text,
				"#1 · shop · EXT-1 · ¥10.00 · "+chat.StatusName(lg.lang, "delivered"),
				"#2 · shop2 · 1 · ¥800.00 · "+chat.StatusName(lg.lang, "review"),
				"/refund #1", "/refund shop2:1")
			if len(r.Buttons) != 0 {
				t.Errorf("an ambiguous reference offered buttons %q", r.Buttons)
			}

			// Named unambiguously, each is the one meant.
			containsAll(t, "/order #1", f.send(b, viewerID, "/order #1").Text, "#1", "EXT-1")
			containsAll(t, "/order shop2:1", f.send(b, viewerID, "/order shop2:1").Text, "#2", "¥800.00")
			r = f.send(b, adminID, "/refund shop2:1 buyer asked")
			if got := f.order(other.ID).Status; got != storage.StatusRefunded {
				t.Errorf("/refund shop2:1 left order #2 %s (reply %q)", got, r.Text)
			}
			if got := f.order(own.ID).Status; got != storage.StatusDelivered {
				t.Errorf("/refund shop2:1 moved order #1 to %s", got)
			}
		})
	}
}

// TestExternalIDOfTwoStorefrontsIsNeverPickedAtRandom: shop and shop2 both
// have an order "T-7". A bare "T-7" lists both (it was resolved by
// iterating a map: either one, at random); "shop2:T-7" is shop2's.
func TestExternalIDOfTwoStorefrontsIsNeverPickedAtRandom(t *testing.T) {
	f := newFixture(t)
	f.importCards(skuSmall, "cards-qb10.txt")
	a := f.submitTo(storefront, "T-7", skuSmall, "700.00")
	c := f.submitTo(storefront2, "T-7", skuSmall, "900.00")
	b := f.bot(chat.LangEN)
	for range 5 { // map order varies between runs; ask a few times
		r := f.send(b, viewerID, "/order T-7")
		containsAll(t, "/order T-7", r.Text, fmt.Sprintf("#%d · shop · T-7", a.ID), fmt.Sprintf("#%d · shop2 · T-7", c.ID),
			"/order shop:T-7", "/order shop2:T-7")
	}
	r := f.send(b, aliceID, "/approve T-7")
	if f.order(a.ID).Status != storage.StatusReview || f.order(c.ID).Status != storage.StatusReview {
		t.Fatalf("/approve T-7 approved one of two orders: %q", r.Text)
	}
	r = f.send(b, aliceID, "/approve shop2:T-7")
	containsAll(t, "/approve shop2:T-7", r.Text, fmt.Sprintf("#%d", c.ID), "alice")
	if f.order(a.ID).Status != storage.StatusReview {
		t.Errorf("approving shop2:T-7 moved shop's T-7")
	}
	containsAll(t, "/order shop:T-7", f.send(b, viewerID, "/order shop:T-7").Text, fmt.Sprintf("Order #%d", a.ID), "¥700.00")
	// A prefix that is no storefront is part of a bare external id.
	containsAll(t, "/order nosuch:T-7", f.send(b, viewerID, "/order nosuch:T-7").Text, "No order nosuch:T-7.")
	containsAll(t, "/order #T-7", f.send(b, viewerID, "/order #T-7").Text, "No order #T-7.")
}

// TestButtonsNameOrdersByInternalIDOnly: "7" is shop2's external id of
// order #2 and no internal id: a press of "o:ap:7" approves nothing, and
// the typed command a button stands for names the internal id.
func TestButtonsNameOrdersByInternalIDOnly(t *testing.T) {
	f := newFixture(t)
	f.importCards(skuSmall, "cards-qb10.txt")
	f.review("800.00")                                    // #1
	o := f.submitTo(storefront2, "7", skuSmall, "800.00") // #2
	b := f.bot(chat.LangEN)
	r := f.press(b, aliceID, "o:ap:7")
	containsAll(t, "press o:ap:7", r.Text, "No order 7.")
	if got := f.order(o.ID).Status; got != storage.StatusReview {
		t.Fatalf("a press for order 7 moved shop2's order \"7\" to %s", got)
	}
	for data, want := range map[string]string{"o:ap:2": "/approve #2", "o:rf:2:r": "/refund #2", "o:rt:2": "/retry #2", "o:dt:2": "/order #2"} {
		if got := ButtonCommand(data); got != want {
			t.Errorf("ButtonCommand(%q) = %q, want %q", data, got, want)
		}
	}
}

// confirmRE finds the confirmation a typed refund or reissue of a
// delivered order asks for.
func confirmButton(t *testing.T, r chat.Reply) chat.Button {
	t.Helper()
	if len(r.Buttons) != 1 || !strings.HasPrefix(r.Buttons[0].Data, "c:") {
		t.Fatalf("want one confirm button, got %q in:\n%s", r.Buttons, r.Text)
	}
	return r.Buttons[0]
}

// TestTypedRefundOfADeliveredOrderWaitsForConfirmation: "/refund #1 …" of
// a delivered order shows the order's storefront, external id and amount
// and refunds nothing; only its Confirm button refunds, once, with the
// reason typed; another operator cannot confirm it; a second press says
// the confirmation is gone.
func TestTypedRefundOfADeliveredOrderWaitsForConfirmation(t *testing.T) {
	for _, lg := range langs {
		t.Run(lg.name, func(t *testing.T) {
			l := func(zh, en string) string { return tr(lg.lang, zh, en) }
			f := newFixture(t)
			f.importCards(skuSmall, "cards-qb10.txt")
			d := f.delivered(skuSmall) // #1, shop, EXT-1, ¥10.00
			b := f.bot(lg.lang)

			r := f.send(b, aliceID, "/refund #1 key already used")
			if got := f.order(d.ID).Status; got != storage.StatusDelivered {
				t.Fatalf("a typed refund of a delivered order acted at once: %s (reply %q)", got, r.Text)
			}
			containsAll(t, "confirmation", r.Text, "#1", "shop", "EXT-1", "¥10.00", "key already used",
				l("确认退款", "Refund it?"))
			confirm := confirmButton(t, r)
			if !strings.Contains(confirm.Label, "#1") {
				t.Errorf("confirm label %q does not name the order", confirm.Label)
			}

			r = f.press(b, bobID, confirm.Data)
			containsAll(t, "bob confirms alice's refund", r.Text, "alice")
			if got := f.order(d.ID).Status; got != storage.StatusDelivered {
				t.Fatalf("another operator's press refunded it: %s", got)
			}

			r = f.press(b, aliceID, confirm.Data)
			containsAll(t, "confirmed", r.Text, l("↩️ 订单 #1 已由 alice 退款。", "↩️ Order #1 refunded by alice."))
			if got := f.order(d.ID).Status; got != storage.StatusRefunded {
				t.Fatalf("the confirmation left the order %s", got)
			}
			e := f.audit(1)[0]
			if e.Action != "refund" || e.Outcome != "ok" || e.Detail != "key already used" || e.Actor.Name != "alice" {
				t.Errorf("audit = %+v", e)
			}
			r = f.press(b, aliceID, confirm.Data)
			containsAll(t, "second press", r.Text, l("已失效", "expired"))
			refunds := 0
			for _, e := range f.audit(20) {
				if e.Action == "refund" && e.Outcome == "ok" {
					refunds++
				}
			}
			if refunds != 1 {
				t.Errorf("%d refunds audited, want 1", refunds)
			}
		})
	}
}

// TestTypedReissueOfADeliveredOrderIsConfirmedOnceEvenByTyping: the
// console shows the Confirm button as the command it stands for; typing
// it reissues. A second confirmation issued for the same delivery, used
// after the reissue was delivered anew, reissues nothing: the order is
// not the delivery it was shown for.
func TestTypedReissueOfADeliveredOrderIsConfirmedOnceEvenByTyping(t *testing.T) {
	f := newFixture(t)
	f.importCards(skuSmall, "cards-qb10.txt")
	d := f.delivered(skuSmall)
	b := f.bot(chat.LangEN)

	first := confirmButton(t, f.send(b, adminID, "/reissue 1"))
	second := confirmButton(t, f.send(b, adminID, "/reissue EXT-1"))
	typed := ButtonCommand(first.Data)
	if !strings.HasPrefix(typed, "/confirm ") {
		t.Fatalf("ButtonCommand(%q) = %q, want /confirm …", first.Data, typed)
	}
	r := f.send(b, adminID, typed)
	containsAll(t, typed, r.Text, "Order #1: new card keys on the way (by carol).")
	redelivered := f.waitStatus(d.ID, storage.StatusDelivered)
	if len(redelivered.Replaced) != 1 {
		t.Fatalf("after one reissue the order has %d replaced sets", len(redelivered.Replaced))
	}
	r = f.press(b, adminID, second.Data)
	if o := f.order(d.ID); o.Status != storage.StatusDelivered || len(o.Replaced) != 1 {
		t.Fatalf("a confirmation of the earlier delivery reissued again: %s, %d replaced (reply %q)", o.Status, len(o.Replaced), r.Text)
	}
	containsAll(t, "stale confirmation", r.Text, "Order #1 is delivered")
	containsAll(t, "typed again", f.send(b, adminID, typed).Text, "expired")
}

// TestRefundOfAnOrderInReviewStaysOneStep: the common path is not slowed.
func TestRefundOfAnOrderInReviewStaysOneStep(t *testing.T) {
	f := newFixture(t)
	o := f.review("800.00")
	r := f.send(f.bot(chat.LangEN), aliceID, "/refund 1 fraud")
	containsAll(t, "/refund 1 fraud", r.Text, "Order #1 refunded by alice.")
	if got := f.order(o.ID).Status; got != storage.StatusRefunded {
		t.Fatalf("order is %s", got)
	}
}

// TestAReferenceCopiedFromAMessageNamesTheOrderItShowed: an external id
// that looks like a domain is shown defanged ("T1[.]ab"); typed back as
// shown, it names the order.
func TestAReferenceCopiedFromAMessageNamesTheOrderItShowed(t *testing.T) {
	f := newFixture(t)
	o := f.submitTo(storefront2, "T1.ab", skuSmall, "800.00")
	b := f.bot(chat.LangEN)
	r := f.send(b, viewerID, "/order shop2:T1.ab")
	containsAll(t, "/order shop2:T1.ab", r.Text, fmt.Sprintf("Order #%d", o.ID), "T1[.]ab")
	containsAll(t, "/order shop2:T1[.]ab", f.send(b, viewerID, "/order shop2:T1[.]ab").Text, fmt.Sprintf("Order #%d", o.ID))
}
