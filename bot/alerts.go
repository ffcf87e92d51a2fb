package bot

import (
	"context"
	"errors"
	"fmt"

	"cardflow/storage"
)

// Sink is an operator channel that announces alerts (a chat adapter).
type Sink interface {
	Announce(ctx context.Context, r Reply) error
}

// Alerts renders alert events from the engine's outbox and announces them on
// every sink. It is the outbox's receiver for alerts: an error leaves the
// alert in the outbox to be tried again.
type Alerts struct {
	bot   *Bot
	sinks []Sink
}

// NewAlerts announces b's rendering of alerts on sinks.
func NewAlerts(b *Bot, sinks ...Sink) *Alerts { return &Alerts{bot: b, sinks: sinks} }

// Deliver implements the outbox's Deliverer.
func (a *Alerts) Deliver(ctx context.Context, ev *storage.Event) error {
	if ev.Alert == nil {
		return nil
	}
	r := a.bot.RenderAlert(*ev.Alert)
	var errs []error
	for _, s := range a.sinks {
		if err := s.Announce(ctx, r); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// RenderAlert writes an alert for operators, with the buttons that act on it.
func (b *Bot) RenderAlert(al storage.Alert) Reply {
	l := b.lang
	switch {
	case al.Type == "out_of_stock" && al.Resolved:
		return Reply{Text: T(l, "alert_oos_ok", al.SKU, al.Count)}
	case al.Type == "out_of_stock":
		return Reply{Text: T(l, "alert_oos", al.SKU, al.Count, al.OrderID)}
	case al.Type == "review" && al.Resolved:
		return Reply{Text: T(l, "alert_review_done", al.OrderID, al.Target, ActionName(l, al.Detail))}
	case al.Type == "order_failed" && al.Resolved:
		return Reply{Text: T(l, "alert_failed_done", al.OrderID, al.Target, ActionName(l, al.Detail))}
	case al.Type == "review":
		return Reply{
			Text: T(l, "alert_review", al.OrderID, al.SKU, al.Detail),
			Buttons: []Button{
				{T(l, "btn_approve"), pressData(pressApprove, al.OrderID)},
				{T(l, "btn_refund"), refundData(al.OrderID, storage.StatusReview)},
				{T(l, "btn_details"), pressData(pressDetails, al.OrderID)},
			},
		}
	case al.Type == "order_failed":
		return Reply{
			Text: T(l, "alert_failed", al.OrderID, al.SKU, al.Detail),
			Buttons: []Button{
				{T(l, "btn_retry"), pressData(pressRetry, al.OrderID)},
				{T(l, "btn_refund"), refundData(al.OrderID, storage.StatusFailed)},
				{T(l, "btn_details"), pressData(pressDetails, al.OrderID)},
			},
		}
	case al.Type == "supplier_down" && al.Resolved:
		return Reply{Text: T(l, "alert_sup_up", al.Target)}
	case al.Type == "supplier_down":
		return Reply{Text: T(l, "alert_sup_down", al.Target), Buttons: []Button{{T(l, "btn_pause"), "s:pa:" + al.Target}}}
	case al.Type == "duplicate_card":
		return Reply{Text: T(l, "alert_dup_card", al.Target, al.OrderID), Buttons: []Button{
			{T(l, "btn_details"), pressData(pressDetails, al.OrderID)}, {T(l, "btn_pause"), "s:pa:" + al.Target}}}
	case al.Type == "balance_low" && al.Resolved:
		return Reply{Text: T(l, "alert_balance_ok", al.Target, al.Detail)}
	case al.Type == "balance_low":
		return Reply{Text: T(l, "alert_balance", al.Target, al.Detail)}
	case al.Type == "callback_failing" && al.Resolved:
		return Reply{Text: T(l, "alert_cb_ok", al.Target)}
	case al.Type == "callback_failing":
		return Reply{Text: T(l, "alert_cb", al.Target, al.OrderID, al.Detail)}
	case al.Resolved:
		return Reply{Text: T(l, "alert_generic_ok", al.Key)}
	}
	return Reply{Text: T(l, "alert_generic", al.Key, fmt.Sprint(al.Detail))}
}
