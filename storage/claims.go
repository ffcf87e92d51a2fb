package storage

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// After-sale claims (售后): a buyer, through the storefront, says that
// cards of a delivered order are bad or never arrived. A claim only records
// the complaint; an operator's resolution (a reissue, a refund, or a
// rejection) is what changes money or keys (docs/claims.md).

// ClaimStatus is where a claim stands. Its strings are part of the API.
type ClaimStatus string

// The claim states: open until an operator resolves it, once.
const (
	ClaimOpen     ClaimStatus = "open"
	ClaimReissued ClaimStatus = "reissued"
	ClaimRefunded ClaimStatus = "refunded"
	ClaimRejected ClaimStatus = "rejected"
)

// Claim is the durable record of one after-sale claim. The cards a buyer
// named are kept as positions in one of the order's card sets, never as
// their numbers: the numbers stay sealed on the order.
type Claim struct {
	ID         uint64 `json:"id"`
	OrderID    uint64 `json:"order_id"`
	Storefront string `json:"storefront"`
	// ClaimID is the storefront's own id of the claim, its idempotency
	// key; RequestHash tells a repeat from another claim reusing it.
	ClaimID     string `json:"claim_id,omitempty"`
	RequestHash []byte `json:"request_hash,omitempty"`
	Reason      string `json:"reason"`
	Message     string `json:"message,omitempty"`
	// CardSet is the order's card set (Order.CardSet) the named cards
	// belong to; Cards their positions in it, and Sources the supplier
	// each came from ("" when the order no longer tells).
	CardSet int      `json:"card_set,omitempty"`
	Cards   []int    `json:"cards,omitempty"`
	Sources []string `json:"sources,omitempty"`
	// Batches, when a named card came from own stock, holds for each
	// card the import batch it came in (0: stocked before batches, or not
	// own stock); nil when none did.
	Batches []uint64 `json:"batches,omitempty"`

	Status     ClaimStatus `json:"status"`
	Note       string      `json:"note,omitempty"`
	CreatedAt  time.Time   `json:"created_at"`
	ResolvedAt time.Time   `json:"resolved_at,omitzero"`
	ResolvedBy Actor       `json:"resolved_by,omitzero"`
	// ReplacedBy is the card set a reissue delivers in place of CardSet:
	// the order keeps set CardSet among its replaced sets, and set
	// ReplacedBy is the buyer's new cards once delivered.
	ReplacedBy int `json:"replaced_by,omitempty"`
}

// Resolved reports whether an operator has resolved the claim.
func (c *Claim) Resolved() bool { return c.Status != ClaimOpen }

// ClaimTx is the after-sale claims seen in one transaction (Tx.Claims).
// Claims are rare and read by people, so their records are JSON.
type ClaimTx struct{ t *Tx }

// Claims returns the after-sale claims of this transaction.
func (t *Tx) Claims() ClaimTx { return ClaimTx{t} }

// Create stores a new claim under the next claim id and indexes it: by
// order, by the storefront's claim id (if any), as open, and under buyer,
// the order's buyer identity (ClaimBuyer; "" for none).
func (view ClaimTx) Create(c *Claim, buyer string) error {
	t := view.t
	b := t.appending(bucketClaimRecs)
	id, err := b.NextSequence()
	if err != nil {
		return fmt.Errorf("allocate claim id: %w", err)
	}
	c.ID = id
	if err := view.put(c); err != nil {
		return err
	}
	// Index values are never nil: bbolt's Get answers nil for them until
	// the write commits.
	index := func(bucket, key, value []byte) error {
		if err := t.tx.Bucket(bucket).Put(key, value); err != nil {
			return fmt.Errorf("index claim %d: %w", c.ID, err)
		}
		return nil
	}
	if err := index(bucketClaimOrder, pairKey(u64(c.OrderID), c.ID), []byte{1}); err != nil {
		return err
	}
	if c.ClaimID != "" {
		if err := index(bucketClaimExt, extKey(c.Storefront, c.ClaimID), u64(c.ID)); err != nil {
			return err
		}
	}
	if c.Status == ClaimOpen {
		if err := index(bucketClaimOpen, u64(c.ID), []byte{1}); err != nil {
			return err
		}
	}
	if buyer != "" {
		id := t.identity(buyer)
		if err := index(bucketClaimBuyer, pairKey(id[:], c.ID), []byte{1}); err != nil {
			return err
		}
	}
	return nil
}

