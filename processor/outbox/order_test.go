package outbox

import (
	"errors"
	"testing"

	"cardflow/internal/testkit"
	"cardflow/internal/teststore"
	"cardflow/storage"
)

// TestAFirstAttemptReadsTheOrderFromItsRecord: an event carrying the
// record its write left (order 7, which the store does not hold) is
// rendered from that record, with no read; the same event without it
// (a later attempt, or one read back after a restart) reads the store,
// which says order 7 is not there. A record of another order than the
// event's is refused.
func TestAFirstAttemptReadsTheOrderFromItsRecord(t *testing.T) {
	store := testkit.NewStore(t, teststore.Open)
	var rec storage.OrderRecord
	err := store.Update(func(tx *storage.Tx) error {
		o := &storage.Order{ID: 7, Storefront: "shop1", ExternalID: "T7", SKU: "qb-10", Quantity: 1, Status: storage.StatusDelivered}
		if err := tx.CreateOrder(o); err != nil {
			return err
		}
		rec = tx.Written(7)
		return errors.New("roll back: the store keeps nothing")
	})
	if err == nil || rec == nil {
		t.Fatalf("the write: %v, record %v", err, rec)
	}
	ev := &storage.Event{Kind: KindCallback, OrderID: 7, Written: rec}
	o, claim, err := readOrder(store, ev)
	if err != nil || o.ID != 7 || o.ExternalID != "T7" || o.Status != storage.StatusDelivered || claim != nil {
		t.Fatalf("from the record: %+v %v %v", o, claim, err)
	}
	ev.Written = nil
	if _, _, err := readOrder(store, ev); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("without the record: %v, want the store's not found", err)
	}
	ev.OrderID, ev.Written = 8, rec
	if _, _, err := readOrder(store, ev); err == nil {
		t.Fatal("the record of order 7 was taken for order 8")
	}
}
