package operator

import (
	"cardflow/alert"
	"cardflow/bot/chat"
	"cardflow/storage"
)

// shown is an alert's values as a message shows them. An alert's SKU,
// target and detail can come from an order (a buyer's SKU, a supplier's
// error, a storefront's answer): all are shown inert. Buttons keep the raw
// values: they are data, never shown.
type shown struct {
	sku, target, detail, key chat.Untrusted
}

// alertText writes one form of an alert in a language.
type alertText func(l string, al storage.Alert, v shown) chat.Reply

// alertViews are the two forms of each kind: open (raised) and resolved.
// A kind without a resolved form (a duplicate card is said once; a
// redirect is closed as callback_failing) is closed by the generic line.
var alertViews = map[alert.Kind]struct{ open, resolved alertText }{
	alert.OutOfStock: {
		open: func(l string, al storage.Alert, v shown) chat.Reply {
			return chat.Reply{Text: chat.T(l, "alert_oos", v.sku, al.Count, al.OrderID)}
		},
		resolved: func(l string, al storage.Alert, v shown) chat.Reply {
			return chat.Reply{Text: chat.T(l, "alert_oos_ok", v.sku, al.Count)}
		},
	},
	alert.Review: {
		open: orderPrompt("alert_review", "btn_approve", btnApprove, storage.StatusReview),
		resolved: func(l string, al storage.Alert, v shown) chat.Reply {
			return chat.Reply{Text: chat.T(l, "alert_review_done", al.OrderID, v.target, chat.Untrusted(chat.ActionName(l, al.Detail)))}
		},
	},
	alert.Claim: {open: claimPrompt, resolved: claimResolved},
	alert.OrderFailed: {
		open: orderPrompt("alert_failed", "btn_retry", btnRetry, storage.StatusFailed),
		resolved: func(l string, al storage.Alert, v shown) chat.Reply {
			return chat.Reply{Text: chat.T(l, "alert_failed_done", al.OrderID, v.target, chat.Untrusted(chat.ActionName(l, al.Detail)))}
		},
	},
	alert.SupplierDown: {
		open: func(l string, al storage.Alert, v shown) chat.Reply {
			return chat.Reply{Text: chat.T(l, "alert_sup_down", v.target), Buttons: []chat.Button{
				{Label: chat.T(l, "btn_pause"), Data: button{kind: btnPause, name: al.Target}.encode()}, {Label: chat.T(l, "btn_silence"), Data: button{kind: btnSilence, name: al.Key}.encode()}}}
		},
		resolved: text("alert_sup_up", func(_ storage.Alert, v shown) []any { return []any{v.target} }),
	},
	alert.LowStock: {
		open:     text("alert_low", func(al storage.Alert, v shown) []any { return []any{v.sku, al.Count} }),
		resolved: text("alert_low_ok", func(al storage.Alert, v shown) []any { return []any{v.sku, al.Count} }),
	},
	alert.Backlog: {
		open: func(l string, al storage.Alert, v shown) chat.Reply {
			return chat.Reply{Text: chat.T(l, "alert_backlog", v.detail), Buttons: []chat.Button{
				{Label: chat.T(l, "btn_silence"), Data: button{kind: btnSilence, name: al.Key}.encode()}}}
		},
		resolved: text("alert_backlog_ok", nil),
	},
	alert.ConfigReload: {
		open:     text("alert_reload", func(_ storage.Alert, v shown) []any { return []any{v.detail} }),
		resolved: text("alert_reload_ok", nil),
	},
	alert.DuplicateCard: {
		open: func(l string, al storage.Alert, v shown) chat.Reply {
			return chat.Reply{Text: chat.T(l, "alert_dup_card", v.target, al.OrderID), Buttons: []chat.Button{
				{Label: chat.T(l, "btn_details"), Data: orderButton(btnDetails, al.OrderID).encode()},
				{Label: chat.T(l, "btn_pause"), Data: button{kind: btnPause, name: al.Target}.encode()}}}
		},
	},
	alert.OrderUnclaimed: {
		open: func(l string, al storage.Alert, v shown) chat.Reply {
			return chat.Reply{Text: chat.T(l, "alert_unclaimed", al.OrderID, v.target, v.detail), Buttons: []chat.Button{
				{Label: chat.T(l, "btn_details"), Data: orderButton(btnDetails, al.OrderID).encode()}}}
		},
	},
	alert.ShopBalanceLow: {
		open:     text("alert_shop_balance", func(_ storage.Alert, v shown) []any { return []any{v.target, v.detail} }),
		resolved: text("alert_shop_balance_ok", func(_ storage.Alert, v shown) []any { return []any{v.target, v.detail} }),
	},
	alert.BalanceLow: {
		open:     text("alert_balance", func(_ storage.Alert, v shown) []any { return []any{v.target, v.detail} }),
		resolved: text("alert_balance_ok", func(_ storage.Alert, v shown) []any { return []any{v.target, v.detail} }),
	},
	alert.SupplierVerifying: {
		open: func(l string, al storage.Alert, v shown) chat.Reply {
			return chat.Reply{Text: chat.T(l, "alert_verify_on", v.target, v.detail), Buttons: []chat.Button{
				{Label: chat.T(l, "btn_pause"), Data: button{kind: btnPause, name: al.Target}.encode()}}}
		},
		resolved: text("alert_verify_off", func(_ storage.Alert, v shown) []any { return []any{v.target} }),
	},
	alert.Reconcile: {
		open:     text("alert_reconcile", func(al storage.Alert, v shown) []any { return []any{al.Count, v.detail} }),
		resolved: text("alert_generic_ok", func(_ storage.Alert, v shown) []any { return []any{v.key} }),
	},
	alert.RuleOff: {
		open: func(l string, al storage.Alert, v shown) chat.Reply {
			if al.OrderID != 0 { // switched off on an order
				return chat.Reply{Text: chat.T(l, "alert_rule_off", v.target, al.OrderID, v.detail)}
			}
			return chat.Reply{Text: chat.T(l, "alert_rule_refused", v.target, v.detail)}
		},
		resolved: text("alert_rule_off_ok", func(_ storage.Alert, v shown) []any { return []any{v.target} }),
	},
	alert.CallbackFailing: {
		open:     text("alert_cb", func(al storage.Alert, v shown) []any { return []any{v.target, al.OrderID, v.detail} }),
		resolved: text("alert_cb_ok", func(_ storage.Alert, v shown) []any { return []any{v.target} }),
	},
	alert.CallbackRedirect: {
		open: text("alert_cb_redirect", func(al storage.Alert, v shown) []any { return []any{v.target, al.OrderID, v.detail} }),
	},
	alert.MailFailing: {
		open: func(l string, al storage.Alert, v shown) chat.Reply {
			return chat.Reply{Text: chat.T(l, "alert_mail", v.target, v.detail), Buttons: []chat.Button{
				{Label: chat.T(l, "btn_silence"), Data: button{kind: btnSilence, name: al.Key}.encode()}}}
		},
		resolved: text("alert_mail_ok", func(_ storage.Alert, v shown) []any { return []any{v.target} }),
	},
	alert.MailRejected: {
		open: func(l string, al storage.Alert, v shown) chat.Reply {
			return chat.Reply{Text: chat.T(l, "alert_mail_rejected", v.target, al.OrderID, v.detail), Buttons: []chat.Button{
				{Label: chat.T(l, "btn_details"), Data: orderButton(btnDetails, al.OrderID).encode()}}}
		},
	},
	alert.StorageUnavailable: {
		open:     text("alert_storage_lost", func(_ storage.Alert, v shown) []any { return []any{v.detail} }),
		resolved: text("alert_storage_ok", func(_ storage.Alert, v shown) []any { return []any{v.detail} }),
	},
	alert.InboundParked: {
		open:     text("alert_inbound_parked", func(_ storage.Alert, v shown) []any { return []any{v.target, v.detail} }),
		resolved: text("alert_inbound_ok", func(_ storage.Alert, v shown) []any { return []any{v.target} }),
	},
}

