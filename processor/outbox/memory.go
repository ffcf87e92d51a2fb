package outbox

import (
	"container/heap"
	"math"
	"slices"

	"cardflow/storage"
)

// What the outbox holds in memory: every unacknowledged event up to each
// class's cap, the rest read from the store as room frees (refill), and the
// events it takes on from a process that stopped (Adopt).

// Load reads the unacknowledged events after a restart: the oldest of each
// class up to its cap into memory, the rest when there is room. It holds
// mu while it reads, so that add, which may already be called (the
// storefront listener is up before recovery ends), neither schedules an
// event Load read too nor misses one committed after load's snapshot.
func (d *Outbox) Load() error {
	d.mu.Lock()
	defer d.Kick()
	defer d.mu.Unlock()
	var total int
	var floor uint64
	owner := d.store.Node()
	err := d.store.View(func(tx *storage.Tx) error {
		total = tx.Outbox().CountOwned(owner)
		floor = tx.Outbox().LastSeq() + 1
		full := 0
		_, _, err := tx.Outbox().From(0, func(ev *storage.Event) bool {
			if ev.Owner != owner {
				return true // another process's to carry out
			}
			c := d.classOf(ev.Kind)
			switch {
			case c.spilled:
			case c.pending == c.cap:
				c.spilled, c.spillFrom = true, ev.Seq
				full++
			default:
				d.schedule(ev)
			}
			return full < len(d.classes) // every class full: the rest waits
		})
		return err
	})
	if err != nil {
		for _, c := range d.classes { // nothing was loaded
			c.due, c.pending, c.spilled = nil, 0, false
		}
		clear(d.lanes)
		return err
	}
	d.stored, d.floor, d.loaded = total, floor, true
	return nil
}

// Add schedules events committed to the store, in sequence order. Before
// Load it does nothing (Load reads them); events Load has counted are
// left alone.
func (d *Outbox) Add(events []*storage.Event) {
	d.mu.Lock()
	for _, ev := range events {
		if !d.loaded || ev.Seq < d.floor {
			continue
		}
		if d.inMemory(ev) {
			// A refill read it from the store before this call. (Had it
			// also been sent already, it is sent again: callbacks are
			// at least once, and carry event_id for that.)
			d.stored++
			continue
		}
		d.stored++
		if c := d.classOf(ev.Kind); c.spilled || c.pending >= c.cap {
			if !c.spilled || ev.Seq < c.spillFrom {
				c.spillFrom = ev.Seq
			}
			c.spilled = true
			continue
		}
		d.schedule(ev)
	}
	d.mu.Unlock()
	d.Kick()
}

// schedule puts an event in memory in its lane, in sequence order: at the
// end but for an adopted event (Adopt), which may be older than events of
// the lane this process added itself; the head being sent stays first.
// Call with mu held.
func (d *Outbox) schedule(ev *storage.Event) {
	k := laneKey{kind: ev.Kind, orderID: ev.OrderID}
	l := d.lanes[k]
	if l == nil {
		l = &lane{key: k, cls: d.classOf(ev.Kind), index: -1}
		d.lanes[k] = l
	}
	i := len(l.events)
	for i > 0 && l.events[i-1].Seq > ev.Seq && (i > 1 || !l.busy) {
		i--
	}
	l.events = slices.Insert(l.events, i, ev)
	if i == 0 && len(l.events) > 1 && l.index >= 0 {
		heap.Fix(&l.cls.due, l.index) // a new head, due at its own time
	}
	l.cls.pending++
	if len(l.events) == 1 && !l.busy {
		heap.Push(&l.cls.due, l)
	}
}

// inMemory reports whether an event is in its lane. Lanes are short (one
// order's callbacks), so a scan is cheap. Call with mu held.
func (d *Outbox) inMemory(ev *storage.Event) bool {
	l := d.lanes[laneKey{kind: ev.Kind, orderID: ev.OrderID}]
	if l == nil {
		return false
	}
	for _, e := range l.events {
		if e.Seq == ev.Seq {
			return true
		}
	}
	return false
}

// maybeRefill starts reading a class's spilled events back once half its
// memory is free. Call with mu held.
func (d *Outbox) maybeRefill() {
	for _, c := range d.classes {
		if !c.spilled || c.refilling || c.pending > c.cap/2 {
			continue
		}
		c.refilling = true
		c.ackedDuringRefill = map[uint64]bool{}
		from, room := c.spillFrom, c.cap-c.pending
		c.spillFrom = math.MaxUint64 // add lowers it again for what is spilled meanwhile
		go d.refill(c, from, room)
	}
}

// refill reads up to room spilled events of class c from sequence number
// from on, passing over the other classes' events.
func (d *Outbox) refill(c *class, from uint64, room int) {
	var events []*storage.Event
	var next uint64
	var end bool
	err := d.store.View(func(tx *storage.Tx) error {
		var err error
		next, end, err = tx.Outbox().From(from, func(ev *storage.Event) bool {
			if d.classOf(ev.Kind) != c || ev.Owner != d.store.Node() {
				return true
			}
			if len(events) == room {
				return false
			}
			events = append(events, ev)
			return true
		})
		return err
	})
	d.mu.Lock()
	defer d.Kick()
	defer d.mu.Unlock()
	c.refilling = false
	acked := c.ackedDuringRefill
	c.ackedDuringRefill = nil
	if err != nil {
		d.log.Error().Err(err).Msg("read spilled events; retrying")
		c.spillFrom = min(c.spillFrom, from)
		return
	}
	for _, ev := range events {
		if !acked[ev.Seq] && !d.inMemory(ev) {
			d.schedule(ev)
		}
	}
	if end && c.spillFrom == math.MaxUint64 {
		c.spilled = false
		return
	}
	c.spillFrom = min(c.spillFrom, next)
}

// Adopt takes on events of the store that this process now owns but did
// not add (a departed process's, handed over by the engine's takeover), in
// sequence order, as memory allows: each class reads them back from the
// lowest one on, as it reads events spilled for want of memory.
func (d *Outbox) Adopt(events []*storage.Event) {
	if len(events) == 0 {
		return
	}
	d.mu.Lock()
	for _, ev := range events {
		if d.inMemory(ev) {
			continue
		}
		d.stored++
		c := d.classOf(ev.Kind)
		if !c.spilled || ev.Seq < c.spillFrom {
			c.spillFrom = ev.Seq
		}
		c.spilled = true
	}
	d.mu.Unlock()
	d.Kick()
}
