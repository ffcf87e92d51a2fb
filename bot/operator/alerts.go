package operator

import (
	"cardflow/alert"
	"cardflow/bot/chat"
	"cardflow/storage"
)

// RenderAlert writes an alert for operators, with the buttons that act on it.
func (b *Handler) RenderAlert(al storage.Alert) chat.Reply {
	// An alert's SKU, target and detail can come from an order (a buyer's
	// SKU, a supplier's error, a storefront's answer): all are shown inert.
	// The buttons keep the raw values: they are data, never shown.
	sku, target, detail, key := chat.Untrusted(al.SKU), chat.Untrusted(al.Target), chat.Untrusted(al.Detail), chat.Untrusted(al.Key)
	l := b.lang
	switch {
	case al.Type == alert.OutOfStock && al.Resolved:
		return chat.Reply{Text: chat.T(l, "alert_oos_ok", sku, al.Count)}
	case al.Type == alert.OutOfStock:
		return chat.Reply{Text: chat.T(l, "alert_oos", sku, al.Count, al.OrderID)}
	case al.Type == alert.Review && al.Resolved:
		return chat.Reply{Text: chat.T(l, "alert_review_done", al.OrderID, target, chat.Untrusted(chat.ActionName(l, al.Detail)))}
	case al.Type == alert.OrderFailed && al.Resolved:
		return chat.Reply{Text: chat.T(l, "alert_failed_done", al.OrderID, target, chat.Untrusted(chat.ActionName(l, al.Detail)))}
	case al.Type == alert.Review:
		return chat.Reply{
			Text: chat.T(l, "alert_review", al.OrderID, sku, detail),
			Buttons: []chat.Button{
				{Label: chat.T(l, "btn_approve"), Data: pressData(pressApprove, al.OrderID)},
				{Label: chat.T(l, "btn_refund"), Data: refundData(al.OrderID, storage.StatusReview)},
				{Label: chat.T(l, "btn_details"), Data: pressData(pressDetails, al.OrderID)},
			},
		}
	case al.Type == alert.OrderFailed:
		return chat.Reply{
			Text: chat.T(l, "alert_failed", al.OrderID, sku, detail),
			Buttons: []chat.Button{
				{Label: chat.T(l, "btn_retry"), Data: pressData(pressRetry, al.OrderID)},
				{Label: chat.T(l, "btn_refund"), Data: refundData(al.OrderID, storage.StatusFailed)},
				{Label: chat.T(l, "btn_details"), Data: pressData(pressDetails, al.OrderID)},
			},
		}
	case al.Type == alert.SupplierDown && al.Resolved:
		return chat.Reply{Text: chat.T(l, "alert_sup_up", target)}
	case al.Type == alert.SupplierDown:
		return chat.Reply{Text: chat.T(l, "alert_sup_down", target), Buttons: []chat.Button{{Label: chat.T(l, "btn_pause"), Data: "s:pa:" + al.Target},
			{Label: chat.T(l, "btn_silence"), Data: "s:si:" + al.Key}}}
	case al.Type == alert.LowStock && al.Resolved:
		return chat.Reply{Text: chat.T(l, "alert_low_ok", sku, al.Count)}
	case al.Type == alert.LowStock:
		return chat.Reply{Text: chat.T(l, "alert_low", sku, al.Count)}
	case al.Type == alert.Backlog && al.Resolved:
		return chat.Reply{Text: chat.T(l, "alert_backlog_ok")}
	case al.Type == alert.Backlog:
		return chat.Reply{Text: chat.T(l, "alert_backlog", detail), Buttons: []chat.Button{{Label: chat.T(l, "btn_silence"), Data: "s:si:" + al.Key}}}
	case al.Type == alert.ConfigReload && al.Resolved:
		return chat.Reply{Text: chat.T(l, "alert_reload_ok")}
	case al.Type == alert.ConfigReload:
		return chat.Reply{Text: chat.T(l, "alert_reload", detail)}
	case al.Type == alert.DuplicateCard:
		return chat.Reply{Text: chat.T(l, "alert_dup_card", target, al.OrderID), Buttons: []chat.Button{
			{Label: chat.T(l, "btn_details"), Data: pressData(pressDetails, al.OrderID)}, {Label: chat.T(l, "btn_pause"), Data: "s:pa:" + al.Target}}}
	case al.Type == alert.BalanceLow && al.Resolved:
		return chat.Reply{Text: chat.T(l, "alert_balance_ok", target, detail)}
	case al.Type == alert.BalanceLow:
		return chat.Reply{Text: chat.T(l, "alert_balance", target, detail)}
	case al.Type == alert.SupplierVerifying && al.Resolved:
		return chat.Reply{Text: chat.T(l, "alert_verify_off", target)}
	case al.Type == alert.SupplierVerifying:
		return chat.Reply{Text: chat.T(l, "alert_verify_on", target, detail), Buttons: []chat.Button{{Label: chat.T(l, "btn_pause"), Data: "s:pa:" + al.Target}}}
	case al.Type == alert.Reconcile && al.Resolved:
		return chat.Reply{Text: chat.T(l, "alert_generic_ok", key)}
	case al.Type == alert.Reconcile:
		return chat.Reply{Text: chat.T(l, "alert_reconcile", al.Count, detail)}
	case al.Type == alert.RuleOff && al.Resolved:
		return chat.Reply{Text: chat.T(l, "alert_rule_off_ok", target)}
	case al.Type == alert.RuleOff && al.OrderID != 0:
		return chat.Reply{Text: chat.T(l, "alert_rule_off", target, al.OrderID, detail)}
	case al.Type == alert.RuleOff:
		return chat.Reply{Text: chat.T(l, "alert_rule_refused", target, detail)}
	case al.Type == alert.CallbackFailing && al.Resolved:
		return chat.Reply{Text: chat.T(l, "alert_cb_ok", target)}
	case al.Type == alert.CallbackFailing:
		return chat.Reply{Text: chat.T(l, "alert_cb", target, al.OrderID, detail)}
	case al.Type == alert.InboundParked && al.Resolved:
		return chat.Reply{Text: chat.T(l, "alert_inbound_ok", target)}
	case al.Type == alert.InboundParked:
		return chat.Reply{Text: chat.T(l, "alert_inbound_parked", target, detail)}
	case al.Type == alert.CallbackRedirect:
		return chat.Reply{Text: chat.T(l, "alert_cb_redirect", target, al.OrderID, detail)}
	case al.Resolved:
		return chat.Reply{Text: chat.T(l, "alert_generic_ok", key)}
	}
	return chat.Reply{Text: chat.T(l, "alert_generic", key, detail)}
}

// ApproveButton is the Approve button of a review prompt, for digests.
func (b *Handler) ApproveButton(orderID uint64) chat.Button {
	return chat.Button{Label: chat.T(b.lang, "btn_approve"), Data: pressData(pressApprove, orderID)}
}
