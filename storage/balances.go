package storage

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"cardflow/internal/money"
)

// A docking shop prepays: every order it places is charged to its balance
// in the same write that accepts the order, and given back in the write
// that refunds it. The balance is one number per storefront; the ledger
// keeps every change with what caused it (an order, an operator, a reason),
// so that a balance can always be explained line by line.

// ErrInsufficientBalance refuses a charge that would take a balance below
// its floor (zero less the credit limit).
var ErrInsufficientBalance = errors.New("insufficient balance")

// LedgerEntry is one change of a storefront's balance.
type LedgerEntry struct {
	Seq        uint64
	Storefront string
	At         time.Time
	Amount     money.Amount // signed: a charge is negative
	Balance    money.Amount // after the change
	OrderID    uint64
	Actor      Actor
	Reason     string // order, refund, or an operator's words
}

// ledgerRecord is a LedgerEntry as stored: amounts as signed fen, since
// money's text form is for the non-negative amounts of the outside world.
type ledgerRecord struct {
	Seq        uint64    `json:"seq"`
	Storefront string    `json:"storefront"`
	At         time.Time `json:"at"`
	Amount     int64     `json:"amount_fen"`
	Balance    int64     `json:"balance_fen"`
	OrderID    uint64    `json:"order_id,omitempty"`
	Actor      Actor     `json:"actor"`
	Reason     string    `json:"reason"`
}

// Ledger reasons written by the engine; operators' adjustments carry their
// own words.
const (
	LedgerOrder  = "order"
	LedgerRefund = "refund"
)

// BalanceTx is the storefronts' balances and ledger seen in one
// transaction (Tx.Balances).
type BalanceTx struct{ t *Tx }

// Balances returns the storefronts' balances of this transaction.
func (t *Tx) Balances() BalanceTx { return BalanceTx{t} }

// Get returns a storefront's balance; one never charged or credited has 0.
func (view BalanceTx) Get(storefront string) money.Amount {
	v := view.t.tx.Bucket(bucketBalances).Get([]byte(storefront))
	if len(v) != 8 {
		return 0
	}
	return money.Amount(int64(binary.BigEndian.Uint64(v)))
}

// Change adds e.Amount (negative to charge) to e.Storefront's balance and
// records e in the ledger. A charge that would take the balance below
// -credit is refused with ErrInsufficientBalance and changes nothing;
// credits and adjustments by an operator are not bounded by it. The new
// balance is returned and written into e.
func (view BalanceTx) Change(e *LedgerEntry, credit money.Amount) (money.Amount, error) {
	t := view.t
	if e.Storefront == "" {
		return 0, errors.New("balance change without a storefront")
	}
	old := view.Get(e.Storefront)
	next := old + e.Amount
	if e.Amount < 0 && e.Reason == LedgerOrder && next < -credit {
		return old, ErrInsufficientBalance
	}
	if next > money.Max || next < -money.Max {
		return old, fmt.Errorf("balance of %s would be %s, beyond what cardflow keeps", e.Storefront, next)
	}
	if err := t.tx.Bucket(bucketBalances).Put([]byte(e.Storefront), u64(uint64(int64(next)))); err != nil {
		return old, fmt.Errorf("write balance: %w", err)
	}
	b := t.appending(bucketLedger)
	seq, err := b.NextSequence()
	if err != nil {
		return old, fmt.Errorf("allocate ledger seq: %w", err)
	}
	e.Seq, e.Balance = seq, next
	v, err := json.Marshal(ledgerRecord{Seq: e.Seq, Storefront: e.Storefront, At: e.At, Amount: int64(e.Amount),
		Balance: int64(e.Balance), OrderID: e.OrderID, Actor: e.Actor, Reason: e.Reason})
	if err != nil {
		return old, fmt.Errorf("encode ledger entry: %w", err)
	}
	if err := b.Put(u64(seq), v); err != nil {
		return old, fmt.Errorf("write ledger entry: %w", err)
	}
	return next, nil
}

// All returns every storefront that has a balance, with it.
func (view BalanceTx) All() map[string]money.Amount {
	out := map[string]money.Amount{}
	_ = view.t.tx.Bucket(bucketBalances).ForEach(func(k, v []byte) error {
		if len(v) == 8 {
			out[string(k)] = money.Amount(int64(binary.BigEndian.Uint64(v)))
		}
		return nil
	})
	return out
}

// Ledger returns up to n of the newest entries, newest first; storefront
// "" means every storefront's. It reads back from the newest and stops at
// n, so a long ledger costs only what is shown.
func (view BalanceTx) Ledger(storefront string, n int) ([]LedgerEntry, error) {
	var out []LedgerEntry
	c := view.t.tx.Bucket(bucketLedger).Cursor()
	want := []byte(`"storefront":` + quote(storefront) + `,`)
	for k, v := c.Last(); k != nil && len(out) < n; k, v = c.Prev() {
		if storefront != "" && !bytes.Contains(v, want) {
			continue
		}
		var r ledgerRecord
		if err := json.Unmarshal(v, &r); err != nil {
			return out, fmt.Errorf("ledger entry %d: %w", binary.BigEndian.Uint64(k), err)
		}
		if storefront == "" || r.Storefront == storefront {
			out = append(out, LedgerEntry{Seq: r.Seq, Storefront: r.Storefront, At: r.At, Amount: money.Amount(r.Amount),
				Balance: money.Amount(r.Balance), OrderID: r.OrderID, Actor: r.Actor, Reason: r.Reason})
		}
	}
	return out, nil
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
