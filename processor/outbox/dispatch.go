package outbox

import (
	"container/heap"
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"time"

	"cardflow/alert"
	"cardflow/internal/outbound"
	"cardflow/internal/periodic"
	"cardflow/storage"
)

// The dispatcher: the lane whose head event is due first is sent, as many
// at once as its class allows, one event of a lane at a time; a failed
// attempt is retried with backoff.

// Run sends due events, and checks the backlog every backlogEvery, until
// ctx ends; then it waits for sends in flight.
func (d *Outbox) Run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { periodic.Every(ctx, backlogEvery, d.checkBacklog) })
	d.dispatch(ctx)
}

// dispatch sends due events until ctx ends, then waits for sends in flight.
func (d *Outbox) dispatch(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		d.mu.Lock()
		d.maybeRefill()
		wait := time.Hour
		for _, c := range d.classes {
			if c.spilled {
				wait = time.Second // a failed refill is tried again
			}
		}
		next, w := d.nextDue()
		wait = min(wait, w)
		d.mu.Unlock()
		if next != nil {
			if ctx.Err() != nil {
				d.release(next)
				return
			}
			wg.Go(func() {
				var once sync.Once
				free := func() { once.Do(func() { d.done(next.cls) }) }
				defer free()
				d.send(ctx, next, free)
			})
			continue
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-d.wake:
		case <-timer.C:
		}
	}
}

// nextDue takes the lane whose head is due first among the classes with a
// send to spare, marking it busy; else it says how long until the first
// head is due. Call with mu held.
func (d *Outbox) nextDue() (*lane, time.Duration) {
	var pick *class
	for _, c := range d.classes {
		if c.busy < c.limit && c.due.Len() > 0 && (pick == nil || c.due.headBefore(pick.due)) {
			pick = c
		}
	}
	if pick == nil {
		return nil, time.Hour
	}
	if w := pick.due[0].events[0].NextAt.Sub(d.now()); w > 0 {
		return nil, w
	}
	l := heap.Pop(&pick.due).(*lane)
	l.busy = true
	pick.busy++
	return l, 0
}

// done gives back a send of a class.
func (d *Outbox) done(c *class) {
	d.mu.Lock()
	c.busy--
	d.mu.Unlock()
	d.Kick()
}

// release puts a lane back without sending (shutdown).
func (d *Outbox) release(l *lane) {
	d.mu.Lock()
	l.busy = false
	heap.Push(&l.cls.due, l)
	d.mu.Unlock()
}

// send delivers a lane's head event and records the result durably. It
// calls free once the receiver has answered: the class's limit is on
// sends, and the record of the answer waits for a commit, which under load
// takes longer than the send. Holding the send through it let at most 64
// callbacks go out in a commit's time: when orders came faster than the
// service could take them, the storefronts heard of deliveries seconds
// late. The lane stays busy until the answer is recorded, so its next
// event waits.
func (d *Outbox) send(ctx context.Context, l *lane, free func()) {
	d.mu.Lock()
	ev := l.events[0]
	d.mu.Unlock()
	h := d.handlers[ev.Kind]
	var err error
	if h == nil {
		err = errNoHandler
	} else {
		sendCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err = h.Deliver(sendCtx, ev)
		cancel()
	}
	free()
	d.mu.Lock()
	ev.Written = nil // tried: a later attempt reads the order as it is then, and memory does not keep it
	d.mu.Unlock()
	if ctx.Err() != nil && err != nil {
		d.release(l) // shutting down: the event stays in the store as it was
		return
	}
	if wait := (*NotBefore)(nil); errors.As(err, &wait) {
		d.mu.Lock()
		ev.NextAt = wait.At // in memory only: after a restart it is due anyway
		d.requeue(l)
		d.mu.Unlock()
		d.Kick()
		return
	}
	var refused *Refused
	if err == nil || errors.As(err, &refused) {
		var alerts []storage.Alert
		if r, ok := h.(recoverer); ok {
			alerts = append(alerts, r.Recovered()...)
		}
		if refused != nil {
			d.log.Warn().Err(refused.Err).Uint64("event_seq", ev.Seq).Str("type", ev.Type).Uint64("order_id", ev.OrderID).
				Str("target", ev.Target).Msg("event refused for good; given up")
			alerts = append(alerts, refused.Alert)
		}
		var added []*storage.Event
		serr := d.store.Update(func(tx *storage.Tx) error {
			added = nil
			if err := tx.Outbox().Delete(ev.Seq); err != nil {
				return err
			}
			for _, a := range alerts {
				qe, err := QueueAlert(tx, a, d.now())
				if err != nil {
					return err
				}
				if qe != nil {
					added = append(added, qe)
				}
			}
			if !ev.Alerted {
				return nil
			}
			a, err := queueCallbackAlert(tx, ev, alert.CallbackFailing, d.now(), true, "")
			if a != nil {
				added = append(added, a)
			}
			return err
		})
		if serr != nil {
			d.log.Error().Err(serr).Uint64("event_seq", ev.Seq).Msg("acknowledge event failed")
			d.retryLater(l, ev, serr)
			return
		}
		d.mu.Lock()
		l.events[0] = nil
		l.events = l.events[1:]
		l.cls.pending--
		d.stored--
		if l.cls.refilling {
			l.cls.ackedDuringRefill[ev.Seq] = true
		}
		d.requeue(l)
		d.maybeRefill()
		d.mu.Unlock()
		if len(added) > 0 {
			d.Add(added)
		}
		d.Kick()
		return
	}
	d.retryLater(l, ev, err)
}

