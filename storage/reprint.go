package storage

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"time"

	"cardflow/storage/kv"

	"cardflow/card"
	"cardflow/internal/cardline"
)

// Schema 2 changed what a card's fingerprint is made from. Schema 1 read
// import lines by cutting them at ASCII commas, so `"KEY","PW"` was stored
// as the number `"KEY"` (quotes and all) and `KEY，PW` as the number
// `KEY，PW`; and its Normalize kept en and em dashes and invisible
// characters. A fingerprint it stored is therefore not valid for every key
// it could have been made from: the same card imported now, read properly,
// gets another fingerprint and would be stocked, and delivered, twice.
//
// reprint recomputes every stored fingerprint from the sealed cards
// themselves, with the master key: the cards in stock, and every card an
// order holds (delivered, replaced by a reissue, or bought by a purchase).
// A card in stock whose line the import reads differently now is resealed
// as it reads now (`"KEY"` becomes `KEY`, `KEY，PW` the number KEY with
// password PW); delivered cards keep their boxes, only their fingerprints
// change. Cards that turn out to be one card under two spellings are
// reconciled: a card still in stock that duplicates one delivered or one
// earlier in stock leaves the stock, audited; a card that went to two
// orders already is audited (nothing can take it back).
//
// A record that cannot be read (a damaged order, a box that does not
// open) keeps its fingerprint, and the audit log counts it: it could not
// be delivered anyway, and must not keep the store from opening.
//
// It runs at Open, before the writer starts, in transactions of a few
// thousand records, and is safe to interrupt: the marker keyReprinting
// stays until the last chunk is done, and every chunk is idempotent (a
// record whose fingerprint is already the new one is left alone), so a
// crash resumes it at the next start. The schema number is raised before
// it starts, so that an older cardflow refuses the half-reprinted file.

// keyReprinting marks a reprint under way.
var keyReprinting = []byte("reprinting")

// reprintChunk is how many records share one transaction.
const reprintChunk = 2000

// repairLine is the card a schema 1 import stored, as the import reads
// its line now. Only cards that show the old reading's marks (a quote or a
// full-width comma inside a field) are read again: the line is rebuilt
// from the fields, which schema 1 had cut at ASCII commas and trimmed, so
// it reads exactly as the original line does now. A line the import would
// now refuse keeps the card as it is.
func repairLine(c card.Card) card.Card {
	if !strings.ContainsAny(c.Number+c.Password+c.ExpiresAt, `"，`) {
		return c
	}
	line := c.Number
	if c.Password != "" || c.ExpiresAt != "" {
		line += "," + c.Password
	}
	if c.ExpiresAt != "" {
		line += "," + c.ExpiresAt
	}
	f, err := cardline.Parse(line)
	if err != nil {
		return c
	}
	return card.Card{Number: f.Number, Password: f.Password, ExpiresAt: f.ExpiresAt}
}

// reprint brings every stored fingerprint to schema 2's (see above).
func (s *Store) reprint() error {
	if err := s.reprintOrders(); err != nil {
		return fmt.Errorf("reprint card fingerprints: %w", err)
	}
	if err := s.reprintStock(); err != nil {
		return fmt.Errorf("reprint card fingerprints: %w", err)
	}
	return s.db.Update(func(tx kv.Tx) error { return tx.Bucket(bucketMeta).Delete(keyReprinting) })
}

// reprintOrders walks every order, chunk by chunk.
func (s *Store) reprintOrders() error {
	var after []byte
	for {
		var next []byte
		err := s.db.Update(func(btx kv.Tx) error {
			t := &Tx{tx: btx, store: s}
			var orders []*Order
			damaged := 0
			c := btx.Bucket(bucketOrders).Cursor()
			k, v := c.First()
			if after != nil {
				if k, v = c.Seek(after); k != nil && bytes.Equal(k, after) {
					k, v = c.Next()
				}
			}
			for ; k != nil && len(orders) < reprintChunk; k, v = c.Next() {
				next = append(next[:0], k...)
				o := new(Order)
				if err := decodeOrder(v, o); err != nil {
					damaged++
					continue
				}
				o.stored = o.Status
				orders = append(orders, o)
			}
			for _, o := range orders {
				n, err := t.reprintOrder(o)
				if err != nil {
					return err
				}
				damaged += n
			}
			return t.auditUnreadable(damaged, "orders")
		})
		if err != nil || next == nil {
			return err
		}
		after = next
	}
}

