package console

import (
	"fmt"
	"strings"
	"testing"

	"cardflow/alert"
	"cardflow/bot/chat"
	"cardflow/internal/chatcheck"
	"cardflow/internal/money"
	"cardflow/storage"
)

// TestHostileValuesReachTheTerminalInert stores orders whose every field a
// buyer, the storefront or a supplier controls is a hostile value (terminal
// escapes that clear the screen or plant an OSC 8 hyperlink, bidi
// overrides, a forged line, …), asks for them at the console and prints
// their review prompts: the terminal gets no control or format character,
// no link and no forged line.
func TestHostileValuesReachTheTerminalInert(t *testing.T) {
	f := newFixture(t)
	b := f.bot(chat.LangEN)
	s := run(t, b)
	for i, v := range chatcheck.Hostile {
		o := &storage.Order{ExternalID: fmt.Sprintf("H%d", i), Storefront: "shop", SKU: "qb-10" + v, Kind: "card", Quantity: 1,
			Amount: money.Amount(1000), Buyer: storage.Buyer{ID: v, Contact: v}, Account: v, Status: storage.StatusReview,
			Reason: v, History: []storage.Transition{{To: storage.StatusReview, Reason: v, Actor: storage.Actor{Name: v, Platform: "admin-api"}}}}
		if err := f.store.Update(func(tx *storage.Tx) error { return tx.CreateOrder(o) }); err != nil {
			t.Fatal(err)
		}
		s.typeLine(t, fmt.Sprintf("/order #%d", o.ID))
		s.waitOutput(t, fmt.Sprintf("Order #%d ·", o.ID))
		if _, err := s.console.Send("", b.RenderAlert(storage.Alert{Key: fmt.Sprintf("review:%d", o.ID), Type: alert.Review,
			OrderID: o.ID, SKU: v, Detail: v})); err != nil {
			t.Fatal(err)
		}
		s.waitOutput(t, fmt.Sprintf("/order #%d]", o.ID))
	}
	out := s.out.String()
	if err := chatcheck.Inert(out); err != nil {
		t.Fatalf("%v in the terminal output:\n%s", err, out)
	}
	if strings.Contains(out, "\x1b") {
		t.Fatal("an escape character reached the terminal")
	}
}
