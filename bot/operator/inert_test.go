package operator

import (
	"fmt"
	"strings"
	"testing"

	"cardflow/alert"
	"cardflow/card"
	"cardflow/internal/chatcheck"
	"cardflow/internal/money"
	"cardflow/storage"
)

// assertInert fails when text holds a control, format or bidi character,
// a line a hostile value started, or something a client would link.
func assertInert(t *testing.T, what, text string) {
	t.Helper()
	if err := chatcheck.Inert(text); err != nil {
		t.Errorf("%s: %v in:\n%s", what, err, text)
	}
}

// storeHostileOrder writes an order whose every buyer-, storefront- and
// supplier-controlled field is v straight into the store, as data stored
// before intake refused such values would be.
func storeHostileOrder(t *testing.T, f *fixture, i int, v string, status storage.Status) *storage.Order {
	t.Helper()
	card, err := f.store.Vault().Seal(card.Card{Number: "CARD" + v, Password: "PW"})
	if err != nil {
		t.Fatal(err)
	}
	now := f.clock.Now()
	o := &storage.Order{ExternalID: fmt.Sprintf("X%d%s", i, v), Storefront: storefront, SKU: "sku" + v, Kind: "card",
		Quantity: 1, Amount: money.Amount(1000), Buyer: storage.Buyer{ID: v, Contact: v, IP: v}, Account: v,
		Extra: map[string]string{"region": v}, Status: status, Reason: "supplier_failed:" + v, CreatedAt: now, UpdatedAt: now,
		History: []storage.Transition{{At: now, To: storage.StatusPending, Reason: v, Actor: storage.Actor{Name: v, Platform: "storefront"}},
			{At: now, From: storage.StatusPending, To: status, Reason: v, Actor: storage.Actor{Name: "admin-" + v, Platform: "admin-api"}}}}
	if status == storage.StatusDelivered {
		o.Cards, o.DeliveredAt = []storage.SealedCard{card}, now
	}
	err = f.store.Update(func(tx *storage.Tx) error { return tx.CreateOrder(o) })
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// TestHostileValuesRenderInert puts each hostile value into every field of
// a stored order, an alert and the audit log, and checks every reply that
// shows them: no control or bidi character, no forged line, nothing a
// client would turn into a link.
func TestHostileValuesRenderInert(t *testing.T) {
	for _, lg := range langs {
		t.Run(lg.name, func(t *testing.T) {
			f := newFixture(t)
			b := f.bot(lg.lang)
			for i, v := range chatcheck.Hostile {
				review := storeHostileOrder(t, f, 2*i, v, storage.StatusReview)
				delivered := storeHostileOrder(t, f, 2*i+1, v, storage.StatusDelivered)
				what := fmt.Sprintf("value %q", v)
				assertInert(t, what+" /order", f.send(b, viewerID, fmt.Sprintf("/order #%d", review.ID)).Text)
				assertInert(t, what+" /order delivered", f.send(b, viewerID, fmt.Sprintf("/order #%d", delivered.ID)).Text)
				assertInert(t, what+" /pending", f.send(b, viewerID, "/pending").Text)
				assertInert(t, what+" /refund", f.send(b, aliceID, fmt.Sprintf("/refund #%d %s", review.ID, strings.ReplaceAll(v, "\n", " "))).Text)
				assertInert(t, what+" /refund delivered", f.send(b, adminID, fmt.Sprintf("/refund #%d %s", delivered.ID, strings.ReplaceAll(v, "\n", " "))).Text)
				assertInert(t, what+" /audit", f.send(b, adminID, "/audit 20").Text)
				for _, typ := range append(alert.Kinds(), "other") {
					for _, resolved := range []bool{false, true} {
						r := b.RenderAlert(storage.Alert{Key: string(typ) + ":" + v, Type: typ, Resolved: resolved, OrderID: 7, SKU: v,
							Target: v, Detail: v})
						assertInert(t, fmt.Sprintf("%s alert %s resolved=%v", what, typ, resolved), r.Text)
					}
				}
			}
		})
	}
}
