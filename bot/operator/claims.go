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
	lines := []string{chat.T(l, "alert_claim", al.OrderID, v.sku, p.Quantity, claimWhat(l, p.Reason, p.Cards))}
	if p.Message != "" {
		lines = append(lines, chat.T(l, "claim_message", chat.Untrusted(p.Message)))
	}
	if src := sourcesShown(p.Sources); src != "" {
		lines = append(lines, chat.T(l, "claim_sources", chat.Untrusted(src)))
	}
	switch {
	case p.History > 0:
		lines = append(lines, chat.T(l, "claim_history", p.History))
	case al.Claim != nil: // a prompt stored with its claim knows the buyer had none
		lines = append(lines, chat.T(l, "claim_history_none"))
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

// claimWhat is a claim's reason and how many cards the buyer named:
// "卡密无效（1 张）", or "卡密无效（未指明卡密）" when the claim names none.
func claimWhat(l, reason string, cards int) string {
	if cards == 0 {
		return chat.T(l, "claim_what_all", reasonName(l, reason))
	}
	return chat.T(l, "claim_what", reasonName(l, reason), cards)
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

// cmdClaim is "/claim <claim> <reissue|refund|reject> [note]". A
// rejection needs its reason as the note: the storefront hears it.
func (h *Handler) cmdClaim(_ context.Context, op Operator, m chat.Message, args []string) chat.Reply {
	if len(args) < 2 {
		return h.commands.usage(h.lang, "claim")
	}
	id, err := strconv.ParseUint(strings.TrimPrefix(args[0], "#"), 10, 64)
	action := strings.ToLower(args[1])
	if _, known := claimRoles[action]; err != nil || !known || id == 0 {
		return h.commands.usage(h.lang, "claim")
	}
	if r, ok := h.allow(op, m.From, claimRoles[action], "/claim "+action, "/claim "+action); !ok {
		return r
	}
	note := strings.Join(args[2:], " ")
	if action == processor.ActionReject && note == "" {
		return chat.Reply{Text: chat.T(h.lang, "claim_reason_needed", "/claim "+strconv.FormatUint(id, 10)+" reject")}
	}
	return h.resolveClaim(op, m.From, id, action, note)
}

// cmdReject is "/reject <order> <reason…>": rejects the order's open
// claim, the reason its note ("/reject 12 已核实可用").
func (h *Handler) cmdReject(_ context.Context, op Operator, m chat.Message, args []string) chat.Reply {
	if len(args) == 0 {
		return h.commands.usage(h.lang, "reject")
	}
	o, r, ok := h.resolve("reject", args[0])
	if !ok {
		return r
	}
	claims, err := h.engine.ClaimsOf(o.ID)
	if err != nil {
		return h.errorReply(strconv.FormatUint(o.ID, 10), err)
	}
	if len(claims) == 0 {
		return chat.Reply{Text: chat.T(h.lang, "claim_none_on_order", o.ID)}
	}
	cl := claims[len(claims)-1] // one claim at a time is open: the newest
	if cl.Resolved() {
		return h.claimAlready(cl)
	}
	if len(args) == 1 {
		return chat.Reply{Text: chat.T(h.lang, "claim_reason_needed", "/reject "+strconv.FormatUint(o.ID, 10))}
	}
	return h.resolveClaim(op, m.From, cl.ID, processor.ActionReject, strings.Join(args[1:], " "))
}

// askReason answers a press of a claim's Reject button: a rejection takes
// a reason, which a button cannot carry, so the answer is the command to
// type, on a line of its own (two lines: Telegram posts it under the
// prompt instead of only flashing it). The prompt keeps its buttons; a
// claim resolved already says by whom.
func (h *Handler) askReason(id uint64) chat.Reply {
	cl, err := h.engine.ClaimByID(id)
	if errors.Is(err, storage.ErrNotFound) {
		return chat.Reply{Text: chat.T(h.lang, "claim_not_found", strconv.FormatUint(id, 10))}
	}
	if err != nil {
		return h.errorReply(strconv.FormatUint(id, 10), err)
	}
	if cl.Resolved() {
		r := h.claimAlready(cl)
		r.Replace = true // the prompt now says who resolved it
		return r
	}
	return chat.Reply{Text: chat.T(h.lang, "claim_reason_needed", "/reject "+strconv.FormatUint(cl.OrderID, 10))}
}

// claimsShown is how many open claims /claims lists.
const claimsShown = 10

// claimMessageShown is how much of the buyer's message /claims quotes.
const claimMessageShown = 40

// cmdClaims is "/claims": the open claims, oldest first, with how many are
// open and a Details button for each order.
func (h *Handler) cmdClaims(context.Context, Operator, chat.Message, []string) chat.Reply {
	claims, total, err := h.engine.Claims(storage.ClaimOpen, claimsShown)
	if err != nil {
		return h.errorReply("", err)
	}
	if total == 0 {
		return chat.Reply{Text: chat.T(h.lang, "claims_none")}
	}
	lines := []string{chat.T(h.lang, "claims_header", total)}
	var buttons []chat.Button
	now := h.now()
	for _, cl := range claims {
		line := chat.T(h.lang, "claims_line", cl.OrderID, h.claimOrderShown(cl), claimWhat(h.lang, cl.Reason, len(cl.Cards)),
			chat.Short(now.Sub(cl.CreatedAt)), cl.ID)
		if msg := shortened(cl.Message, claimMessageShown); msg != "" {
			line += chat.T(h.lang, "claims_says", chat.Untrusted(msg))
		}
		lines = append(lines, line)
		buttons = append(buttons, chat.Button{Label: "#" + strconv.FormatUint(cl.OrderID, 10), Data: orderButton(btnDetails, cl.OrderID).encode()})
	}
	if more := total - len(claims); more > 0 {
		lines = append(lines, chat.T(h.lang, "pending_more", more))
	}
	lines = append(lines, chat.T(h.lang, "claims_hint"))
	return chat.Reply{Text: strings.Join(lines, "\n"), Buttons: buttons}
}

// claimOrderShown is "qb-100 ×1", the SKU and quantity of a claim's order
// ("?" when it cannot be read).
func (h *Handler) claimOrderShown(cl *storage.Claim) string {
	o, err := h.engine.Order(cl.OrderID)
	if err != nil {
		return "?"
	}
	return chat.Untrusted(o.SKU).String() + " ×" + strconv.Itoa(o.Quantity)
}

// shortened is s on one line, cut at n characters with "…".
func shortened(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// claimLines are an order's claims as /order shows them, oldest first:
// status, reason, and who resolved it with their note.
func (h *Handler) claimLines(o *storage.Order) []string {
	claims, err := h.engine.ClaimsOf(o.ID)
	if err != nil {
		h.log.Error().Err(err).Uint64("order_id", o.ID).Msg("read the order's claims")
		return []string{chat.T(h.lang, "order_claims_unread")}
	}
	if len(claims) == 0 {
		return nil
	}
	lines := []string{chat.T(h.lang, "order_claims")}
	for _, cl := range claims {
		line := chat.T(h.lang, "order_claim", cl.ID, claimStatusName(h.lang, cl.Status), claimWhat(h.lang, cl.Reason, len(cl.Cards)),
			h.clock(cl.CreatedAt))
		if cl.Resolved() {
			line += chat.T(h.lang, "order_claim_by", chat.Untrusted(cl.ResolvedBy.Name), h.clock(cl.ResolvedAt))
		}
		if cl.Note != "" {
			line += chat.T(h.lang, "order_claim_note", chat.Untrusted(cl.Note))
		}
		lines = append(lines, line)
	}
	return lines
}

// openClaimButtons are the buttons of an order's open claim, for /order.
func (h *Handler) openClaimButtons(o *storage.Order) []chat.Button {
	claims, err := h.engine.ClaimsOf(o.ID)
	if err != nil || len(claims) == 0 || claims[len(claims)-1].Resolved() {
		return nil
	}
	id := claims[len(claims)-1].ID
	return []chat.Button{
		{Label: chat.T(h.lang, "btn_claim_reissue"), Data: claimButton(btnClaimReissue, id).encode()},
		{Label: chat.T(h.lang, "btn_claim_refund"), Data: claimButton(btnClaimRefund, id).encode()},
		{Label: chat.T(h.lang, "btn_claim_reject"), Data: claimButton(btnClaimReject, id).encode()},
	}
}

// claimStatusName is a claim's status as operators read it.
func claimStatusName(l string, s storage.ClaimStatus) string {
	if t := chat.T(l, "claim_status_"+string(s)); !strings.HasPrefix(t, "claim_status_") {
		return t
	}
	return chat.Untrusted(string(s)).String()
}

// claimAlready says who resolved a claim, when and how: "已由 alice 处理".
func (h *Handler) claimAlready(cl *storage.Claim) chat.Reply {
	return chat.Reply{Text: chat.T(h.lang, "claim_already", cl.ID, chat.Untrusted(cl.ResolvedBy.Name),
		cl.ResolvedAt.In(h.loc).Format("01-02 15:04"), chat.ActionName(h.lang, claimVerb(cl.Status)))}
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
		return h.claimAlready(done.Claim)
	case errors.As(err, &bad) && bad.Field == "note":
		return chat.Reply{Text: chat.T(h.lang, "claim_note_bad", processor.MaxClaimNote, chat.Untrusted(bad.Msg))}
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