// reprintOrder gives every card of o its new fingerprint, and moves the
// fingerprint entries the order owns: those of the cards delivered to it
// (now or before a reissue) and of its purchases' cards, except those
// refused as duplicates (their entry is the original's) and those not yet
// delivered (a supplier's card gets its entry on delivery).
// It returns how many of its cards could not be opened.
func (t *Tx) reprintOrder(o *Order) (unreadable int, err error) {
	moved := map[Fingerprint]Fingerprint{} // old → new, of the cards o owns
	changed := false
	update := func(cards []SealedCard, owned bool) error {
		for i := range cards {
			c, err := t.store.vault.Open(cards[i])
			if err != nil {
				unreadable++
				continue
			}
			fp := t.store.vault.Fingerprint(repairLine(c))
			if fp == cards[i].FP {
				continue
			}
			if owned {
				moved[cards[i].FP] = fp
			}
			cards[i].FP, changed = fp, true
		}
		return nil
	}
	_ = update(o.Cards, true)
	for _, set := range o.Replaced {
		_ = update(set, true)
	}
	for i := range o.Attempts {
		_ = update(o.Attempts[i].Cards, o.Attempts[i].State != AttemptBad)
	}
	if !changed {
		return unreadable, nil
	}
	prints := t.tx.Bucket(bucketFingerprints)
	twice := 0
	for old, fp := range moved {
		v := prints.Get(old[:])
		if v == nil || !t.fingerprintOwnedBy(v, o.ID) {
			continue // not delivered yet, or the entry is another card's
		}
		if err := prints.Delete(old[:]); err != nil {
			return 0, fmt.Errorf("remove old fingerprint: %w", err)
		}
		if cur := prints.Get(fp[:]); cur != nil {
			if !t.liveStock(cur) {
				twice++ // delivered elsewhere already: keep that entry
				continue
			}
			if err := t.dropDuplicateStock(cur, fp); err != nil {
				return 0, err
			}
		}
		if err := prints.Put(fp[:], fingerprintValue(fingerprintDelivered, o.ID, "")); err != nil {
			return 0, fmt.Errorf("write fingerprint: %w", err)
		}
	}
	if twice > 0 {
		err := t.Audit(AuditEntry{At: time.Now().UTC(), Actor: System, Action: "cards.delivered_twice",
			Target: fmt.Sprint(o.ID), Outcome: "ok",
			Detail: fmt.Sprintf("%d card(s) of this order were also delivered to another order under another spelling, before this version", twice)})
		if err != nil {
			return 0, err
		}
	}
	return unreadable, t.PutOrder(o)
}

// auditUnreadable records how many records of what a reprint chunk could
// not read, if any.
func (t *Tx) auditUnreadable(n int, what string) error {
	if n == 0 {
		return nil
	}
	return t.Audit(AuditEntry{At: time.Now().UTC(), Actor: System, Action: "cards.unreadable", Target: what, Outcome: "error",
		Detail: fmt.Sprintf("%d record(s) could not be read while card fingerprints were recomputed; they keep their old fingerprints", n)})
}

// fingerprintOwnedBy reports whether a fingerprint entry is the order's own: a
// delivery to it, or a card taken from stock (its record gone) that only
// the order holding it can hold.
func (t *Tx) fingerprintOwnedBy(v []byte, orderID uint64) bool {
	if len(v) < 9 {
		return false
	}
	if v[0] == fingerprintDelivered {
		return binary.BigEndian.Uint64(v[1:9]) == orderID
	}
	return !t.liveStock(v)
}

// liveStock reports whether a fingerprint entry is of a card still in stock.
func (t *Tx) liveStock(v []byte) bool {
	if len(v) < 9 || v[0] != fingerprintInStock {
		return false
	}
	b := t.tx.Bucket(bucketStock).Bucket(v[9:])
	return b != nil && b.Get(v[1:9]) != nil
}

