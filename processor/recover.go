package processor

import (
	"cardflow/storage"
)

// recover refills the work queue from the store's open-order index: every
// pending order is looked at again. An order in processing has purchases in
// flight; one still "sending" may or may not have reached its supplier
// before the crash, so it is never sent again but queried at once — the
// purchase number tells the supplier which order it is. Orders in review or
// failed wait for a person and need nothing.
func (e *Engine) recover() error {
	var pending, processing []uint64
	err := e.store.View(func(tx *storage.Tx) error {
		pending = tx.OpenOrders(storage.StatusPending, 0)
		processing = tx.OpenOrders(storage.StatusProcessing, 0)
		return nil
	})
	if err != nil {
		return err
	}
	for _, id := range processing {
		var pl plan
		err := e.commit(func(tx *storage.Tx, c *effects) error {
			pl = plan{}
			o, err := tx.Order(id)
			if err != nil || o.Status != storage.StatusProcessing {
				return err
			}
			for i := range o.Attempts {
				a := &o.Attempts[i]
				if a.State == storage.AttemptSending {
					a.State, a.NextAt = storage.AttemptUnknown, c.now
				}
				if a.State.InFlight() {
					pl.queries = append(pl.queries, dueQuery{attemptNo: a.No, at: a.NextAt})
				}
			}
			return tx.PutOrder(o)
		})
		if err != nil {
			return err
		}
		e.afterCommit(id, &pl)
	}
	for _, id := range pending {
		e.queue.push(id)
	}
	e.log.Info().Int("pending", len(pending)).Int("processing", len(processing)).Msg("recovery done")
	return nil
}
