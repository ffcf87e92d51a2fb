package processor

import (
	"strings"
	"testing"

	"cardflow/card"
	"cardflow/storage"
	"cardflow/suppliers"
)

// TestASuppliersCardSpeltAnotherWayIsADuplicate: a supplier's card goes
// through the same reading as an imported one. The shop imported the card
// quoted and with an en dash; the supplier sells it back in full-width
// lower case with a zero-width space inside. It is never delivered: the
// purchase is bad and the batch is bought elsewhere.
func TestASuppliersCardSpeltAnotherWayIsADuplicate(t *testing.T) {
	a, b := newScripted(), newScripted()
	f := remoteFixture(t, a, b, nil)
	res, err := f.engine.ImportStock(storage.Actor{Name: "test"}, "qb-10", strings.NewReader("\"KNOWN–00001\",\"pw\"\n"))
	if err != nil || res.Added != 1 {
		t.Fatalf("import: %+v %v", res, err)
	}
	a.onSubmit = func(o suppliers.Order, n int) suppliers.Result {
		return suppliers.Result{Status: suppliers.StatusSucceeded, Cards: []card.Card{{Number: "ｋｎｏｗｎ\u200b00001", Password: "x"}}}
	}
	o := f.submit("SPELT-1", "steam-50", 1, 5000)
	got := f.waitStatus(o.ID, storage.StatusDelivered)
	if len(got.Attempts) != 2 || got.Attempts[0].State != storage.AttemptBad || got.Attempts[1].Supplier != "b" {
		t.Fatalf("attempts = %+v, want a's purchase bad and the batch bought from b", got.Attempts)
	}
}
