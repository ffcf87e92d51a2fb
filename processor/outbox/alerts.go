package outbox

import (
	"context"
	"time"

	"github.com/rs/zerolog"

	"cardflow/alert"
	"cardflow/storage"
)

// A storefront's callbacks failing for alertAfter (alert.CallbackFailing),
// or its callback URL answering with a redirect (alert.CallbackRedirect, a
// misconfigured callback_url, raised at once), share the callback_failing
// key of the storefront: one problem per storefront, resolved by the next
// callback it acknowledges.

// QueueAlert queues an alert event in a write, keeping one alert per
// problem: raising a key that is already open, or resolving one that is
// not, does nothing (nil event). The open keys live in the store, so this
// holds across restarts. The caller hands the event to Add after the
// commit.
func QueueAlert(tx *storage.Tx, a storage.Alert, now time.Time) (*storage.Event, error) {
	if tx.Alerts().Open(a.Key) != a.Resolved {
		return nil, nil
	}
	if err := tx.Alerts().SetOpen(a.Key, !a.Resolved); err != nil {
		return nil, err
	}
	ev := &storage.Event{Kind: KindAlert, Type: string(a.Type), CreatedAt: now, NextAt: now, Alert: &a}
	if err := tx.Outbox().Add(ev); err != nil {
		return nil, err
	}
	return ev, nil
}

// raise raises or resolves an alert of the outbox's own in one write.
func (d *Outbox) raise(a storage.Alert) error {
	var ev *storage.Event
	err := d.store.Update(func(tx *storage.Tx) error {
		var err error
		ev, err = QueueAlert(tx, a, d.now())
		return err
	})
	if err == nil && ev != nil {
		d.Add([]*storage.Event{ev})
	}
	return err
}

// queueCallbackAlert raises (or resolves) the alert of a storefront whose
// callbacks keep failing.
func queueCallbackAlert(tx *storage.Tx, ev *storage.Event, typ alert.Kind, now time.Time, resolved bool, detail string) (*storage.Event, error) {
	return QueueAlert(tx, storage.Alert{Key: string(alert.CallbackFailing) + ":" + ev.Target, Type: typ,
		OrderID: ev.OrderID, Target: ev.Target, Resolved: resolved, Detail: detail}, now)
}

// logAlerts is the alert receiver when no operator channel is wired: the
// alert is logged and acknowledged.
type logAlerts struct{ log zerolog.Logger }

func (l logAlerts) Deliver(_ context.Context, ev *storage.Event) error {
	if a := ev.Alert; a != nil {
		l.log.Warn().Str("alert", a.Key).Str("type", string(a.Type)).Bool("resolved", a.Resolved).
			Uint64("order_id", a.OrderID).Str("sku", a.SKU).Str("target", a.Target).Str("detail", a.Detail).
			Time("raised_at", ev.CreatedAt).Msg("alert")
	}
	return nil
}
