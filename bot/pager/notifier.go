// Package pager delivers alerts to operators' chats durably, as a good
// pager would: the Notifier turns each stored alert event into one queued
// message per chat (repeated after an interval, closed when resolved,
// silenceable), and a Sender per chat sends its queue within the
// platform's limits, folding a burst into a digest.
package pager

import (
	"context"
	"fmt"
	"time"

	"cardflow/bot/chat"
	"cardflow/bot/silence"
	"cardflow/internal/periodic"

	"github.com/rs/zerolog"

	"cardflow/storage"
)

// AlertPolicy is how alerts reach chats (config [alerts]).
type AlertPolicy struct {
	// GroupWait: alerts arriving within this of the last message to a chat
	// go out together in one message.
	GroupWait time.Duration
	// RepeatInterval: an alert still open is said again after this; raised
	// again sooner, it is only counted.
	RepeatInterval time.Duration
}

// Notifier turns the engine's alert events into chat messages, as a good
// pager would: one message per problem (by key), repeated only after the
// repeat interval, closed by a "resolved" message (an edit of the original
// where the platform allows), and silenceable. It queues the messages
// durably for every destination; Senders deliver them. It implements the
// engine outbox's Deliverer for alerts.
type Notifier struct {
	writer Writer
	store  *storage.Store
	dests  []string
	policy AlertPolicy
	now    func() time.Time
	log    zerolog.Logger
	kick   func()
}

// Writer writes what the pager sends: alerts with their buttons, and the
// Approve button of a review prompt in a digest (the operator layer does).
type Writer interface {
	Lang() string
	RenderAlert(storage.Alert) chat.Reply
	ApproveButton(orderID uint64) chat.Button
}

// NewNotifier queues w's rendering of alerts for dests ("console",
// "telegram:-1001234", ...). kick, if set, wakes the senders.
func NewNotifier(w Writer, store *storage.Store, dests []string, policy AlertPolicy, now func() time.Time, kick func(), log zerolog.Logger) *Notifier {
	if now == nil {
		now = time.Now
	}
	if policy.RepeatInterval <= 0 {
		policy.RepeatInterval = 4 * time.Hour
	}
	if kick == nil {
		kick = func() {}
	}
	return &Notifier{writer: w, store: store, dests: dests, policy: policy, now: now, log: log, kick: kick}
}

// Deliver implements the outbox's Deliverer: decide, queue, acknowledge.
// A repeat delivery of the same event finds the alert already announced and
// changes nothing, so at-least-once delivery from the outbox is harmless.
func (n *Notifier) Deliver(_ context.Context, ev *storage.Event) error {
	if ev.Alert == nil {
		return nil
	}
	a := *ev.Alert
	now := n.now()
	err := n.store.Update(func(tx *storage.Tx) error {
		st, err := tx.Alerts().State(a.Key)
		if err != nil {
			return err
		}
		// Review prompts and failed orders are never muted, even by a
		// silence an older version stored.
		silenced := silence.Silenceable(a.Type) && tx.Alerts().Silenced(a.Key, now)
		if a.Resolved {
			if !st.Open {
				return nil
			}
			st.Open = false
			if !silenced {
				if err := n.queue(tx, a, st); err != nil {
					return err
				}
			}
			return tx.Alerts().PutState(st)
		}
		if st.Open && now.Sub(st.Announced) < n.policy.RepeatInterval {
			st.Repeats++ // the same problem again: counted, not said again
			st.Alert = a
			return tx.Alerts().PutState(st)
		}
		if !st.Open {
			st.RaisedAt, st.Repeats = now, 0
		}
		st.Open, st.Alert, st.Announced = true, a, now
		if !silenced {
			if err := n.queue(tx, a, st); err != nil {
				return err
			}
		}
		return tx.Alerts().PutState(st)
	})
	if err != nil {
		return fmt.Errorf("queue alert %s: %w", a.Key, err)
	}
	n.kick()
	return nil
}

func (n *Notifier) queue(tx *storage.Tx, a storage.Alert, st storage.AlertState) error {
	r := chat.Clean(n.writer.RenderAlert(a))
	if st.Repeats > 0 && !a.Resolved {
		r.Text = chat.T(n.writer.Lang(), "alert_repeat", st.Repeats) + r.Text
	}
	for _, dest := range n.dests {
		m := &storage.ChatMessage{Dest: dest, AlertKey: a.Key, AlertType: a.Type, Resolved: a.Resolved, OrderID: a.OrderID,
			Text: r.Text, Buttons: toChatButtons(r.Buttons), CreatedAt: n.now()}
		if err := tx.Chat().Queue(m); err != nil {
			return err
		}
	}
	return nil
}

// Repeat says again every open alert whose last announcement is older than
// the repeat interval. The operator layer calls it every minute.
func (n *Notifier) Repeat() error {
	now := n.now()
	var due []storage.AlertState
	err := n.store.View(func(tx *storage.Tx) error {
		return tx.Alerts().EachOpen(func(st storage.AlertState) error {
			if now.Sub(st.Announced) >= n.policy.RepeatInterval {
				due = append(due, st)
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	for _, st := range due {
		st.Repeats = max(st.Repeats, 1)
		err := n.store.Update(func(tx *storage.Tx) error {
			st.Announced = now
			if !silence.Silenceable(st.Alert.Type) || !tx.Alerts().Silenced(st.Key, now) {
				if err := n.queue(tx, st.Alert, st); err != nil {
					return err
				}
			}
			st.Repeats = 0
			return tx.Alerts().PutState(st)
		})
		if err != nil {
			return err
		}
	}
	if len(due) > 0 {
		n.kick()
	}
	return nil
}

// Run repeats open alerts every minute until ctx ends.
func (n *Notifier) Run(ctx context.Context) {
	periodic.Every(ctx, time.Minute, func() {
		if err := n.Repeat(); err != nil {
			n.log.Error().Err(err).Msg("repeat alerts")
		}
	})
}

func toChatButtons(bs []chat.Button) []storage.ChatButton {
	out := make([]storage.ChatButton, len(bs))
	for i, b := range bs {
		out[i] = storage.ChatButton{Label: b.Label, Data: b.Data}
	}
	return out
}

func fromChatButtons(bs []storage.ChatButton) []chat.Button {
	out := make([]chat.Button, len(bs))
	for i, b := range bs {
		out[i] = chat.Button{Label: b.Label, Data: b.Data}
	}
	return out
}
