package bot

import (
	"fmt"

	"cardflow/processor"
	"cardflow/processor/rules"
	"cardflow/storage"
)

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
		return Reply{Text: T(l, "alert_sup_down", al.Target), Buttons: []Button{{T(l, "btn_pause"), "s:pa:" + al.Target},
			{T(l, "btn_silence"), "s:si:" + al.Key}}}
	case al.Type == "low_stock" && al.Resolved:
		return Reply{Text: T(l, "alert_low_ok", al.SKU, al.Count)}
	case al.Type == "low_stock":
		return Reply{Text: T(l, "alert_low", al.SKU, al.Count)}
	case al.Type == "backlog" && al.Resolved:
		return Reply{Text: T(l, "alert_backlog_ok")}
	case al.Type == "backlog":
		return Reply{Text: T(l, "alert_backlog", al.Detail), Buttons: []Button{{T(l, "btn_silence"), "s:si:" + al.Key}}}
	case al.Type == "config_reload" && al.Resolved:
		return Reply{Text: T(l, "alert_reload_ok")}
	case al.Type == "config_reload":
		return Reply{Text: T(l, "alert_reload", al.Detail)}
	case al.Type == "duplicate_card":
		return Reply{Text: T(l, "alert_dup_card", al.Target, al.OrderID), Buttons: []Button{
			{T(l, "btn_details"), pressData(pressDetails, al.OrderID)}, {T(l, "btn_pause"), "s:pa:" + al.Target}}}
	case al.Type == "balance_low" && al.Resolved:
		return Reply{Text: T(l, "alert_balance_ok", al.Target, al.Detail)}
	case al.Type == "balance_low":
		return Reply{Text: T(l, "alert_balance", al.Target, al.Detail)}
	case al.Type == processor.AlertVerifying && al.Resolved:
		return Reply{Text: T(l, "alert_verify_off", al.Target)}
	case al.Type == processor.AlertVerifying:
		return Reply{Text: T(l, "alert_verify_on", al.Target, al.Detail), Buttons: []Button{{T(l, "btn_pause"), "s:pa:" + al.Target}}}
	case al.Type == processor.AlertReconcile && al.Resolved:
		return Reply{Text: T(l, "alert_generic_ok", al.Key)}
	case al.Type == processor.AlertReconcile:
		return Reply{Text: T(l, "alert_reconcile", al.Count, al.Detail)}
	case al.Type == rules.AlertRuleOff && al.Resolved:
		return Reply{Text: T(l, "alert_rule_off_ok", al.Target)}
	case al.Type == rules.AlertRuleOff && al.OrderID != 0:
		return Reply{Text: T(l, "alert_rule_off", al.Target, al.OrderID, al.Detail)}
	case al.Type == rules.AlertRuleOff:
		return Reply{Text: T(l, "alert_rule_refused", al.Target, al.Detail)}
	case al.Type == "callback_failing" && al.Resolved:
		return Reply{Text: T(l, "alert_cb_ok", al.Target)}
	case al.Type == "callback_failing":
		return Reply{Text: T(l, "alert_cb", al.Target, al.OrderID, al.Detail)}
	case al.Resolved:
		return Reply{Text: T(l, "alert_generic_ok", al.Key)}
	}
	return Reply{Text: T(l, "alert_generic", al.Key, fmt.Sprint(al.Detail))}
}
