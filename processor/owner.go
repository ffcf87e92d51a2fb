package processor

import (
	"cardflow/processor/health"
	"context"
	"time"

	"cardflow/storage"
)

// Several cardflow processes may share one PostgreSQL store (docs/cluster.md).
// Each order being worked on (pending, processing) is owned by one of them,
// Order.Owner, and only its owner moves it on: it took the order, or an
// operator's action on another process made that one the owner (effects.move).
// Every write that moves an order on checks ownership in its own
// transaction, and writes are serial across processes, so two processes
// never both act on one order; a purchase is bought under its attempt
// number, which the supplier takes once, so a process that lost an order
// while its request was on the way buys nothing twice. Outbox events are
// owned by the process that stored them (Store.SetNode). When a process
// departs, the leader takes its orders and events over (takeOver). On a
// bbolt file there is one process and every owner is "".

// mine reports whether this process works on the order.
func (e *Engine) mine(o *storage.Order) bool { return o.Owner == e.node }

// Nudges between processes (cluster.Member.Publish): a supplier's callback
// that landed on another process, stock that arrived there.
const (
	topicHint    = "hint"
	topicStock   = "stock"
	topicRequeue = "requeue" // a supplier or product resumed: pending orders look again
)

// subscribe makes the nudges of other processes act here as they would if
// they had happened here.
func (e *Engine) subscribe() {
	e.member.Subscribe(topicHint, e.hint)
	e.member.Subscribe(topicStock, e.stockArrived)
	e.member.Subscribe(topicRequeue, func(string) { e.requeueWaiting() })
	e.member.Subscribe(health.TopicSupplier, e.health.Heard)
}

// takeoverEvery is how often the leader looks for departed processes.
const takeoverEvery = time.Second

// takeOverDeparted runs on the leader: every process that departed has its
// orders and outbox events taken over, then is forgotten.
func (e *Engine) takeOverDeparted(ctx context.Context) {
	t := time.NewTicker(takeoverEvery)
	defer t.Stop()
	for {
		ids, err := e.member.Departed(ctx)
		if err != nil && ctx.Err() == nil {
			e.log.Warn().Err(err).Msg("list departed processes")
		}
		for _, id := range ids {
			if ctx.Err() != nil {
				return
			}
			if err := e.takeOver(id); err != nil {
				e.log.Error().Err(err).Str("departed", id).Msg("take over a departed process's work; trying again")
				continue
			}
			if err := e.member.Forget(ctx, id); err != nil && ctx.Err() == nil {
				e.log.Warn().Err(err).Str("departed", id).Msg("forget a departed process")
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// takeOver makes this process the owner of what the process from held:
// its orders being worked on, recovered as after a crash (recoverOrders),
// and its outbox events, adopted in sequence order.
func (e *Engine) takeOver(from string) error {
	orders, err := e.recoverOrders(from)
	if err != nil {
		return err
	}
	events, err := e.adoptEvents(from)
	if err != nil {
		return err
	}
	e.log.Warn().Str("departed", from).Int("orders", orders).Int("events", events).Msg("took over a departed process's work")
	return nil
}

// adoptChunk is how many events one write of adoptEvents hands over.
const adoptChunk = 2000

// adoptEvents makes this process the owner of the outbox events of the
// process from, a chunk per write, and hands them to the outbox.
func (e *Engine) adoptEvents(from string) (int, error) {
	total := 0
	for next := uint64(0); ; {
		var seqs []uint64
		var end bool
		err := e.store.View(func(tx *storage.Tx) error {
			var err error
			next, end, err = tx.Outbox().From(next, func(ev *storage.Event) bool {
				if ev.Owner == from {
					seqs = append(seqs, ev.Seq)
				}
				return len(seqs) < adoptChunk
			})
			return err
		})
		if err != nil {
			return total, err
		}
		var adopted []*storage.Event
		err = e.store.Update(func(tx *storage.Tx) error {
			adopted = adopted[:0]
			for _, seq := range seqs {
				ev, err := tx.Outbox().Get(seq)
				if err != nil || ev.Owner != from {
					continue // acknowledged meanwhile
				}
				ev.Owner = e.node
				if err := tx.Outbox().Put(ev); err != nil {
					return err
				}
				adopted = append(adopted, ev)
			}
			return nil
		})
		if err != nil {
			return total, err
		}
		e.outbox.Adopt(adopted)
		total += len(adopted)
		if end {
			return total, nil
		}
	}
}
