// Package bind binds chat identities to configured operators with one-time
// codes. Telegram user ids are written in the config; QQ's openids are not
// known in advance, so an admin issues a code for a configured operator and
// the person types it in the QQ group: that identity is the operator from
// then on. The codes and bindings are stored (storage/bindings.go), and
// every use is audited.
package bind

import (
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"

	"cardflow/storage"
)

// CodeTTL is how long a bind code may be used.
const CodeTTL = 15 * time.Minute

// Bind codes are three groups of five characters of an alphabet without
// 0/O and 1/I/L (read off one phone, typed on another): 31^15, about 74
// bits. They are typed with or without the dashes, in either case.
const (
	bindAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
	bindGroups   = 3
	bindGroupLen = 5
)

// ErrBadCode is a bind code that is unknown, used or expired.
var ErrBadCode = errors.New("bind code unknown, used or expired")

// newBindCode draws a code, without modulo bias.
func newBindCode() (string, error) {
	const n = bindGroups * bindGroupLen
	limit := byte(256 - 256%len(bindAlphabet))
	out := make([]byte, 0, n+bindGroups-1)
	buf := make([]byte, 2*n)
	for len(out) < cap(out) {
		if _, err := rand.Read(buf); err != nil {
			return "", fmt.Errorf("generate bind code: %w", err)
		}
		for _, c := range buf {
			if c >= limit || len(out) == cap(out) {
				continue
			}
			if len(out)%(bindGroupLen+1) == bindGroupLen {
				out = append(out, '-')
			}
			out = append(out, bindAlphabet[int(c)%len(bindAlphabet)])
		}
	}
	return string(out), nil
}

// canonicalCode is the form a code is stored and compared in: upper case,
// full-width letters and digits folded, dashes and spaces dropped. It
// answers false for what cannot be a code, which is then not looked up.
func canonicalCode(typed string) (string, bool) {
	var b strings.Builder
	for _, r := range typed {
		if r >= 0xFF01 && r <= 0xFF5E { // full-width ASCII, as typed on Chinese keyboards
			r -= 0xFEE0
		}
		switch {
		case r == '-' || r == ' ' || r == '\u3000':
			continue
		case r >= 'a' && r <= 'z':
			r -= 'a' - 'A'
		}
		if !strings.ContainsRune(bindAlphabet, r) {
			return "", false
		}
		b.WriteRune(r)
	}
	return b.String(), b.Len() == bindGroups*bindGroupLen
}

// Bindings issues and uses bind codes, and answers who a bound identity is.
type Bindings struct {
	store *storage.Store
	now   func() time.Time
}

// New keeps the bindings of store; now is the clock of codes and audit
// entries (time.Now when nil).
func New(store *storage.Store, now func() time.Time) *Bindings {
	if now == nil {
		now = time.Now
	}
	return &Bindings{store: store, now: now}
}

// Issue makes a one-time code that binds a chat identity to the
// operator named (the caller checks the name is a configured operator), and
// drops the codes whose time has passed. It is audited.
func (b *Bindings) Issue(actor storage.Actor, operator string) (string, time.Time, error) {
	code, err := newBindCode()
	if err != nil {
		return "", time.Time{}, err
	}
	canonical, _ := canonicalCode(code)
	var expires time.Time
	err = b.store.Update(func(tx *storage.Tx) error {
		now := b.now()
		expires = now.Add(CodeTTL)
		if _, err := tx.Bindings().DropCodes(now, ""); err != nil {
			return err
		}
		if err := tx.Bindings().PutCode(canonical, operator, actor.Name, expires); err != nil {
			return err
		}
		return tx.Audit(storage.AuditEntry{At: now, Actor: actor, Action: "bind.issue", Target: operator, Outcome: "ok"})
	})
	if err != nil {
		return "", time.Time{}, err
	}
	return code, expires, nil
}

// Bind consumes a code, as typed, for a platform identity
// ("qq:GROUP/MEMBER") and answers the operator it now is. A bad code is
// ErrBadCode; both outcomes are audited.
func (b *Bindings) Bind(actor storage.Actor, identity, typed string) (string, error) {
	code, wellFormed := canonicalCode(typed)
	var operator string
	var bad bool
	err := b.store.Update(func(tx *storage.Tx) error {
		now := b.now()
		var op string
		err := storage.ErrNotFound
		if wellFormed {
			op, err = tx.Bindings().UseCode(code, now)
		}
		switch {
		case errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrCodeExpired):
			bad = true
			return tx.Audit(storage.AuditEntry{At: now, Actor: actor, Action: "bind", Target: identity, Outcome: "refused",
				Detail: err.Error()})
		case err != nil:
			return err
		}
		operator = op
		if err := tx.Bindings().Bind(identity, op); err != nil {
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

// Unbind removes every chat identity bound to an operator, and every code
// issued for them that is not used yet, so that none binds anyone later.
// It answers how many identities it removed, and is audited.
func (b *Bindings) Unbind(actor storage.Actor, operator string) (int, error) {
	var n int
	err := b.store.Update(func(tx *storage.Tx) error {
		now := b.now()
		ids, err := tx.Bindings().Unbind(operator)
		if err != nil {
			return err
		}
		codes, err := tx.Bindings().DropCodes(now, operator)
		if err != nil {
			return err
		}
		n = len(ids)
		return tx.Audit(storage.AuditEntry{At: now, Actor: actor, Action: "unbind", Target: operator, Outcome: "ok",
			Detail: fmt.Sprintf("%d identities, %d codes: %s", len(ids), codes, strings.Join(ids, " "))})
	})
	if err != nil {
		return 0, fmt.Errorf("unbind %s: %w", operator, err)
	}
	return n, nil
}

// BoundOperator is the operator a platform identity was bound to.
func (b *Bindings) BoundOperator(identity string) (string, bool) {
	var name string
	var ok bool
	_ = b.store.View(func(tx *storage.Tx) error {
		name, ok = tx.Bindings().Operator(identity)
		return nil
	})
	return name, ok
}
