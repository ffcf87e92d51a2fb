package dujiao

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"cardflow/processor"
	"cardflow/storage"
)

// sender delivers a Dujiao-Next shop's callbacks for the outbox
// (shopSet.post): a delivery with its keys and a refund (canceled, or
// refunded after a delivery), signed over CallbackPath. The shop also
// polls.
type sender Upstream

// maxAnswer bounds what is read of a shop's answer to a callback.
const maxAnswer = 64 << 10

func (u *sender) Deliver(ctx context.Context, ev *storage.Event) error {
	return u.post(ctx, ev, callbackForm{body: u.callbackBody, message: shopMessage,
		sign: func(h http.Header, s *shop, now time.Time, body []byte) {
			SetHeaders(h, s.ID, s.Secret, http.MethodPost, CallbackPath, now, body)
		}})
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

// shopMessage is the message of a shop's answer.
func shopMessage(answer []byte) string {
	var a struct {
		Message string `json:"message"`
	}
	_ = json.Unmarshal(answer, &a) // not JSON: no message
	return a.Message
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
