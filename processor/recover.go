package processor

import (
	"cardflow/storage"
)

// recover refills the work queue from the store's open-order index: every
// pending order is looked at again, and an order left "processing" by a
// crash goes back to pending (own-stock delivery is one transaction, so a
// crash can only have left it before the delivery). Orders in review or
// failed wait for a person and need nothing.
func (e *Engine) recover() error {
	var pending, stuck []uint64
	err := e.store.View(func(tx *storage.Tx) error {
		pending = tx.OpenOrders(storage.StatusPending, 0)
		stuck = tx.OpenOrders(storage.StatusProcessing, 0)
		return nil
	})
	if err != nil {
		return err
	}
	for _, id := range stuck {
		err := e.commit(func(tx *storage.Tx, c *effects) error {
			o, err := tx.Order(id)
			if err != nil || o.Status != storage.StatusProcessing {
				return err
			}
			c.move(o, storage.StatusPending, "recovered", storage.System)
			return tx.PutOrder(o)
		})
		if err != nil {
			return err
		}
		pending = append(pending, id)
	}
	for _, id := range pending {
		e.queue.push(id)
	}
	e.log.Info().Int("pending", len(pending)).Int("recovered_processing", len(stuck)).Msg("recovery done")
	return nil
}
