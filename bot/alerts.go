package bot

import (
	"cardflow/alert"
	"cardflow/storage"
)

// RenderAlert writes an alert for operators, with the buttons that act on it.
func (b *Bot) RenderAlert(al storage.Alert) Reply {
	// An alert's SKU, target and detail can come from an order (a buyer's
	// SKU, a supplier's error, a storefront's answer): all are shown inert.
	// The buttons keep the raw values: they are data, never shown.
	sku, target, detail, key := Untrusted(al.SKU), Untrusted(al.Target), Untrusted(al.Detail), Untrusted(al.Key)
	l := b.lang
	switch {
	case al.Type == alert.OutOfStock && al.Resolved:
		return Reply{Text: T(l, "alert_oos_ok", sku, al.Count)}
	case al.Type == alert.OutOfStock:
		return Reply{Text: T(l, "alert_oos", sku, al.Count, al.OrderID)}
	case al.Type == alert.Review && al.Resolved:
		return Reply{Text: T(l, "alert_review_done", al.OrderID, target, Untrusted(ActionName(l, al.Detail)))}
	case al.Type == alert.OrderFailed && al.Resolved:
		return Reply{Text: T(l, "alert_failed_done", al.OrderID, target, Untrusted(ActionName(l, al.Detail)))}
	case al.Type == alert.Review:
		return Reply{
			Text: T(l, "alert_review", al.OrderID, sku, detail),
			Buttons: []Button{
				{T(l, "btn_approve"), pressData(pressApprove, al.OrderID)},
				{T(l, "btn_refund"), refundData(al.OrderID, storage.StatusReview)},
				{T(l, "btn_details"), pressData(pressDetails, al.OrderID)},
			},
		}
	case al.Type == alert.OrderFailed:
		return Reply{
			Text: T(l, "alert_failed", al.OrderID, sku, detail),
			Buttons: []Button{
				{T(l, "btn_retry"), pressData(pressRetry, al.OrderID)},
				{T(l, "btn_refund"), refundData(al.OrderID, storage.StatusFailed)},
				{T(l, "btn_details"), pressData(pressDetails, al.OrderID)},
			},
		}
	case al.Type == alert.SupplierDown && al.Resolved:
		return Reply{Text: T(l, "alert_sup_up", target)}
	case al.Type == alert.SupplierDown:
		return Reply{Text: T(l, "alert_sup_down", target), Buttons: []Button{{T(l, "btn_pause"), "s:pa:" + al.Target},
			{T(l, "btn_silence"), "s:si:" + al.Key}}}
	case al.Type == alert.LowStock && al.Resolved:
		return Reply{Text: T(l, "alert_low_ok", sku, al.Count)}
	case al.Type == alert.LowStock:
		return Reply{Text: T(l, "alert_low", sku, al.Count)}
	case al.Type == alert.Backlog && al.Resolved:
		return Reply{Text: T(l, "alert_backlog_ok")}
	case al.Type == alert.Backlog:
		return Reply{Text: T(l, "alert_backlog", detail), Buttons: []Button{{T(l, "btn_silence"), "s:si:" + al.Key}}}
	case al.Type == alert.ConfigReload && al.Resolved:
		return Reply{Text: T(l, "alert_reload_ok")}
	case al.Type == alert.ConfigReload:
		return Reply{Text: T(l, "alert_reload", detail)}
	case al.Type == alert.DuplicateCard:
		return Reply{Text: T(l, "alert_dup_card", target, al.OrderID), Buttons: []Button{
			{T(l, "btn_details"), pressData(pressDetails, al.OrderID)}, {T(l, "btn_pause"), "s:pa:" + al.Target}}}
	case al.Type == alert.BalanceLow && al.Resolved:
		return Reply{Text: T(l, "alert_balance_ok", target, detail)}
	case al.Type == alert.BalanceLow:
		return Reply{Text: T(l, "alert_balance", target, detail)}
	case al.Type == alert.SupplierVerifying && al.Resolved:
		return Reply{Text: T(l, "alert_verify_off", target)}
	case al.Type == alert.SupplierVerifying:
		return Reply{Text: T(l, "alert_verify_on", target, detail), Buttons: []Button{{T(l, "btn_pause"), "s:pa:" + al.Target}}}
	case al.Type == alert.Reconcile && al.Resolved:
		return Reply{Text: T(l, "alert_generic_ok", key)}
	case al.Type == alert.Reconcile:
		return Reply{Text: T(l, "alert_reconcile", al.Count, detail)}
	case al.Type == alert.RuleOff && al.Resolved:
		return Reply{Text: T(l, "alert_rule_off_ok", target)}
	case al.Type == alert.RuleOff && al.OrderID != 0:
		return Reply{Text: T(l, "alert_rule_off", target, al.OrderID, detail)}
	case al.Type == alert.RuleOff:
		return Reply{Text: T(l, "alert_rule_refused", target, detail)}
	case al.Type == alert.CallbackFailing && al.Resolved:
		return Reply{Text: T(l, "alert_cb_ok", target)}
	case al.Type == alert.CallbackFailing:
		return Reply{Text: T(l, "alert_cb", target, al.OrderID, detail)}
	case al.Type == alert.InboundParked && al.Resolved:
		return Reply{Text: T(l, "alert_inbound_ok", target)}
	case al.Type == alert.InboundParked:
		return Reply{Text: T(l, "alert_inbound_parked", target, detail)}
	case al.Type == alert.CallbackRedirect:
		return Reply{Text: T(l, "alert_cb_redirect", target, al.OrderID, detail)}
	case al.Resolved:
		return Reply{Text: T(l, "alert_generic_ok", key)}
	}
	return Reply{Text: T(l, "alert_generic", key, detail)}
}
