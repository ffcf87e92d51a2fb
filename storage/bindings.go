package storage

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// BindingTx is the bind codes and bound identities seen in one
// transaction (Tx.Bindings).
type BindingTx struct{ t *Tx }

// Bindings returns the bind codes and bound identities of this transaction.
func (t *Tx) Bindings() BindingTx { return BindingTx{t} }

// Chat identities without stable user ids (QQ's openids are per bot and per
// group, and no QQ number is ever shown) cannot be written in the config.
// An admin issues a one-time code for a configured operator; whoever types
// it on the platform becomes that operator there. Codes are stored under an
// HMAC keyed from the master key: a copy of the database without the key
// cannot test guesses offline, so it does not hand out operator rights.

// ErrCodeExpired is a bind code used after its time.
var ErrCodeExpired = errors.New("bind code expired")

type bindCode struct {
	Operator  string    `json:"operator"`
	ExpiresAt time.Time `json:"expires_at"`
	IssuedBy  string    `json:"issued_by"`
}

// codeKey is where a code is stored; code is in its canonical form.
func (view BindingTx) codeKey(code string) []byte {
	t := view.t
	sum := t.store.vault.bindMAC.Sum(nil, code)
	return sum[:]
}

// PutCode stores a new code for an operator.
func (view BindingTx) PutCode(code, operator, issuedBy string, expires time.Time) error {
	t := view.t
	v, err := json.Marshal(bindCode{Operator: operator, ExpiresAt: expires, IssuedBy: issuedBy})
	if err != nil {
		return err
	}
	if err := t.tx.Bucket(bucketBindCodes).Put(view.codeKey(code), v); err != nil {
		return fmt.Errorf("write bind code: %w", err)
	}
	return nil
}

// UseCode consumes a code: it answers the operator it was issued for,
// ErrNotFound for a code never issued or already used, ErrCodeExpired for
// one past its time (which is consumed too).
func (view BindingTx) UseCode(code string, now time.Time) (string, error) {
	t := view.t
	b := t.tx.Bucket(bucketBindCodes)
	k := view.codeKey(code)
	v := b.Get(k)
	if v == nil {
		return "", fmt.Errorf("bind code: %w", ErrNotFound)
	}
	var c bindCode
	if err := json.Unmarshal(v, &c); err != nil {
		return "", fmt.Errorf("decode bind code: %w", err)
	}
	if err := b.Delete(k); err != nil {
		return "", fmt.Errorf("use bind code: %w", err)
	}
	if !now.Before(c.ExpiresAt) {
		return "", ErrCodeExpired
	}
	return c.Operator, nil
}

// DropCodes deletes every code past its time at now and, when operator
// is not empty, every code issued for that operator. It answers how many
// it deleted. Unreadable entries (and codes of older versions, keyed
// differently and unusable) go too.
func (view BindingTx) DropCodes(now time.Time, operator string) (int, error) {
	t := view.t
	b := t.tx.Bucket(bucketBindCodes)
	var drop [][]byte
	err := b.ForEach(func(k, v []byte) error {
		var c bindCode
		if json.Unmarshal(v, &c) != nil || !now.Before(c.ExpiresAt) || (operator != "" && c.Operator == operator) {
			drop = append(drop, append([]byte(nil), k...))
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("read bind codes: %w", err)
	}
	for _, k := range drop {
		if err := b.Delete(k); err != nil {
			return 0, fmt.Errorf("drop bind code: %w", err)
		}
	}
	return len(drop), nil
}

// Bind makes a chat identity (platform-qualified, e.g. "qq:GROUP/MEMBER")
// the operator named.
func (view BindingTx) Bind(identity, operator string) error {
	t := view.t
	if err := t.tx.Bucket(bucketBindings).Put([]byte(identity), []byte(operator)); err != nil {
		return fmt.Errorf("write binding: %w", err)
	}
	return nil
}

// Unbind removes every identity bound to an operator and answers them.
func (view BindingTx) Unbind(operator string) ([]string, error) {
	t := view.t
	b := t.tx.Bucket(bucketBindings)
	var ids []string
	err := b.ForEach(func(k, v []byte) error {
		if string(v) == operator {
			ids = append(ids, string(k))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read bindings: %w", err)
	}
	for _, id := range ids {
		if err := b.Delete([]byte(id)); err != nil {
			return nil, fmt.Errorf("delete binding: %w", err)
		}
	}
	return ids, nil
}

// Operator is the operator an identity was bound to, if any.
func (view BindingTx) Operator(identity string) (string, bool) {
	t := view.t
	v := t.tx.Bucket(bucketBindings).Get([]byte(identity))
	return string(v), v != nil
}
