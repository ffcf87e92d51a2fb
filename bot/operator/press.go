package operator

import (
	"context"
	"strconv"
	"time"

	"cardflow/bot/chat"
	"cardflow/storage"
)

// HandlePress acts on a button press. The actor is checked first; a press on
// an order that has moved on says what already happened. The reply is meant
// to replace the pressed message's text (or to answer it, on platforms that
// cannot edit). A button names its order by internal id, and only by it. A
// stranger's press refused again within the minute gets an empty reply.
func (h *Handler) HandlePress(ctx context.Context, p chat.Press) chat.Reply {
	return chat.Clean(h.press(ctx, p))
}

func (h *Handler) press(_ context.Context, p chat.Press) chat.Reply {
	btn, ok := decodeButton(p.Data)
	if !ok {
		return chat.Reply{Text: chat.T(h.lang, "unknown_command", chat.Untrusted(p.Data))}
	}
	spec := btn.spec()
	op, r, ok := h.gate(p.From, spec.role, "button:"+p.Data, spec.shown)
	if !ok {
		return r
	}
	switch btn.kind {
	case btnPause:
		return h.setPaused(op, p.From, btn.name, true)
	case btnSilence:
		return h.silence(op, p.From, btn.name, time.Hour)
	case btnConfirm:
		r := h.confirm(op, p.From, btn.name)
		r.Replace = true // the confirmation now says what was done, and by whom
		return r
	case btnClaimReject:
		return h.askReason(btn.claim)
	case btnClaimReissue, btnClaimRefund:
		r := h.resolveClaim(op, p.From, btn.claim, claimActions[btn.kind], "")
		r.Replace = true // resolved, or resolved already: the prompt now says which, and who
		return r
	}
	o, err := h.engine.Order(btn.order)
	if err != nil {
		return h.errorReply(strconv.FormatUint(btn.order, 10), err)
	}
	switch btn.kind {
	case btnDetails:
		return h.orderView(o)
	case btnRefund:
		// A Refund button only ever sits on a review prompt or a failure
		// alert; pressed later, it must not refund what the order has become.
		states := []storage.Status{storage.StatusReview, storage.StatusFailed}
		if btn.from != "" {
			states = []storage.Status{btn.from}
		}
		r = h.act(op, p.From, spec.command, o, "", states...)
	default:
		r = h.act(op, p.From, spec.command, o, "")
	}
	r.Replace = true // done or already done: the prompt now says which, and who
	return r
}
