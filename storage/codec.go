package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"cardflow/internal/money"
)

// Orders are stored in a small binary form rather than JSON: an order is
// written when it arrives and read back for every callback and API answer,
// and decoding JSON (times, base64, nested objects) was the largest single
// CPU cost per order. The form is versioned by its first byte; fields are
// appended in a fixed order, strings and byte slices are length-prefixed,
// integers are varints and times are Unix nanoseconds (0 for the zero time).
// Format 2 appends DelayCauses; records of format 1 still decode (without).
// Format 3 appends Charged, and is written only for an order charged to a
// docking shop's balance, so every other order stays readable by a
// cardflow that knows format 2. Format 4 appends Owner after Charged, and
// is written only for an order that has one (several processes on
// PostgreSQL): a bbolt file's orders keep formats 2 and 3.

const (
	orderFormat1 = 1
	orderFormat2 = 2
	orderFormat3 = 3
	orderFormat4 = 4
)

var errCorrupt = errors.New("corrupt order record")

type encoder struct{ b []byte }

func (e *encoder) uvarint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *encoder) varint(v int64)   { e.b = binary.AppendVarint(e.b, v) }
func (e *encoder) bytes(p []byte)   { e.uvarint(uint64(len(p))); e.b = append(e.b, p...) }
func (e *encoder) str(s string)     { e.uvarint(uint64(len(s))); e.b = append(e.b, s...) }
func (e *encoder) time(t time.Time) {
	if t.IsZero() {
		e.varint(0)
		return
	}
	e.varint(t.UnixNano())
}

func (e *encoder) bool(v bool) {
	if v {
		e.b = append(e.b, 1)
	} else {
		e.b = append(e.b, 0)
	}
}

func (e *encoder) cards(cs []SealedCard) {
	e.uvarint(uint64(len(cs)))
	for _, c := range cs {
		e.b = append(e.b, c.FP[:]...)
		e.bytes(c.Box)
	}
}

// encodeOrder appends the binary form of o to dst.
func encodeOrder(dst []byte, o *Order) []byte {
	format := byte(orderFormat2)
	switch {
	case o.Owner != "":
		format = orderFormat4
	case o.Charged != 0:
		format = orderFormat3
	}
	e := encoder{b: append(dst, format)}
	e.uvarint(o.ID)
	e.str(o.ExternalID)
	e.str(o.Storefront)
	e.str(o.SKU)
	e.str(o.Kind)
	e.uvarint(uint64(o.Quantity))
	e.varint(int64(o.Amount))
	e.str(o.Buyer.ID)
	e.str(o.Buyer.Contact)
	e.str(o.Buyer.IP)
	e.str(o.Account)
	e.uvarint(uint64(len(o.Extra)))
	for k, v := range o.Extra {
		e.str(k)
		e.str(v)
	}
	e.bytes(o.RequestHash)
	e.str(string(o.Status))
	e.str(o.Reason)
	e.time(o.CreatedAt)
	e.time(o.UpdatedAt)
	e.time(o.DeliveredAt)
	e.time(o.WaitUntil)
	e.cards(o.Cards)
	e.uvarint(uint64(len(o.Replaced)))
	for _, set := range o.Replaced {
		e.cards(set)
	}
	e.uvarint(uint64(len(o.History)))
	for _, h := range o.History {
		e.time(h.At)
		e.str(string(h.From))
		e.str(string(h.To))
		e.str(h.Reason)
		e.str(h.Actor.Name)
		e.str(h.Actor.Platform)
	}
	e.bool(o.Features != nil)
	if f := o.Features; f != nil {
		e.uvarint(uint64(f.Orders1h))
		e.uvarint(uint64(f.Orders24h))
		e.varint(int64(f.Amount24h))
		e.uvarint(uint64(f.Refunds30d))
		e.uvarint(uint64(f.FirstSeenDays))
		e.uvarint(uint64(f.Hour))
	}
	e.uvarint(uint64(len(o.Attempts)))
	for _, a := range o.Attempts {
		e.str(a.No)
		e.str(a.Supplier)
		e.str(a.Item)
		e.uvarint(uint64(a.Batch))
		e.uvarint(uint64(a.Quantity))
		e.uvarint(uint64(a.Units))
		e.str(string(a.State))
		e.str(a.Reason)
		e.str(a.Detail)
		e.time(a.SentAt)
		e.time(a.NextAt)
		e.uvarint(uint64(a.Queries))
		e.uvarint(uint64(a.Resubmits))
		e.varint(int64(a.Cost))
		e.str(a.SupplierID)
		e.cards(a.Cards)
		e.time(a.EndedAt)
		e.bool(a.Archived)
	}
	e.uvarint(uint64(len(o.DelayCauses)))
	for _, c := range o.DelayCauses {
		e.str(c)
	}
	if format >= orderFormat3 {
		e.varint(int64(o.Charged))
	}
	if format >= orderFormat4 {
		e.str(o.Owner)
	}
	return e.b
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = errCorrupt
	}
	d.b = nil
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads a length and checks it against the bytes left, so a corrupt
// record cannot make the decoder allocate gigabytes.
func (d *decoder) count(minSize int) int {
	n := d.uvarint()
	if n > uint64(len(d.b)/max(minSize, 1)+1) {
		d.fail()
		return 0
	}
	return int(n)
}

