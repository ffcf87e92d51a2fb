package storage

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// AlertTx is the alerts' records seen in one transaction (Tx.Alerts):
// which alert keys are open (raised and not resolved: the one alert per
// problem rule of outbox.QueueAlert), how each alert stands for the
// operator layer (so one problem is one message, repeated only after a
// while), and silences.
type AlertTx struct{ t *Tx }

// Alerts returns the alerts' records of this transaction.
func (t *Tx) Alerts() AlertTx { return AlertTx{t} }

// Open reports whether an alert with this key was raised and not yet
// resolved. The engine uses it so that one problem is one alert, across
// restarts too.
func (view AlertTx) Open(key string) bool {
	t := view.t
	return t.tx.Bucket(bucketAlerts).Get([]byte(key)) != nil
}

// SetOpen records an alert as raised (open) or resolved.
func (view AlertTx) SetOpen(key string, open bool) error {
	t := view.t
	b := t.tx.Bucket(bucketAlerts)
	var err error
	if open {
		// Not a nil value: bbolt's Get returns nil for it until the write
		// commits, so a second raise in the same write would not see the
		// alert open and would send it again.
		err = b.Put([]byte(key), []byte{1})
	} else {
		err = b.Delete([]byte(key))
	}
	if err != nil {
		return fmt.Errorf("record alert %s: %w", key, err)
	}
	return nil
}

// AlertState is how one alert (by key) stands.
type AlertState struct {
	Key       string            `json:"key"`
	Open      bool              `json:"open"`
	Alert     Alert             `json:"alert"`     // the last raise, for repeats
	RaisedAt  time.Time         `json:"raised_at"` // first raise of this episode
	Announced time.Time         `json:"announced"` // last time it went out
	Repeats   int               `json:"repeats"`   // raises suppressed since
	Messages  map[string]string `json:"messages"`  // dest → message id, to edit on resolve
}

// State reads an alert's state; a new one if unknown.
func (view AlertTx) State(key string) (AlertState, error) {
	t := view.t
	v := t.tx.Bucket(bucketAlertState).Get([]byte(key))
	st := AlertState{Key: key}
	if v == nil {
		return st, nil
	}
	if err := json.Unmarshal(v, &st); err != nil {
		return st, fmt.Errorf("decode alert state: %w", err)
	}
	return st, nil
}

// PutState writes an alert's state.
func (view AlertTx) PutState(st AlertState) error {
	t := view.t
	v, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("encode alert state: %w", err)
	}
	if err := t.tx.Bucket(bucketAlertState).Put([]byte(st.Key), v); err != nil {
		return fmt.Errorf("write alert state: %w", err)
	}
	return nil
}

// EachOpen calls fn for every open alert.
func (view AlertTx) EachOpen(fn func(AlertState) error) error {
	t := view.t
	return t.tx.Bucket(bucketAlertState).ForEach(func(_, v []byte) error {
		var st AlertState
		if err := json.Unmarshal(v, &st); err != nil || !st.Open {
			return nil
		}
		return fn(st)
	})
}

// Silence mutes, until a time, the alert whose key is key, or every alert
// of a type when key is a type name (the part of an alert key before its
// first ':').
func (view AlertTx) Silence(key string, until time.Time, by string) error {
	t := view.t
	v, _ := json.Marshal(struct {
		Until time.Time `json:"until"`
		By    string    `json:"by"`
	}{until, by})
	if err := t.tx.Bucket(bucketSilences).Put([]byte(key), v); err != nil {
		return fmt.Errorf("write silence: %w", err)
	}
	return nil
}

// Silenced reports whether an alert key is muted at now: by a silence of
// that exact key or of its type. A silence is never a prefix: muting
// supplier_down:fulu leaves supplier_down:fulu2 alone, and a silence such
// as "r" (stored by an older version) mutes nothing.
func (view AlertTx) Silenced(key string, now time.Time) bool {
	t := view.t
	typ, _, _ := strings.Cut(key, ":")
	b := t.tx.Bucket(bucketSilences)
	for _, k := range []string{key, typ} {
		var s struct {
			Until time.Time `json:"until"`
		}
		if v := b.Get([]byte(k)); v != nil && json.Unmarshal(v, &s) == nil && now.Before(s.Until) {
			return true
		}
	}
	return false
}