// Put rewrites a claim that exists, moving it out of the open index once
// resolved.
func (view ClaimTx) Put(c *Claim) error {
	t := view.t
	if t.tx.Bucket(bucketClaimRecs).Get(u64(c.ID)) == nil {
		return fmt.Errorf("claim %d: %w", c.ID, ErrNotFound)
	}
	if err := view.put(c); err != nil {
		return err
	}
	open := t.tx.Bucket(bucketClaimOpen)
	var err error
	if c.Status == ClaimOpen {
		err = open.Put(u64(c.ID), []byte{1})
	} else {
		err = open.Delete(u64(c.ID))
	}
	if err != nil {
		return fmt.Errorf("index claim %d: %w", c.ID, err)
	}
	return nil
}

func (view ClaimTx) put(c *Claim) error {
	v, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("encode claim %d: %w", c.ID, err)
	}
	if err := view.t.tx.Bucket(bucketClaimRecs).Put(u64(c.ID), v); err != nil {
		return fmt.Errorf("write claim %d: %w", c.ID, err)
	}
	return nil
}

// Get reads one claim.
func (view ClaimTx) Get(id uint64) (*Claim, error) {
	v := view.t.tx.Bucket(bucketClaimRecs).Get(u64(id))
	if v == nil {
		return nil, fmt.Errorf("claim %d: %w", id, ErrNotFound)
	}
	c := new(Claim)
	if err := json.Unmarshal(v, c); err != nil {
		return nil, fmt.Errorf("decode claim %d: %w", id, err)
	}
	return c, nil
}

// ByExternal finds a storefront's claim by the claim id it chose.
func (view ClaimTx) ByExternal(storefront, claimID string) (*Claim, error) {
	v := view.t.tx.Bucket(bucketClaimExt).Get(extKey(storefront, claimID))
	if len(v) != 8 {
		return nil, fmt.Errorf("claim %s/%s: %w", storefront, claimID, ErrNotFound)
	}
	return view.Get(binary.BigEndian.Uint64(v))
}

// OfOrder lists an order's claims, oldest first.
func (view ClaimTx) OfOrder(orderID uint64) ([]*Claim, error) {
	var out []*Claim
	prefix := u64(orderID)
	c := view.t.tx.Bucket(bucketClaimOrder).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		if len(k) != 16 {
			continue
		}
		cl, err := view.Get(binary.BigEndian.Uint64(k[8:]))
		if err != nil {
			return nil, err
		}
		out = append(out, cl)
	}
	return out, nil
}

// Open lists up to limit open claims, oldest first, and how many are open.
func (view ClaimTx) Open(limit int) ([]*Claim, int, error) {
	var out []*Claim
	n := 0
	c := view.t.tx.Bucket(bucketClaimOpen).Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		if len(k) != 8 {
			continue
		}
		n++
		if len(out) >= limit {
			continue
		}
		cl, err := view.Get(binary.BigEndian.Uint64(k))
		if err != nil {
			return nil, 0, err
		}
		out = append(out, cl)
	}
	return out, n, nil
}

// Recent lists up to limit claims in status s ("" for any), newest first,
// reading at most scan claims.
func (view ClaimTx) Recent(s ClaimStatus, limit, scan int) ([]*Claim, error) {
	var out []*Claim
	c := view.t.tx.Bucket(bucketClaimRecs).Cursor()
	for k, v := c.Last(); k != nil && len(out) < limit && scan > 0; k, v = c.Prev() {
		scan--
		cl := new(Claim)
		if err := json.Unmarshal(v, cl); err != nil {
			return nil, fmt.Errorf("decode claim %d: %w", binary.BigEndian.Uint64(k), err)
		}
		if s == "" || cl.Status == s {
			out = append(out, cl)
		}
	}
	return out, nil
}

// BuyerCount counts the claims stored under a buyer identity (ClaimBuyer).
func (view ClaimTx) BuyerCount(buyer string) int {
	if buyer == "" {
		return 0
	}
	id := view.t.identity(buyer)
	n := 0
	c := view.t.tx.Bucket(bucketClaimBuyer).Cursor()
	for k, _ := c.Seek(id[:]); k != nil && bytes.HasPrefix(k, id[:]); k, _ = c.Next() {
		n++
	}
	return n
}

// ClaimBuyer is the identity a buyer's claims are counted under: the
// storefront's buyer id, else the contact, else none (""). IPs and top-up
// accounts are shared too often to say "this buyer complained before".
func ClaimBuyer(o *Order) string {
	for _, id := range BuyerIdentities(o) {
		if strings.HasPrefix(id, "id:") || strings.HasPrefix(id, "contact:") {
			return id
		}
	}
	return ""
}

// pairKey is a prefix followed by a big-endian id.
func pairKey(prefix []byte, id uint64) []byte {
	return binary.BigEndian.AppendUint64(append(make([]byte, 0, len(prefix)+8), prefix...), id)
}
