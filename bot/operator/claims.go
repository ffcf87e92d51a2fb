package operator

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"cardflow/bot/chat"
	"cardflow/processor"
	"cardflow/storage"
)

// After-sale claims in chat: the prompt a claim raises, its Reissue /
// Refund / Reject buttons (data "k:ri:<claim>", "k:rf:<claim>",
// "k:rj:<claim>"), and "/claim <claim> <action> [note]", their typed form.
// A claim is resolved once: the engine checks it inside the write, and the
// second of two operators hears who was first.

// claimPrompt is the open form of a claim alert: the line, the buyer's
// words, where the cards came from, the buyer's history, and the buttons.
func claimPrompt(l string, al storage.Alert, v shown) chat.Reply {
	p := al.Claim
	if p == nil { // an alert stored without its prompt: the line from what the alert carries
		p = &storage.ClaimPrompt{Reason: al.Detail, Cards: al.Count}
	}
	lines := []string{chat.T(l, "alert_claim", al.OrderID, v.sku, p.Quantity, reasonName(l, p.Reason), p.Cards)}
	if p.Message != "" {
		lines = append(lines, chat.T(l, "claim_message", chat.Untrusted(p.Message)))
	}
	if src := sourcesShown(p.Sources); src != "" {
		lines = append(lines, chat.T(l, "claim_sources", chat.Untrusted(src)))
	}
	if p.History > 0 {
		lines = append(lines, chat.T(l, "claim_history", p.History))
	}
	r := chat.Reply{Text: strings.Join(lines, "\n")}
	if p.ID > 0 {
		r.Buttons = []chat.Button{
			{Label: chat.T(l, "btn_claim_reissue"), Data: claimButton(btnClaimReissue, p.ID).encode()},
			{Label: chat.T(l, "btn_claim_refund"), Data: claimButton(btnClaimRefund, p.ID).encode()},
			{Label: chat.T(l, "btn_claim_reject"), Data: claimButton(btnClaimReject, p.ID).encode()},
		}
	}
	return r
}

// claimResolved is the closed form: who resolved it, and how.
func claimResolved(l string, al storage.Alert, v shown) chat.Reply {
	var id uint64
	if al.Claim != nil {
		id = al.Claim.ID
	}
	return chat.Reply{Text: chat.T(l, "alert_claim_done", id, al.OrderID, v.target, chat.Untrusted(chat.ActionName(l, al.Detail)))}
}

// reasonName is a claim reason as operators read it; one this version does
// not know is shown as sent, inert.
func reasonName(l, reason string) string {
	if s := chat.T(l, "claim_reason_"+reason); !strings.HasPrefix(s, "claim_reason_") {
		return s
	}
	return chat.Untrusted(reason).String()
}

// sourcesShown lists each supplier once, with how many of the cards it
// sold when more than one: "fulu ×2, own".
func sourcesShown(sources []string) string {
	var names []string
	count := map[string]int{}
	for _, s := range sources {
		if s == "" {
			continue
		}
		if count[s] == 0 {
			names = append(names, s)
		}
		count[s]++
	}
	for i, n := range names {
		if count[n] > 1 {
			names[i] = n + " ×" + strconv.Itoa(count[n])
		}
	}
	return strings.Join(names, ", ")
}

// claimActions maps the claim buttons to the engine's resolutions.
var claimActions = map[buttonKind]string{
	btnClaimReissue: processor.ActionReissue, btnClaimRefund: processor.ActionRefund, btnClaimReject: processor.ActionReject,
}

// claimRoles are who may resolve a claim each way: as the order actions
// they are (a reissue is an admin's, as /reissue is).
var claimRoles = map[string]Role{
	processor.ActionReissue: RoleAdmin, processor.ActionRefund: RoleOperator, processor.ActionReject: RoleOperator,
}

// cmdClaim is "/claim <claim> <reissue|refund|reject> [note]".
func (h *Handler) cmdClaim(_ context.Context, op Operator, m chat.Message, args []string) chat.Reply {
	if len(args) < 2 {
		return h.commands.usage(h.lang, "claim")
	}
	id, err := strconv.ParseUint(strings.TrimPrefix(args[0], "#"), 10, 64)
	action := strings.ToLower(args[1])
	if _, known := claimRoles[action]; err != nil || !known {
		return h.commands.usage(h.lang, "claim")
	}
	if r, ok := h.allow(op, m.From, claimRoles[action], "/claim "+action, "/claim "+action); !ok {
		return r
	}
	return h.resolveClaim(op, m.From, id, action, strings.Join(args[2:], " "))
}

// resolveClaim resolves a claim for an operator, enforcing the refund
// limit, and says what happened.
func (h *Handler) resolveClaim(op Operator, from chat.Identity, id uint64, action, note string) chat.Reply {
	ref := strconv.FormatUint(id, 10)
	cl, err := h.engine.ClaimByID(id)
	if errors.Is(err, storage.ErrNotFound) {
		return chat.Reply{Text: chat.T(h.lang, "claim_not_found", ref)}
	}
	if err != nil {
		return h.errorReply(ref, err)
	}
	if action == processor.ActionRefund {
		o, err := h.engine.Order(cl.OrderID)
		if err != nil {
			return h.errorReply(strconv.FormatUint(cl.OrderID, 10), err)
		}
		if r, refused := h.overLimit(op, from, action, o); refused {
			return r
		}
	}
	_, _, err = h.engine.ResolveClaim(actor(op, from), id, action, note)
	var done *processor.ClaimStateError
	var bad *processor.InputError
	switch {
	case errors.As(err, &done):
		return chat.Reply{Text: chat.T(h.lang, "claim_already", done.Claim.ID, chat.Untrusted(done.Claim.ResolvedBy.Name),
			done.Claim.ResolvedAt.In(h.loc).Format("01-02 15:04"), chat.ActionName(h.lang, claimVerb(done.Claim.Status)))}
	case errors.As(err, &bad):
		return chat.Reply{Text: chat.Untrusted(bad.Error()).String()}
	case err != nil:
		return h.errorReply(strconv.FormatUint(cl.OrderID, 10), err)
	}
	return chat.Reply{Text: chat.T(h.lang, "claim_done", cl.ID, cl.OrderID, op.Name, chat.ActionName(h.lang, action))}
}

// claimVerb is the action that left a claim in a status.
func claimVerb(s storage.ClaimStatus) string {
	switch s {
	case storage.ClaimReissued:
		return processor.ActionReissue
	case storage.ClaimRefunded:
		return processor.ActionRefund
	}
	return processor.ActionReject
}
