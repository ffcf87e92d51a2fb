package operator

import (
	"context"
	"strconv"
	"strings"

	"cardflow/bot/chat"
	"cardflow/storage"
)

// Button data is "o:<verb>:<order id>": short, well under Telegram's 64 bytes.
const (
	pressApprove = "ap"
	pressRefund  = "rf"
	pressRetry   = "rt"
	pressDetails = "dt"
)

var pressActions = map[string]struct {
	action string
	role   Role
}{
	pressApprove: {"approve", RoleOperator},
	pressRefund:  {"refund", RoleOperator},
	pressRetry:   {"retry", RoleOperator},
	pressDetails: {"", RoleViewer},
}

func pressData(verb string, id uint64) string { return "o:" + verb + ":" + strconv.FormatUint(id, 10) }

// refundData is a Refund button that only refunds while the order is still in
// the state the prompt was shown for ("o:rf:12:r"): pressed on a stale review
// prompt after Approve won, it must say so, not refund a delivered order.
func refundData(id uint64, from storage.Status) string {
	return pressData(pressRefund, id) + ":" + stateCodes[from]
}

var stateCodes = map[storage.Status]string{storage.StatusReview: "r", storage.StatusFailed: "f"}

func stateOfCode(code string) storage.Status {
	for st, c := range stateCodes {
		if c == code {
			return st
		}
	}
	return ""
}

// HandlePress acts on a button press. The actor is checked first; a press on
// an order that has moved on says what already happened. The reply is meant
// to replace the pressed message's text (or to answer it, on platforms that
// cannot edit). A button names its order by internal id, and only by it. A
// stranger's press refused again within the minute gets an empty reply.
func (b *Handler) HandlePress(ctx context.Context, p chat.Press) chat.Reply {
	return chat.Clean(b.press(ctx, p))
}

func (b *Handler) press(_ context.Context, p chat.Press) chat.Reply {
	if forged(p.Data) {
		return chat.Reply{Text: chat.T(b.lang, "unknown_command", chat.Untrusted(p.Data))}
	}
	parts := strings.Split(p.Data, ":")
	if len(parts) == 3 && parts[0] == "s" && parts[1] == "pa" {
		return b.pressPause(p, parts[2])
	}
	// The alert key may hold ':'. An empty one is no alert the bot ever
	// offered (callback data can be forged): the store cannot key a silence
	// by it, and it would have been answered as an internal error (found by
	// FuzzButtonPress).
	if len(parts) >= 3 && parts[0] == "s" && parts[1] == "si" && silenceKey(parts) != "" {
		return b.pressSilence(p, silenceKey(parts))
	}
	if code, ok := strings.CutPrefix(p.Data, confirmPrefix); ok && code != "" {
		// Anyone may try; confirm checks the role of the action confirmed.
		op, r, ok := b.gate(p.From, 0, "button:"+p.Data, "")
		if !ok {
			return r
		}
		r = b.confirm(op, p.From, code)
		r.Replace = true // the confirmation now says what was done, and by whom
		return r
	}
	if len(parts) < 3 || len(parts) > 4 || parts[0] != "o" {
		return chat.Reply{Text: chat.T(b.lang, "unknown_command", chat.Untrusted(p.Data))}
	}
	spec, ok := pressActions[parts[1]]
	id, err := strconv.ParseUint(parts[2], 10, 64)
	var from storage.Status
	if len(parts) == 4 {
		if from = stateOfCode(parts[3]); from == "" || parts[1] != pressRefund {
			ok = false
		}
	}
	if !ok || err != nil || strconv.FormatUint(id, 10) != parts[2] { // the bot writes ids without leading zeros
		return chat.Reply{Text: chat.T(b.lang, "unknown_command", chat.Untrusted(p.Data))}
	}
	op, r, ok := b.gate(p.From, spec.role, "button:"+p.Data, spec.action)
	if !ok {
		return r
	}
	o, err := b.engine.Order(id)
	if err != nil {
		return b.errorReply(parts[2], err)
	}
	if spec.action == "" {
		return chat.Reply{Text: b.formatOrder(o), Buttons: b.orderButtons(o)}
	}
	if spec.action != "refund" {
		r = b.act(op, p.From, spec.action, o, "")
	} else {
		// A Refund button only ever sits on a review prompt or a failure
		// alert; pressed later, it must not refund what the order has become.
		states := []storage.Status{storage.StatusReview, storage.StatusFailed}
		if from != "" {
			states = []storage.Status{from}
		}
		r = b.act(op, p.From, spec.action, o, "", states...)
	}
	r.Replace = true // done or already done: the prompt now says which, and who
	return r
}

// silenceKey is the alert key of "s:si:<key>" data, trimmed as a silence
// pattern is.
func silenceKey(parts []string) string { return strings.TrimSpace(strings.Join(parts[2:], ":")) }

// ButtonCommand is the typed command a button stands for, for channels that
// cannot show buttons (the console; plain-text fallbacks). Orders are named
// by internal id ("/approve #12"), as the button names them. Its other
// arguments are names from the config (suppliers, alert keys); data with
// control or format characters is no button of ours and stands for nothing.
func ButtonCommand(data string) string {
	if forged(data) {
		return ""
	}
	return buttonCommand(data)
}

// forged is button data the bot never hands out: with a control or format
// character (callback data comes from the client and can be anything).
func forged(data string) bool { return chat.Hidden(data) }

func buttonCommand(data string) string {
	parts := strings.Split(data, ":")
	if len(parts) == 3 && parts[0] == "s" && parts[1] == "pa" {
		return "/pause " + parts[2]
	}
	if len(parts) >= 3 && parts[0] == "s" && parts[1] == "si" && silenceKey(parts) != "" {
		return "/silence " + silenceKey(parts) + " 1h"
	}
	if code, ok := strings.CutPrefix(data, confirmPrefix); ok && code != "" {
		return "/confirm " + code
	}
	if len(parts) < 3 || len(parts) > 4 || parts[0] != "o" {
		return ""
	}
	spec, ok := pressActions[parts[1]]
	if !ok || (len(parts) == 4 && (parts[1] != pressRefund || stateOfCode(parts[3]) == "")) {
		return ""
	}
	if spec.action == "" {
		return "/order #" + parts[2]
	}
	return "/" + spec.action + " #" + parts[2]
}

// pressPause is the Pause button of a supplier alert (admins only).
func (b *Handler) pressPause(p chat.Press, supplier string) chat.Reply {
	op, r, ok := b.gate(p.From, RoleAdmin, "button:"+p.Data, "pause")
	if !ok {
		return r
	}
	return b.setPaused(op, p.From, supplier, true)
}