// orderPrompt is the prompt of an order waiting for a person (in review,
// failed): its line, then the state's own action, Refund (only while the
// order is still in that state) and Details.
func orderPrompt(key, label string, kind buttonKind, state storage.Status) alertText {
	return func(l string, al storage.Alert, v shown) chat.Reply {
		return chat.Reply{Text: chat.T(l, key, al.OrderID, v.sku, v.detail), Buttons: []chat.Button{
			{Label: chat.T(l, label), Data: orderButton(kind, al.OrderID).encode()},
			{Label: chat.T(l, "btn_refund"), Data: refundButtonFrom(al.OrderID, state).encode()},
			{Label: chat.T(l, "btn_details"), Data: orderButton(btnDetails, al.OrderID).encode()},
		}}
	}
}

// text is an alert form of one catalogue line and no buttons; args picks
// the line's arguments (nil: none).
func text(key string, args func(storage.Alert, shown) []any) alertText {
	return func(l string, al storage.Alert, v shown) chat.Reply {
		if args == nil {
			return chat.Reply{Text: chat.T(l, key)}
		}
		return chat.Reply{Text: chat.T(l, key, args(al, v)...)}
	}
}

// RenderAlert writes an alert for operators, with the buttons that act on
// it. A kind this version does not know (stored by a newer one) gets the
// generic line.
func (h *Handler) RenderAlert(al storage.Alert) chat.Reply {
	v := shown{sku: chat.Untrusted(al.SKU), target: chat.Untrusted(al.Target), detail: chat.Untrusted(al.Detail),
		key: chat.Untrusted(al.Key)}
	view := alertViews[al.Type]
	switch {
	case al.Resolved && view.resolved != nil:
		return view.resolved(h.lang, al, v)
	case al.Resolved:
		return chat.Reply{Text: chat.T(h.lang, "alert_generic_ok", v.key)}
	case view.open != nil:
		return view.open(h.lang, al, v)
	}
	return chat.Reply{Text: chat.T(h.lang, "alert_generic", v.key, v.detail)}
}

// ApproveButton is the Approve button of a review prompt, for digests.
func (h *Handler) ApproveButton(orderID uint64) chat.Button {
	return chat.Button{Label: chat.T(h.lang, "btn_approve"), Data: orderButton(btnApprove, orderID).encode()}
}
