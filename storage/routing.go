package storage

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// Pauses and per-supplier counters live in the meta bucket under prefixed
// keys: they are few, small and read on every routing decision.
const (
	pausePrefix = "pause:"     // pause:supplier:fulu, pause:sku:qb-10 → who
	badPrefix   = "bad_cards:" // bad_cards:fulu → count
	// claimPrefix counts the cards of upheld claims by the supplier they
	// came from (own stock too); a remote supplier's are in its bad_cards
	// as well.
	claimPrefix = "claim_cards:" // claim_cards:fulu → count
)

// Paused reports whether a supplier or SKU ("supplier:fulu", "sku:qb-10")
// is paused.
func (t *Tx) Paused(target string) bool {
	return t.tx.Bucket(bucketMeta).Get([]byte(pausePrefix+target)) != nil
}

// SetPaused pauses or resumes a supplier or SKU; by names who did it.
func (t *Tx) SetPaused(target string, paused bool, by string) error {
	b := t.tx.Bucket(bucketMeta)
	var err error
	if paused {
		err = b.Put([]byte(pausePrefix+target), []byte(by))
	} else {
		err = b.Delete([]byte(pausePrefix + target))
	}
	if err != nil {
		return fmt.Errorf("record pause of %s: %w", target, err)
	}
	return nil
}

// PausedList returns every paused target with who paused it.
func (t *Tx) PausedList() map[string]string {
	out := map[string]string{}
	c := t.tx.Bucket(bucketMeta).Cursor()
	prefix := []byte(pausePrefix)
	for k, v := c.Seek(prefix); k != nil && strings.HasPrefix(string(k), pausePrefix); k, v = c.Next() {
		out[strings.TrimPrefix(string(k), pausePrefix)] = string(v)
	}
	return out
}

// AddBadCards counts bad cards a supplier delivered: duplicates, and cards
// of upheld claims.
func (t *Tx) AddBadCards(supplier string, n int) error {
	return t.addCount(badPrefix, supplier, n)
}

// AddClaimCards counts cards of upheld claims that came from a supplier.
func (t *Tx) AddClaimCards(supplier string, n int) error {
	return t.addCount(claimPrefix, supplier, n)
}

// ClaimCards returns each supplier's count of cards in upheld claims.
func (t *Tx) ClaimCards() map[string]int { return t.counts(claimPrefix) }

func (t *Tx) addCount(prefix, supplier string, n int) error {
	key := []byte(prefix + supplier)
	b := t.tx.Bucket(bucketMeta)
	var cur uint64
	if v := b.Get(key); len(v) == 8 {
		cur = binary.BigEndian.Uint64(v)
	}
	if err := b.Put(key, u64(cur+uint64(n))); err != nil {
		return fmt.Errorf("count %s of %s: %w", strings.TrimSuffix(prefix, ":"), supplier, err)
	}
	return nil
}

// BadCards returns each supplier's count of bad cards.
func (t *Tx) BadCards() map[string]int { return t.counts(badPrefix) }

func (t *Tx) counts(prefix string) map[string]int {
	out := map[string]int{}
	c := t.tx.Bucket(bucketMeta).Cursor()
	for k, v := c.Seek([]byte(prefix)); k != nil && strings.HasPrefix(string(k), prefix); k, v = c.Next() {
		if len(v) == 8 {
			out[strings.TrimPrefix(string(k), prefix)] = int(binary.BigEndian.Uint64(v))
		}
	}
	return out
}
