package storefront

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"cardflow/internal/signing"
)

var testSecret = []byte("receiver-test-secret")

// post sends one signed callback to r and returns the status code.
func post(t *testing.T, r *Receiver, cb Callback) int {
	t.Helper()
	body, err := json.Marshal(cb)
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, "/cardflow/callback", bytes.NewReader(body))
	signing.Apply(req, "shop", testSecret, time.Now(), body)
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	return w.Code
}

func delivered(event, orderID, sku string, qty int, cards ...string) Callback {
	cb := Callback{EventID: event, Type: "order.delivered",
		Order: Order{ID: orderID, SKU: sku, Quantity: qty, Status: "delivered", Amount: "1.00", Cards: []Card{}}}
	for _, c := range cards {
		cb.Order.Cards = append(cb.Order.Cards, Card{Number: c})
	}
	return cb
}

// TestReceiverChecksWhatEachDeliveryPromises states the promises the
// receiver checks per callback: a card product gets one card a unit (or
// the cards per unit set for it: "pair" is bought as two supplier units,
// "mixed" from own stock or as two units), a top-up none, and a repeated
// event says exactly what it said the first time.
func TestReceiverChecksWhatEachDeliveryPromises(t *testing.T) {
	tests := []struct {
		name      string
		callbacks []Callback
		problem   string // "" for none
	}{
		{"card order with its cards", []Callback{delivered("e1", "1", "card", 2, "A", "B")}, ""},
		{"card order short of cards", []Callback{delivered("e1", "1", "card", 2, "A")}, "delivered 1 cards for quantity 2"},
		{"two-unit product with two cards a unit", []Callback{delivered("e1", "1", "pair", 2, "A", "B", "C", "D")}, ""},
		{"two-unit product with one card a unit", []Callback{delivered("e1", "1", "pair", 2, "A", "B")}, "delivered 2 cards for quantity 2"},
		{"two-unit product with a card too many", []Callback{delivered("e1", "1", "pair", 1, "A", "B", "C")}, "delivered 3 cards for quantity 1"},
		{"mixed product from both kinds of source", []Callback{delivered("e1", "1", "mixed", 2, "A", "B", "C")}, ""},
		{"mixed product from stock", []Callback{delivered("e1", "1", "mixed", 2, "A", "B")}, ""},
		{"mixed product short of cards", []Callback{delivered("e1", "1", "mixed", 2, "A")}, "delivered 1 cards for quantity 2"},
		{"top-up without cards", []Callback{delivered("e1", "1", "topup", 3)}, ""},
		{"top-up with a card", []Callback{delivered("e1", "1", "topup", 1, "A")}, "delivered 1 cards for quantity 1"},
		{"repeat that says the same", []Callback{delivered("e1", "1", "card", 1, "A"), delivered("e1", "1", "card", 1, "A")}, ""},
		{"repeat with other cards", []Callback{delivered("e1", "1", "card", 1, "A"), delivered("e1", "1", "card", 1, "B")},
			"repeated with different content"},
		{"one card for two orders", []Callback{delivered("e1", "1", "card", 1, "A"), delivered("e2", "2", "card", 1, "A")},
			"a card went to orders 1 and 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReceiver(map[string][]byte{"shop": testSecret})
			r.SetDirect("topup")
			r.SetCardsPerUnit("pair", 2)
			r.SetCardsPerUnit("mixed", 1, 2)
			for _, cb := range tt.callbacks {
				if code := post(t, r, cb); code != http.StatusNoContent {
					t.Fatalf("callback answered %d", code)
				}
			}
			problems := r.Problems()
			switch {
			case tt.problem == "" && len(problems) > 0:
				t.Errorf("problems %q, want none", problems)
			case tt.problem != "" && (len(problems) != 1 || !strings.Contains(problems[0], tt.problem)):
				t.Errorf("problems %q, want one with %q", problems, tt.problem)
			}
			if got := len(r.Callbacks("1")); got != 1 {
				t.Errorf("order 1 has %d callbacks recorded, want 1 (repeats left out)", got)
			}
		})
	}
}

// TestReceiverFailsOnPurposeAndCounts checks that SetFailRate takes effect
// while serving and that callbacks failed on purpose are counted, not
// recorded.
func TestReceiverFailsOnPurposeAndCounts(t *testing.T) {
	r := NewReceiver(map[string][]byte{"shop": testSecret})
	r.SetFailRate(1)
	if code := post(t, r, delivered("e1", "1", "card", 1, "A")); code != http.StatusInternalServerError {
		t.Fatalf("with fail rate 1 the callback answered %d, want 500", code)
	}
	r.SetFailRate(0)
	if code := post(t, r, delivered("e1", "1", "card", 1, "A")); code != http.StatusNoContent {
		t.Fatalf("with fail rate 0 the callback answered %d, want 204", code)
	}
	if st := r.Stats(); st.Failed != 1 || st.Accepted != 1 || st.Repeats != 0 || st.Delivered != 1 {
		t.Errorf("stats %+v, want 1 failed, 1 accepted, no repeat, 1 delivered", st)
	}
}
