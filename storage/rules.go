package storage

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sort"
	"time"
)

// RuleTx is the intake rules' records seen in one transaction (Tx.Rules):
// rules changed from chat and each rule's daily match counts.
type RuleTx struct{ t *Tx }

// Rules returns the intake rules' records of this transaction.
func (t *Tx) Rules() RuleTx { return RuleTx{t} }

// RuleChange is a rule an operator set or switched off from chat. It
// overrides the config rule of the same name (or adds one) and survives
// restarts and config reloads.
type RuleChange struct {
	Seq    uint64    `json:"seq"` // order of first creation
	Name   string    `json:"name"`
	When   string    `json:"when,omitempty"`
	Action string    `json:"action,omitempty"`
	Off    bool      `json:"off,omitempty"`
	By     string    `json:"by"`
	At     time.Time `json:"at"`
}

// Changes lists the rules changed from chat, oldest first.
func (view RuleTx) Changes() ([]RuleChange, error) {
	t := view.t
	var out []RuleChange
	err := t.tx.Bucket(bucketRules).ForEach(func(_, v []byte) error {
		var r RuleChange
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("decode rule change: %w", err)
		}
		out = append(out, r)
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out, err
}

// PutChange stores a rule set or switched off from chat.
func (view RuleTx) PutChange(r RuleChange) error {
	t := view.t
	b := t.tx.Bucket(bucketRules)
	if old := b.Get([]byte(r.Name)); old != nil {
		var prev RuleChange
		if json.Unmarshal(old, &prev) == nil {
			r.Seq = prev.Seq
		}
	}
	if r.Seq == 0 {
		seq, err := b.NextSequence()
		if err != nil {
			return fmt.Errorf("allocate rule seq: %w", err)
		}
		r.Seq = seq
	}
	v, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode rule change: %w", err)
	}
	if err := b.Put([]byte(r.Name), v); err != nil {
		return fmt.Errorf("write rule change: %w", err)
	}
	return nil
}

func hitKey(rule string, day int64) []byte {
	k := make([]byte, 0, len(rule)+9)
	k = append(k, rule...)
	k = append(k, 0)
	return binary.BigEndian.AppendUint64(k, uint64(day))
}

// AddHit counts one match of a rule on a day (a day number in the
// shop's zone).
func (view RuleTx) AddHit(rule string, day int64) error {
	t := view.t
	b := t.tx.Bucket(bucketHits)
	k := hitKey(rule, day)
	var n uint64
	if v := b.Get(k); len(v) == 8 {
		n = binary.BigEndian.Uint64(v)
	}
	if err := b.Put(k, u64(n+1)); err != nil {
		return fmt.Errorf("count rule hit: %w", err)
	}
	return nil
}

// Hits sums a rule's matches over days from..to, inclusive.
func (view RuleTx) Hits(rule string, from, to int64) int {
	t := view.t
	n := 0
	c := t.tx.Bucket(bucketHits).Cursor()
	end := hitKey(rule, to)
	for k, v := c.Seek(hitKey(rule, from)); k != nil && string(k) <= string(end); k, v = c.Next() {
		if len(v) == 8 {
			n += int(binary.BigEndian.Uint64(v))
		}
	}
	return n
}
