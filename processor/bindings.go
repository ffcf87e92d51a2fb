package processor

import (
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"cardflow/storage"
)

// BindCodeTTL is how long a bind code may be used.
const BindCodeTTL = 15 * time.Minute

// bindAlphabet has no 0/O, 1/I/L: codes are read off one phone and typed on
// another.
const bindAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

// ErrBadCode is a bind code that is unknown, used or expired.
var ErrBadCode = errors.New("bind code unknown, used or expired")

// IssueBindCode makes a one-time code that binds a chat identity to the
// operator named (the caller checks the name is a configured operator).
// It is audited.
func (e *Engine) IssueBindCode(actor storage.Actor, operator string) (string, time.Time, error) {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "", time.Time{}, fmt.Errorf("generate bind code: %w", err)
	}
	for i := range b {
		b[i] = bindAlphabet[int(b[i])%len(bindAlphabet)]
	}
	code := string(b)
	var expires time.Time
	err := e.store.Update(func(tx *storage.Tx) error {
		now := e.now()
		expires = now.Add(BindCodeTTL)
		if err := tx.PutBindCode(code, operator, actor.Name, expires); err != nil {
			return err
		}
		return tx.Audit(storage.AuditEntry{At: now, Actor: actor, Action: "bind.issue", Target: operator, Outcome: "ok"})
	})
	if err != nil {
		return "", time.Time{}, err
	}
	return code, expires, nil
}

// Bind consumes a code for a platform identity ("qq:GROUP/MEMBER") and
// answers the operator it now is. A bad code is ErrBadCode; both outcomes
// are audited.
func (e *Engine) Bind(actor storage.Actor, identity, code string) (string, error) {
	var operator string
	var bad bool
	err := e.store.Update(func(tx *storage.Tx) error {
		now := e.now()
		op, err := tx.UseBindCode(code, now)
		switch {
		case errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrCodeExpired):
			bad = true
			return tx.Audit(storage.AuditEntry{At: now, Actor: actor, Action: "bind", Target: identity, Outcome: "refused",
				Detail: err.Error()})
		case err != nil:
			return err
		}
		operator = op
		if err := tx.Bind(identity, op); err != nil {
			return err
		}
		return tx.Audit(storage.AuditEntry{At: now, Actor: actor, Action: "bind", Target: identity, Outcome: "ok",
			Detail: "as " + op})
	})
	if err != nil {
		return "", err
	}
	if bad {
		return "", ErrBadCode
	}
	return operator, nil
}

// BoundOperator is the operator a platform identity was bound to.
func (e *Engine) BoundOperator(identity string) (string, bool) {
	var name string
	var ok bool
	_ = e.store.View(func(tx *storage.Tx) error {
		name, ok = tx.BoundOperator(identity)
		return nil
	})
	return name, ok
}
