package outbox

import (
	"fmt"

	"cardflow/storage"
)

// readOrder reads the order an event is about, and its claim when it is
// about one. A first attempt whose write left the order's record with it
// (Event.Written) decodes that, without a read transaction: on PostgreSQL
// a read is two round trips, for every callback and mail. Claims, and
// later attempts, are read from the store.
func readOrder(store *storage.Store, ev *storage.Event) (*storage.Order, *storage.Claim, error) {
	if ev.Written != nil && ev.ClaimID == 0 {
		o, err := ev.Written.Order()
		if err != nil {
			return nil, nil, err
		}
		if o.ID != ev.OrderID {
			return nil, nil, fmt.Errorf("event %d about order %d carries the record of order %d", ev.Seq, ev.OrderID, o.ID)
		}
		return o, nil, nil
	}
	var (
		o     *storage.Order
		claim *storage.Claim
	)
	err := store.View(func(tx *storage.Tx) error {
		var err error
		if o, err = tx.Order(ev.OrderID); err != nil {
			return fmt.Errorf("read order: %w", err)
		}
		if ev.ClaimID != 0 {
			if claim, err = tx.Claims().Get(ev.ClaimID); err != nil {
				return fmt.Errorf("read claim %d: %w", ev.ClaimID, err)
			}
		}
		return nil
	})
	return o, claim, err
}
