package processor

import (
	"cardflow/storage"
)

// recover resumes, at start, the orders being worked on that are this
// process's: on a bbolt file every one; on a shared PostgreSQL store the
// ones nobody owns (written before several processes shared it). A
// departed process's orders are the leader's to take over (takeOver).
func (e *Engine) recover() error {
	n, err := e.recoverOrders("")
	if err != nil {
		return err
	}
	e.log.Info().Int("orders", n).Msg("recovery done")
	return nil
}

// recoverOrders resumes the orders being worked on that from owns, as
// after a crash, making this process their owner. A pending one is looked at again.
// One in processing has purchases in flight; one still "sending" may or may
// not have reached its supplier before the crash, so it is never sent again
// but queried at once — the purchase number tells the supplier which order
// it is. Orders in review or failed wait for a person and need nothing. It
// answers how many it resumed.
func (e *Engine) recoverOrders(from string) (int, error) {
	var pending, processing []uint64
	err := e.store.View(func(tx *storage.Tx) error {
		if e.node == "" {
			// A bbolt file: every order is this one process's, and a
			// start need not decode a backlog of pending orders to know.
			pending, processing = tx.OpenOrders(storage.StatusPending, 0), tx.OpenOrders(storage.StatusProcessing, 0)
			return nil
		}
		ids := append(tx.OpenOrders(storage.StatusProcessing, 0), tx.OpenOrders(storage.StatusPending, 0)...)
		for _, id := range ids {
			o, err := tx.Order(id)
			if err != nil {
				return err
			}
			switch {
			case o.Owner != from:
			case o.Status == storage.StatusPending:
				pending = append(pending, id)
			case o.Status == storage.StatusProcessing:
				processing = append(processing, id)
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range processing {
		var pl plan
		var took bool
		err := e.commit(func(tx *storage.Tx, c *effects) error {
			pl, took = plan{}, false
			o, err := tx.Order(id)
			if err != nil || o.Status != storage.StatusProcessing || o.Owner != from {
				return err
			}
			o.Owner, took = e.node, true
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
			return n, err
		}
		if took {
			n++
			e.afterCommit(id, &pl)
		}
	}
	if from != e.node {
		// Pending orders change hands in one write: nothing of theirs is
		// in flight.
		var took []uint64
		err := e.commit(func(tx *storage.Tx, c *effects) error {
			took = took[:0]
			for _, id := range pending {
				o, err := tx.Order(id)
				if err != nil {
					return err
				}
				if o.Status != storage.StatusPending || o.Owner != from {
					continue
				}
				o.Owner = e.node
				if err := tx.PutOrder(o); err != nil {
					return err
				}
				took = append(took, id)
			}
			return nil
		})
		if err != nil {
			return n, err
		}
		pending = took
	}
	for _, id := range pending {
		e.queue.push(id)
	}
	return n + len(pending), nil
}
