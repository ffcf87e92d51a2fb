package operator

import (
	"strconv"
	"strings"

	"cardflow/bot/chat"
	"cardflow/storage"
)

// Button data says what a button does, short and prefixed, well under
// Telegram's 64 bytes of callback data. Buttons already sent stay in chats
// and are pressed days later, so these forms never change:
//
//	o:ap:<id>            Approve order <id>
//	o:rt:<id>            Retry
//	o:rf:<id>            Refund while in review or failed
//	o:rf:<id>:r|f        Refund only while still in review | failed
//	o:dt:<id>            Details
//	s:pa:<supplier>      Pause a supplier (no ':' in the name)
//	s:si:<alert key>     Silence an alert for an hour (the key may hold ':')
//	c:<code>             Confirm a typed refund or reissue (confirm.go)
//	k:ri:<claim>         Resolve after-sale claim <claim> by a reissue
//	k:rf:<claim>         ... by a refund
//	k:rj:<claim>         ... by rejecting it: asks for the reason (claims.go)
//
// Callback data comes from the client and can be anything: decodeButton
// accepts only what encode writes (ids without leading zeros, no control or
// format characters; an alert key is trimmed, as a silence pattern is), and
// everything else is no button of ours.

// buttonKind is what a button does.
type buttonKind int

const (
	btnApprove buttonKind = iota + 1
	btnRetry
	btnRefund
	btnDetails
	btnPause
	btnSilence
	btnConfirm
	btnClaimReissue
	btnClaimRefund
	btnClaimReject
)

type buttonSpec struct {
	kind    buttonKind
	prefix  string
	command string
	role    Role // a Confirm press is checked for the action it confirms
	shown   string
}

// buttonKinds are each kind's data prefix, the command it stands for (where
// buttons cannot be shown, and the order action it takes), who may press it,
// and how a refusal names it.
var buttonKinds = []buttonSpec{
	{btnApprove, "o:ap:", "approve", RoleOperator, "approve"},
	{btnRetry, "o:rt:", "retry", RoleOperator, "retry"},
	{btnRefund, "o:rf:", "refund", RoleOperator, "refund"},
	{btnDetails, "o:dt:", "order", RoleViewer, ""},
	{btnPause, "s:pa:", "pause", RoleAdmin, "pause"},
	{btnSilence, "s:si:", "silence", RoleOperator, "silence"},
	{btnClaimReissue, "k:ri:", "claim", RoleAdmin, "claim reissue"},
	{btnClaimRefund, "k:rf:", "claim", RoleOperator, "claim refund"},
	{btnClaimReject, "k:rj:", "claim", RoleOperator, "claim reject"},
	{btnConfirm, "c:", "confirm", 0, ""},
}

// button is one button's data, decoded.
type button struct {
	kind  buttonKind
	order uint64 // the order of an order button
	// from: a Refund button that refunds only while the order is still in
	// this state ("": in review or failed), so that a stale prompt pressed
	// after Approve won says so instead of refunding a delivered order.
	from  storage.Status
	name  string // the supplier (pause), alert key (silence) or code (confirm)
	claim uint64 // the claim of a claim button
}

// stateCodes are the states a Refund button can pin.
var stateCodes = map[storage.Status]string{storage.StatusReview: "r", storage.StatusFailed: "f"}

func orderButton(kind buttonKind, id uint64) button { return button{kind: kind, order: id} }

func claimButton(kind buttonKind, id uint64) button { return button{kind: kind, claim: id} }

// refundButtonFrom is a Refund button that refunds only while the order is
// still in state from.
func refundButtonFrom(id uint64, from storage.Status) button {
	return button{kind: btnRefund, order: id, from: from}
}

// spec is the kind's line of buttonKinds.
func (btn button) spec() buttonSpec {
	for _, s := range buttonKinds {
		if s.kind == btn.kind {
			return s
		}
	}
	return buttonSpec{}
}

// encode writes the button's data.
func (btn button) encode() string {
	s := btn.spec()
	switch btn.kind {
	case btnPause, btnSilence, btnConfirm:
		return s.prefix + btn.name
	case btnClaimReissue, btnClaimRefund, btnClaimReject:
		return s.prefix + strconv.FormatUint(btn.claim, 10)
	}
	data := s.prefix + strconv.FormatUint(btn.order, 10)
	if btn.from != "" {
		data += ":" + stateCodes[btn.from]
	}
	return data
}

// decodeButton reads button data; false for data no button of ours carries.
func decodeButton(data string) (button, bool) {
	if chat.Hidden(data) {
		return button{}, false
	}
	for _, s := range buttonKinds {
		rest, ok := strings.CutPrefix(data, s.prefix)
		if !ok {
			continue
		}
		btn := button{kind: s.kind}
		switch s.kind {
		case btnPause:
			btn.name = rest
			return btn, !strings.Contains(rest, ":")
		case btnSilence:
			// Trimmed as a silence pattern is. An empty key is no alert
			// we ever offered: the store cannot key a silence by it (found
			// by FuzzButtonPress).
			btn.name = strings.TrimSpace(rest)
			return btn, btn.name != ""
		case btnConfirm:
			btn.name = rest
			return btn, rest != ""
		case btnClaimReissue, btnClaimRefund, btnClaimReject:
			n, err := strconv.ParseUint(rest, 10, 64)
			btn.claim = n
			return btn, err == nil && n > 0 && strconv.FormatUint(n, 10) == rest
		}
		id, state, pinned := strings.Cut(rest, ":")
		n, err := strconv.ParseUint(id, 10, 64)
		if err != nil || strconv.FormatUint(n, 10) != id { // we write ids without leading zeros
			return button{}, false
		}
		btn.order = n
		if pinned {
			btn.from = stateOfCode(state)
			if btn.from == "" || s.kind != btnRefund {
				return button{}, false
			}
		}
		return btn, true
	}
	return button{}, false
}

func stateOfCode(code string) storage.Status {
	for st, c := range stateCodes {
		if c == code {
			return st
		}
	}
	return ""
}

// command is the typed command the button stands for. Orders are named by
// internal id ("/approve #12"), as the button names them.
func (btn button) command() string {
	switch btn.kind {
	case btnPause:
		return "/pause " + btn.name
	case btnSilence:
		return "/silence " + btn.name + " 1h"
	case btnConfirm:
		return "/confirm " + btn.name
	case btnClaimReject: // a rejection takes a reason, typed after it
		return "/claim " + strconv.FormatUint(btn.claim, 10) + " reject <reason>"
	case btnClaimReissue, btnClaimRefund:
		return "/claim " + strconv.FormatUint(btn.claim, 10) + " " + claimActions[btn.kind]
	}
	return "/" + btn.spec().command + " #" + strconv.FormatUint(btn.order, 10)
}

// ButtonCommand is the typed command a button stands for, for channels that
// cannot show buttons (the console; plain-text fallbacks). Its arguments
// other than order ids are names from the config (suppliers, alert keys);
// data that is no button of ours stands for nothing ("").
func ButtonCommand(data string) string {
	btn, ok := decodeButton(data)
	if !ok {
		return ""
	}
	return btn.command()
}