func (d *decoder) raw(n int) []byte {
	if n > len(d.b) {
		d.fail()
		return nil
	}
	p := d.b[:n]
	d.b = d.b[n:]
	return p
}

func (d *decoder) bytes() []byte {
	p := d.raw(d.count(1))
	if len(p) == 0 {
		return nil
	}
	return append([]byte(nil), p...) // bbolt's memory is only valid inside the transaction
}

func (d *decoder) bool() bool {
	p := d.raw(1)
	return len(p) == 1 && p[0] == 1
}

func (d *decoder) str() string { return string(d.raw(d.count(1))) }

func (d *decoder) time() time.Time {
	ns := d.varint()
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

func (d *decoder) cards() []SealedCard {
	n := d.count(fingerprintSize + 1)
	if n == 0 {
		return nil
	}
	cs := make([]SealedCard, n)
	for i := range cs {
		copy(cs[i].FP[:], d.raw(fingerprintSize))
		cs[i].Box = d.bytes()
	}
	return cs
}

// decodeOrder reads the binary form into o.
func decodeOrder(b []byte, o *Order) error {
	if len(b) == 0 || b[0] < orderFormat1 || b[0] > orderFormat4 {
		return fmt.Errorf("%w: unknown format", errCorrupt)
	}
	format := b[0]
	d := decoder{b: b[1:]}
	o.ID = d.uvarint()
	o.ExternalID = d.str()
	o.Storefront = d.str()
	o.SKU = d.str()
	o.Kind = d.str()
	o.Quantity = int(d.uvarint())
	o.Amount = money.Amount(d.varint())
	o.Buyer.ID = d.str()
	o.Buyer.Contact = d.str()
	o.Buyer.IP = d.str()
	o.Account = d.str()
	if n := d.count(2); n > 0 {
		o.Extra = make(map[string]string, n)
		for range n {
			k := d.str()
			o.Extra[k] = d.str()
		}
	}
	o.RequestHash = d.bytes()
	o.Status = Status(d.str())
	o.Reason = d.str()
	o.CreatedAt = d.time()
	o.UpdatedAt = d.time()
	o.DeliveredAt = d.time()
	o.WaitUntil = d.time()
	o.Cards = d.cards()
	if n := d.count(1); n > 0 {
		o.Replaced = make([][]SealedCard, n)
		for i := range o.Replaced {
			o.Replaced[i] = d.cards()
		}
	}
	if n := d.count(6); n > 0 {
		o.History = make([]Transition, n)
		for i := range o.History {
			h := &o.History[i]
			h.At = d.time()
			h.From = Status(d.str())
			h.To = Status(d.str())
			h.Reason = d.str()
			h.Actor.Name = d.str()
			h.Actor.Platform = d.str()
		}
	}
	if d.bool() {
		o.Features = &Features{Orders1h: int(d.uvarint()), Orders24h: int(d.uvarint()), Amount24h: money.Amount(d.varint()),
			Refunds30d: int(d.uvarint()), FirstSeenDays: int(d.uvarint()), Hour: int(d.uvarint())}
	}
	if n := d.count(18); n > 0 {
		o.Attempts = make([]Attempt, n)
		for i := range o.Attempts {
			a := &o.Attempts[i]
			a.No = d.str()
			a.Supplier = d.str()
			a.Item = d.str()
			a.Batch = int(d.uvarint())
			a.Quantity = int(d.uvarint())
			a.Units = int(d.uvarint())
			a.State = AttemptState(d.str())
			a.Reason = d.str()
			a.Detail = d.str()
			a.SentAt = d.time()
			a.NextAt = d.time()
			a.Queries = int(d.uvarint())
			a.Resubmits = int(d.uvarint())
			a.Cost = money.Amount(d.varint())
			a.SupplierID = d.str()
			a.Cards = d.cards()
			a.EndedAt = d.time()
			a.Archived = d.bool()
		}
	}
	if format >= orderFormat2 {
		if n := d.count(1); n > 0 {
			o.DelayCauses = make([]string, n)
			for i := range o.DelayCauses {
				o.DelayCauses[i] = d.str()
			}
		}
	}
	if format >= orderFormat3 {
		o.Charged = money.Amount(d.varint())
	}
	if format >= orderFormat4 {
		o.Owner = d.str()
	}
	if d.err != nil {
		return d.err
	}
	if len(d.b) != 0 {
		return fmt.Errorf("%w: %d trailing bytes", errCorrupt, len(d.b))
	}
	return nil
}