// dropDuplicateStock takes out of stock the card a fingerprint entry names
// (it duplicates another card), and audits it.
func (t *Tx) dropDuplicateStock(v []byte, fp Fingerprint) error {
	sku := string(v[9:])
	if err := t.tx.Bucket(bucketStock).Bucket(v[9:]).Delete(v[1:9]); err != nil {
		return fmt.Errorf("remove duplicate stock card: %w", err)
	}
	if err := t.tx.Bucket(bucketFingerprints).Delete(fp[:]); err != nil {
		return fmt.Errorf("remove duplicate fingerprint: %w", err)
	}
	if err := t.addLevel(sku, -1); err != nil {
		return err
	}
	return t.Audit(AuditEntry{At: time.Now().UTC(), Actor: System, Action: "stock.duplicates_removed", Target: sku,
		Outcome: "ok", Detail: "1 card removed from stock: it is a card already stocked or delivered, spelt another way"})
}

// reprintStock walks every SKU's stock, chunk by chunk.
func (s *Store) reprintStock() error {
	var skus [][]byte
	err := s.db.View(func(tx kv.Tx) error {
		return tx.Bucket(bucketStock).ForEachBucket(func(k []byte) error {
			skus = append(skus, append([]byte(nil), k...))
			return nil
		})
	})
	if err != nil {
		return err
	}
	for _, sku := range skus {
		var after []byte
		for {
			var next []byte
			err := s.db.Update(func(btx kv.Tx) error {
				var err error
				next, err = (&Tx{tx: btx, store: s}).reprintStockChunk(sku, after)
				return err
			})
			if err != nil || next == nil {
				return err
			}
			after = next
		}
	}
	return nil
}

// reprintStockChunk reprints up to reprintChunk stock cards of a SKU after
// the key after, and returns the last key it looked at (nil at the end).
func (t *Tx) reprintStockChunk(sku, after []byte) ([]byte, error) {
	b := t.tx.Bucket(bucketStock).Bucket(sku)
	b.Appending()
	type record struct{ key, value []byte }
	var records []record
	c := b.Cursor()
	k, v := c.First()
	if after != nil {
		if k, v = c.Seek(after); k != nil && bytes.Equal(k, after) {
			k, v = c.Next()
		}
	}
	for ; k != nil && len(records) < reprintChunk; k, v = c.Next() {
		records = append(records, record{append([]byte(nil), k...), append([]byte(nil), v...)})
	}
	if len(records) == 0 {
		return nil, nil
	}
	prints := t.tx.Bucket(bucketFingerprints)
	removed, unreadable := 0, 0
	for _, r := range records {
		if len(r.value) < fingerprintSize {
			unreadable++
			continue
		}
		var old Fingerprint
		copy(old[:], r.value)
		sc := SealedCard{FP: old, Box: r.value[fingerprintSize:]}
		card, err := t.store.vault.Open(sc)
		if err != nil {
			unreadable++
			continue
		}
		fixed := repairLine(card)
		fp := t.store.vault.Fingerprint(fixed)
		if fixed == card && fp == old {
			continue
		}
		if fixed != card {
			if sc, err = t.store.vault.Seal(fixed); err != nil {
				return nil, err
			}
		}
		if fp != old {
			mine := fingerprintValue(fingerprintInStock, binary.BigEndian.Uint64(r.key), string(sku))
			if bytes.Equal(prints.Get(old[:]), mine) {
				if err := prints.Delete(old[:]); err != nil {
					return nil, fmt.Errorf("remove old fingerprint: %w", err)
				}
			}
			if prints.Get(fp[:]) != nil { // stocked or delivered already under another spelling
				if err := b.Delete(r.key); err != nil {
					return nil, fmt.Errorf("remove duplicate stock card: %w", err)
				}
				removed++
				continue
			}
			if err := prints.Put(fp[:], mine); err != nil {
				return nil, fmt.Errorf("write fingerprint: %w", err)
			}
		}
		v := make([]byte, 0, fingerprintSize+len(sc.Box))
		if err := b.Put(r.key, append(append(v, fp[:]...), sc.Box...)); err != nil {
			return nil, fmt.Errorf("write stock card: %w", err)
		}
	}
	if removed > 0 {
		if err := t.addLevel(string(sku), -removed); err != nil {
			return nil, err
		}
		err := t.Audit(AuditEntry{At: time.Now().UTC(), Actor: System, Action: "stock.duplicates_removed", Target: string(sku),
			Outcome: "ok", Detail: fmt.Sprintf("%d card(s) removed from stock: each is a card already stocked or delivered, spelt another way", removed)})
		if err != nil {
			return nil, err
		}
	}
	if err := t.auditUnreadable(unreadable, "stock "+string(sku)); err != nil {
		return nil, err
	}
	return records[len(records)-1].key, nil
}