// retryLater records a failed attempt and schedules the next one.
func (d *Outbox) retryLater(l *lane, ev *storage.Event, cause error) {
	now := d.now()
	next := *ev
	next.Attempts++
	next.NextAt = now.Add(backoff(next.Attempts))
	next.LastError = truncate(cause.Error(), 200)
	// A redirect is a misconfigured callback_url, not a passing fault: every
	// retry will meet it again, so operators hear of it at once.
	redirected := outbound.IsRedirect(cause)
	raise := !next.Alerted && next.Kind == KindCallback && (redirected || now.Sub(next.CreatedAt) >= alertAfter)
	next.Alerted = next.Alerted || raise
	var troubled *Troubled
	errors.As(cause, &troubled)
	var added []*storage.Event
	err := d.store.Update(func(tx *storage.Tx) error {
		added = nil
		if err := tx.Outbox().Put(&next); err != nil {
			return err
		}
		if troubled != nil {
			a, err := QueueAlert(tx, troubled.Alert, now)
			if err != nil {
				return err
			}
			if a != nil {
				added = append(added, a)
			}
		}
		if !raise {
			return nil
		}
		typ := alert.CallbackFailing
		if redirected {
			typ = alert.CallbackRedirect
		}
		a, err := queueCallbackAlert(tx, ev, typ, now, false, next.LastError)
		if a != nil {
			added = append(added, a)
		}
		return err
	})
	d.log.Warn().Err(cause).Uint64("event_seq", ev.Seq).Str("type", ev.Type).Uint64("order_id", ev.OrderID).
		Int("attempts", next.Attempts).Time("next_at", next.NextAt).Msg("event delivery failed")
	d.mu.Lock()
	if err == nil {
		l.events[0] = &next
	} else {
		// Keep the in-memory schedule even if the store refused the update;
		// the stored copy is only behind on its attempt count.
		d.log.Error().Err(err).Uint64("event_seq", ev.Seq).Msg("record failed attempt")
		ev.NextAt = next.NextAt
	}
	d.requeue(l)
	d.mu.Unlock()
	if len(added) > 0 {
		d.Add(added)
	}
	d.Kick()
}

// requeue puts an idle lane with events back on the heap, or drops it. Call
// with mu held.
func (d *Outbox) requeue(l *lane) {
	l.busy = false
	if len(l.events) == 0 {
		delete(d.lanes, l.key)
		return
	}
	heap.Push(&l.cls.due, l)
}

// backoff is the wait after the n-th failed attempt: 1 s, 2 s, 4 s … capped
// at an hour, with ±10 % jitter so that a recovered receiver is not hit by
// every retry in the same second.
func backoff(n int) time.Duration {
	d := backoffMax
	if n < 13 {
		d = min(backoffMin<<(n-1), backoffMax)
	}
	jitter := time.Duration(rand.Int64N(int64(d)/5+1)) - d/10
	return d + jitter
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
