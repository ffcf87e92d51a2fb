package dujiao

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"cardflow/internal/outbound"
	"cardflow/processor"
	"cardflow/processor/outbox"
	"cardflow/storage"
)

// sender delivers a Dujiao-Next shop's callbacks for the outbox: a
// delivery (with its keys) and a refund (canceled, or refunded after a
// delivery), each POSTed to the order's own callback URL and signed over
// CallbackPath. Other events (delayed, failed) are acknowledged without a
// call: the shop polls, and a failed order is still the operators' to
// retry or refund. The outbox retries a callback the shop did not take
// (docs/docking.md), and the shop applies a repeat once.
type sender Upstream

// maxAnswer bounds what is read of a shop's answer to a callback.
const maxAnswer = 64 << 10

func (u *sender) Deliver(ctx context.Context, ev *storage.Event) error {
	if ev.Type != processor.CallbackDelivered && ev.Type != processor.CallbackRefunded {
		return nil
	}
	s, ok := u.shops[ev.Target]
	if !ok {
		return fmt.Errorf("dujiao-next shop %q is not configured", ev.Target)
	}
	var o *storage.Order
	err := u.store.View(func(tx *storage.Tx) error {
		var err error
		o, err = tx.Order(ev.OrderID)
		return err
	})
	if err != nil {
		return fmt.Errorf("read order %d: %w", ev.OrderID, err)
	}
	now := u.now()
	if at := u.answered.holdUntil(o, u.hold); now.Before(at) {
		return &outbox.NotBefore{At: at}
	}
	to := o.Extra[ExtraCallbackURL]
	if to == "" {
		return fmt.Errorf("order %d has no callback_url", o.ID)
	}
	body, err := u.callbackBody(o, ev, now)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, to, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build callback request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	SetHeaders(req.Header, s.ID, s.Secret, http.MethodPost, CallbackPath, now, body)
	resp, err := u.client.Do(req)
	if err != nil {
		if moved := (*outbound.RedirectError)(nil); errors.As(err, &moved) {
			return fmt.Errorf("callback: %w", moved)
		}
		return fmt.Errorf("post callback: %w", outbound.Clean(err))
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return fmt.Errorf("read callback answer: %w", err)
	}
	if !CallbackAccepted(resp.StatusCode, answer) {
		return fmt.Errorf("callback answered %s: %s", resp.Status, shopMessage(answer))
	}
	return nil
}

// callbackBody is the callback of ev: a delivery carries the card set the
// event names, a refund says whether keys went out before it.
func (u *sender) callbackBody(o *storage.Order, ev *storage.Event, now time.Time) ([]byte, error) {
	status := statusOf(o) // refunded is final: the order still says what the refund was
	var f *Fulfillment
	if ev.Type == processor.CallbackDelivered {
		var err error
		status = StatusDelivered
		if f, err = fulfillment(o, ev.CardSet, ev.DeliveredAt, u.store.Vault()); err != nil {
			return nil, err
		}
	}
	body, err := json.Marshal(NewCallback(o.ID, orderNo(o), o.ExternalID, status, f, now))
	if err != nil {
		return nil, fmt.Errorf("write callback of order %d: %w", o.ID, err)
	}
	return body, nil
}

// shopMessage is the message of a shop's answer, short, for the outbox's
// error and the operators' alert.
func shopMessage(answer []byte) string {
	var a struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(answer, &a) == nil && a.Message != "" {
		answer = []byte(a.Message)
	}
	if len(answer) > 120 {
		answer = answer[:120]
	}
	return fmt.Sprintf("%q", answer)
}

// answerLog remembers when each order was last answered (a shop may repeat
// its order and get the answer again), long enough to hold its callbacks
// after it: two generations of at least hold each, so nothing is kept for
// long. After a restart it is empty, and an order's creation stands in.
type answerLog struct {
	mu        sync.Mutex
	span      time.Duration
	since     time.Time
	cur, prev map[uint64]time.Time
}

func newAnswerLog(span time.Duration) *answerLog {
	return &answerLog{span: span, cur: map[uint64]time.Time{}, prev: map[uint64]time.Time{}}
}

func (l *answerLog) add(id uint64, at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if at.Sub(l.since) > l.span {
		l.prev, l.cur, l.since = l.cur, make(map[uint64]time.Time, len(l.cur)), at
	}
	l.cur[id] = at
}

// holdUntil is when o's callbacks may go: hold after its last answer, or
// after its creation when no answer is remembered.
func (l *answerLog) holdUntil(o *storage.Order, hold time.Duration) time.Time {
	l.mu.Lock()
	last, ok := l.cur[o.ID]
	if !ok {
		last = l.prev[o.ID]
	}
	l.mu.Unlock()
	if last.Before(o.CreatedAt) {
		last = o.CreatedAt
	}
	return last.Add(hold)
}
