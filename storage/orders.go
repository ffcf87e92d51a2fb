package storage

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// Order reads one order.
func (t *Tx) Order(id uint64) (*Order, error) {
	v := t.tx.Bucket(bucketOrders).Get(u64(id))
	if v == nil {
		return nil, fmt.Errorf("order %d: %w", id, ErrNotFound)
	}
	o := new(Order)
	if err := decodeOrder(v, o); err != nil {
		return nil, fmt.Errorf("decode order %d: %w", id, err)
	}
	o.stored = o.Status
	return o, nil
}

// OrderByExternal finds a storefront's order by its external id.
func (t *Tx) OrderByExternal(storefront, externalID string) (*Order, error) {
	id := t.tx.Bucket(bucketExt).Get(extKey(storefront, externalID))
	if id == nil {
		return nil, fmt.Errorf("order %s/%s: %w", storefront, externalID, ErrNotFound)
	}
	return t.Order(binary.BigEndian.Uint64(id))
}

// NewOrderID hands out the next order id. Ids are sequential and short, so
// that operators can type them on a phone.
func (t *Tx) NewOrderID() (uint64, error) {
	id, err := t.tx.Bucket(bucketOrders).NextSequence()
	if err != nil {
		return 0, fmt.Errorf("allocate order id: %w", err)
	}
	return id, nil
}

// CreateOrder stores a new order, giving it the next id unless it has one
// from NewOrderID. The caller has checked that its external id is free.
func (t *Tx) CreateOrder(o *Order) error {
	if o.ID == 0 {
		id, err := t.NewOrderID()
		if err != nil {
			return err
		}
		o.ID = id
	}
	o.stored = ""
	if err := t.tx.Bucket(bucketExt).Put(extKey(o.Storefront, o.ExternalID), u64(o.ID)); err != nil {
		return fmt.Errorf("index order %d: %w", o.ID, err)
	}
	return t.PutOrder(o)
}

// PutOrder writes an order and moves it between the open-order index entries
// when its status changed since it was read.
func (t *Tx) PutOrder(o *Order) error {
	rec := OrderRecord(encodeOrder(nil, o))
	if err := t.appending(bucketOrders).Put(u64(o.ID), rec); err != nil {
		return fmt.Errorf("write order %d: %w", o.ID, err)
	}
	if t.written == nil {
		t.written = map[uint64]OrderRecord{}
	}
	t.written[o.ID] = rec
	if o.stored != o.Status {
		open := t.tx.Bucket(bucketOpen)
		if o.stored != "" && o.stored.open() {
			if err := open.Delete(openKey(o.stored, o.ID)); err != nil {
				return fmt.Errorf("unindex order %d: %w", o.ID, err)
			}
		}
		if o.Status.open() {
			if err := open.Put(openKey(o.Status, o.ID), nil); err != nil {
				return fmt.Errorf("index order %d: %w", o.ID, err)
			}
		}
		o.stored = o.Status
	}
	return nil
}

// OpenOrders lists the ids of orders in an open status, oldest first. This is
// the engine's work list; it never touches closed orders.
func (t *Tx) OpenOrders(s Status, limit int) []uint64 {
	var ids []uint64
	prefix := []byte{s.code()}
	c := t.tx.Bucket(bucketOpen).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		ids = append(ids, binary.BigEndian.Uint64(k[1:]))
		if limit > 0 && len(ids) == limit {
			break
		}
	}
	return ids
}

// openChunk is how many orders one read transaction of EachOpenOrder reads.
const openChunk = 1000

// EachOpenOrder calls fn for every order in an open status, oldest first,
// reading openChunk orders per read transaction (a backlog is many
// thousands of orders, and a long read holds up writes that grow the
// file). Orders are read as they stand when their chunk is read: one that
// changes status meanwhile may be met again in its new status, or missed.
func (s *Store) EachOpenOrder(st Status, fn func(*Order) error) error {
	var after uint64
	for {
		var orders []*Order
		err := s.View(func(tx *Tx) error {
			prefix := []byte{st.code()}
			c := tx.tx.Bucket(bucketOpen).Cursor()
			for k, _ := c.Seek(openKey(st, after+1)); k != nil && bytes.HasPrefix(k, prefix) && len(orders) < openChunk; k, _ = c.Next() {
				o, err := tx.Order(binary.BigEndian.Uint64(k[1:]))
				if err != nil {
					return err
				}
				orders = append(orders, o)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, o := range orders {
			if err := fn(o); err != nil {
				return err
			}
		}
		if len(orders) < openChunk {
			return nil
		}
		after = orders[len(orders)-1].ID
	}
}

// CountOpen counts orders in an open status.
func (t *Tx) CountOpen(s Status) int {
	n := 0
	prefix := []byte{s.code()}
	c := t.tx.Bucket(bucketOpen).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		n++
	}
	return n
}

// LastOrderID is the highest order id handed out.
func (t *Tx) LastOrderID() uint64 { return t.tx.Bucket(bucketOrders).Sequence() }

// RecentOrders returns up to max orders with ids below before (0: from the
// newest), newest first. A long scan calls it in a loop of short read
// transactions, going on from the last id it got, and works outside them:
// bbolt cannot grow the file while any read transaction is open.
func (t *Tx) RecentOrders(before uint64, max int) ([]*Order, error) {
	c := t.tx.Bucket(bucketOrders).Cursor()
	k, v := c.Last()
	if before != 0 {
		if k, v = c.Seek(u64(before)); k != nil {
			k, v = c.Prev()
		} else {
			k, v = c.Last()
		}
	}
	out := make([]*Order, 0, min(max, 64))
	for ; k != nil && len(out) < max; k, v = c.Prev() {
		o := new(Order)
		if err := decodeOrder(v, o); err != nil {
			return out, fmt.Errorf("decode order %d: %w", binary.BigEndian.Uint64(k), err)
		}
		o.stored = o.Status
		out = append(out, o)
	}
	return out, nil
}

func extKey(storefront, externalID string) []byte {
	k := make([]byte, 0, len(storefront)+1+len(externalID))
	k = append(k, storefront...)
	k = append(k, 0)
	return append(k, externalID...)
}

func openKey(s Status, id uint64) []byte {
	k := make([]byte, 9)
	k[0] = s.code()
	binary.BigEndian.PutUint64(k[1:], id)
	return k
}

// OrderRecord is an order's record as a write stored it. Nothing changes
// it once written: it may be read after its transaction, from any
// goroutine.
type OrderRecord []byte

// Order decodes the record.
func (r OrderRecord) Order() (*Order, error) {
	o := new(Order)
	if err := decodeOrder(r, o); err != nil {
		return nil, fmt.Errorf("decode order record: %w", err)
	}
	o.stored = o.Status
	return o, nil
}

// Written is the record of order id as this transaction last wrote it, nil
// if it did not write the order.
func (t *Tx) Written(id uint64) OrderRecord { return t.written[id] }
