package operator

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"cardflow/bot/chat"
	"cardflow/processor"
	"cardflow/storage"
)

// command is one slash command: who may run it and what it does.
type command struct {
	role Role
	run  func(b *Handler, ctx context.Context, op Operator, id chat.Identity, args []string) chat.Reply
}

// commands is the command table. Viewers read, operators act on orders,
// admins do everything.
var commands = map[string]command{
	"help":      {RoleViewer, (*Handler).cmdHelp},
	"start":     {RoleViewer, (*Handler).cmdHelp},
	"order":     {RoleViewer, (*Handler).cmdOrder},
	"pending":   {RoleViewer, (*Handler).cmdPending},
	"find":      {RoleViewer, (*Handler).cmdFind},
	"stock":     {RoleViewer, (*Handler).cmdStock},
	"approve":   {RoleOperator, orderAction("approve")},
	"retry":     {RoleOperator, orderAction("retry")},
	"refund":    {RoleOperator, orderAction("refund")},
	"reissue":   {RoleAdmin, orderAction("reissue")},
	"confirm":   {RoleOperator, (*Handler).cmdConfirm},
	"suppliers": {RoleViewer, (*Handler).cmdSuppliers},
	"pause":     {RoleAdmin, pauseAction(true)},
	"resume":    {RoleAdmin, pauseAction(false)},
	"rules":     {RoleViewer, (*Handler).cmdRules},
	"audit":     {RoleAdmin, (*Handler).cmdAudit},
	"silence":   {RoleOperator, (*Handler).cmdSilence},
	"unbind":    {RoleAdmin, (*Handler).cmdUnbind},
	"stats":     {RoleViewer, (*Handler).cmdStats},
	"report":    {RoleViewer, (*Handler).cmdReport},
}

// usages show how to call the commands that take arguments. An order is
// named as #12 (internal id), shop1:EXT (a storefront's external id) or
// a bare value that only one order has.
var usages = map[string]string{
	"order":   "/order <#id|storefront:external_id|id>",
	"approve": "/approve <#id|storefront:external_id|id>",
	"retry":   "/retry <#id|storefront:external_id|id>",
	"refund":  "/refund <#id|storefront:external_id|id> [reason]",
	"reissue": "/reissue <#id|storefront:external_id|id>",
	"confirm": "/confirm <code>",
	"find":    "/find <buyer id|contact>",
	"pause":   "/pause <supplier|sku>",
	"resume":  "/resume <supplier|sku>",
	"unbind":  "/unbind <operator>",
}

func (b *Handler) run(ctx context.Context, m chat.Message, name string, args []string) chat.Reply {
	if name == "bind" { // how a stranger on QQ becomes an operator
		return b.cmdBind(m, args)
	}
	id := m.From
	op, ok := b.auth.Operator(id) // strangers learn nothing, not even which commands exist
	if !ok {
		return b.strangerReply(id, "/"+name)
	}
	cmd, ok := commands[name]
	if !ok {
		return chat.Reply{Text: chat.T(b.lang, "unknown_command", chat.Untrusted("/"+name))}
	}
	if op.Role < cmd.role {
		b.refuse(id, op, "/"+name)
		return chat.Reply{Text: chat.T(b.lang, "not_allowed", op.Role, "/"+name)}
	}
	return cmd.run(b, ctx, op, id, args)
}

func (b *Handler) cmdHelp(context.Context, Operator, chat.Identity, []string) chat.Reply {
	return chat.Reply{Text: chat.T(b.lang, "help")}
}

func (b *Handler) cmdOrder(_ context.Context, _ Operator, _ chat.Identity, args []string) chat.Reply {
	if len(args) != 1 {
		return chat.Reply{Text: chat.T(b.lang, "usage", usages["order"])}
	}
	o, r, ok := b.resolve("order", args[0])
	if !ok {
		return r
	}
	return chat.Reply{Text: b.formatOrder(o), Buttons: b.orderButtons(o)}
}

// resolve finds the order a typed reference names. A reference naming
// several orders is answered with the candidates and how to name each one
// (for the command cmd); one naming none, with "not found".
func (b *Handler) resolve(cmd, ref string) (*storage.Order, chat.Reply, bool) {
	o, err := b.engine.ResolveOrder(undefang.Replace(ref))
	var amb *processor.AmbiguousError
	switch {
	case errors.As(err, &amb):
		return nil, b.candidates(cmd, amb), false
	case err != nil:
		return nil, b.errorReply(ref, err), false
	}
	return o, chat.Reply{}, true
}

func (b *Handler) candidates(cmd string, amb *processor.AmbiguousError) chat.Reply {
	lines := []string{chat.T(b.lang, "ref_ambiguous", chat.Untrusted(amb.Ref), len(amb.Candidates))}
	for _, o := range amb.Candidates {
		lines = append(lines, fmt.Sprintf("  #%d · %s · %s · ¥%s · %s", o.ID, chat.Untrusted(o.Storefront), chat.Untrusted(o.ExternalID),
			o.Amount, chat.StatusName(b.lang, string(o.Status))))
	}
	lines = append(lines, chat.T(b.lang, "ref_hint"))
	for _, o := range amb.Candidates {
		lines = append(lines, fmt.Sprintf("  /%s #%d · /%s %s:%s", cmd, o.ID, cmd, chat.Untrusted(o.Storefront), chat.Untrusted(o.ExternalID)))
	}
	return chat.Reply{Text: strings.Join(lines, "\n")}
}

// undefang reverses what chat.Untrusted does to links, so that an external id
// copied from a message ("shop1:T1[.]A") names the order it showed.
var undefang = strings.NewReplacer("[.]", ".", "[:]", ":", "[@]", "@")

// pendingShown is how many orders of each queue /pending lists.
const pendingShown = 10

func (b *Handler) cmdPending(context.Context, Operator, chat.Identity, []string) chat.Reply {
	review, nReview, err := b.engine.OpenOrders(storage.StatusReview, pendingShown)
	if err != nil {
		return b.errorReply("", err)
	}
	failed, nFailed, err := b.engine.OpenOrders(storage.StatusFailed, pendingShown)
	if err != nil {
		return b.errorReply("", err)
	}
	if nReview+nFailed == 0 {
		return chat.Reply{Text: chat.T(b.lang, "pending_none")}
	}
	lines := []string{chat.T(b.lang, "pending_header", nReview, nFailed)}
	var buttons []chat.Button
	for _, group := range []struct {
		orders []*storage.Order
		total  int
	}{{review, nReview}, {failed, nFailed}} {
		for _, o := range group.orders {
			lines = append(lines, b.orderLine(o))
			buttons = append(buttons, chat.Button{Label: "#" + strconv.FormatUint(o.ID, 10), Data: pressData(pressDetails, o.ID)})
		}
		if more := group.total - len(group.orders); more > 0 {
			lines = append(lines, chat.T(b.lang, "pending_more", more))
		}
	}
	return chat.Reply{Text: strings.Join(lines, "\n"), Buttons: buttons}
}

func (b *Handler) cmdStock(_ context.Context, _ Operator, _ chat.Identity, args []string) chat.Reply {
	levels, err := b.engine.StockLevels()
	if err != nil {
		return b.errorReply("", err)
	}
	skus := make([]string, 0, len(levels))
	for sku := range levels {
		if len(args) == 0 || strings.EqualFold(args[0], sku) {
			skus = append(skus, sku)
		}
	}
	if len(skus) == 0 && len(args) > 0 {
		return chat.Reply{Text: chat.T(b.lang, "stock_unknown", chat.Untrusted(args[0]))}
	}
	if len(skus) == 0 {
		return chat.Reply{Text: chat.T(b.lang, "stock_none")}
	}
	sort.Strings(skus)
	lines := []string{chat.T(b.lang, "stock_header")}
	for _, sku := range skus {
		p, _ := b.engine.Product(sku)
		line := chat.T(b.lang, "stock_line", sku, p.Name, levels[sku])
		if levels[sku] < p.LowStock {
			line += chat.T(b.lang, "stock_low", p.LowStock)
		}
		if n := b.engine.Waiting(sku); n > 0 {
			line += chat.T(b.lang, "stock_waiting", n)
		}
		lines = append(lines, line)
	}
	return chat.Reply{Text: strings.Join(lines, "\n")}
}

// orderAction runs approve/retry/refund/reissue from a command. A refund or
// reissue of a delivered order — money back, or new cards, after the sale —
// first shows the order and waits for its confirmation (confirm.go); the
// rest act at once, as buttons do.
func orderAction(action string) func(*Handler, context.Context, Operator, chat.Identity, []string) chat.Reply {
	return func(b *Handler, _ context.Context, op Operator, id chat.Identity, args []string) chat.Reply {
		if len(args) < 1 || (action != "refund" && len(args) != 1) {
			return chat.Reply{Text: chat.T(b.lang, "usage", usages[action])}
		}
		o, r, ok := b.resolve(action, args[0])
		if !ok {
			return r
		}
		note := strings.Join(args[1:], " ")
		if (action == "refund" || action == "reissue") && o.Status == storage.StatusDelivered {
			return b.askConfirm(op, id, action, o, note)
		}
		return b.act(op, id, action, o, note)
	}
}

// overLimit refuses an operator's refund above the refund limit.
func (b *Handler) overLimit(op Operator, id chat.Identity, action string, o *storage.Order) (chat.Reply, bool) {
	if action != "refund" || op.Role >= RoleAdmin || int64(o.Amount) <= b.refundLimit {
		return chat.Reply{}, false
	}
	b.refuse(id, op, fmt.Sprintf("refund %d over limit", o.ID))
	return chat.Reply{Text: chat.T(b.lang, "not_allowed", op.Role, fmt.Sprintf("/refund ¥%s", o.Amount))}, true
}

// act performs an order action for an operator, enforcing the refund limit.
// A refund with from set only happens while the order is still in one of
// those states.
func (b *Handler) act(op Operator, id chat.Identity, action string, o *storage.Order, note string, from ...storage.Status) chat.Reply {
	if r, refused := b.overLimit(op, id, action, o); refused {
		return r
	}
	a, orderID := actor(op, id), o.ID
	var err error
	switch action {
	case "approve":
		_, err = b.engine.Approve(a, orderID)
	case "retry":
		_, err = b.engine.Retry(a, orderID)
	case "refund":
		if len(from) > 0 {
			_, err = b.engine.RefundFrom(a, orderID, note, from...)
		} else {
			_, err = b.engine.Refund(a, orderID, note)
		}
	case "reissue":
		_, err = b.engine.Reissue(a, orderID)
	}
	return b.done(op, action, orderID, err)
}

// done is the answer to an order action the engine was asked for.
func (b *Handler) done(op Operator, action string, orderID uint64, err error) chat.Reply {
	if err != nil {
		return b.errorReply(strconv.FormatUint(orderID, 10), err)
	}
	return chat.Reply{Text: chat.T(b.lang, "done_"+action, orderID, op.Name)}
}

// refuse logs and audits an action someone was not allowed to take, and
// reports whether to answer it. A stranger is audited under their platform
// id, since they have no name here, and at most once a minute (see
// strangerGate); operators always.
func (b *Handler) refuse(id chat.Identity, op Operator, what string) bool {
	if r := []rune(what); len(r) > maxAuditWhat { // a stranger's command can be a page long
		what = string(r[:maxAuditWhat]) + "…"
	}
	name, detail := op.Name, "role "+op.Role.String()
	if name == "" {
		name = "unknown:" + id.UserID
		audit, mine, others := b.strangers.admit(id.Platform+":"+id.UserID, b.now())
		if !audit {
			return false
		}
		if mine > 0 {
			detail += fmt.Sprintf("; %d more refused, not audited one by one", mine)
		}
		if others > 0 {
			detail += fmt.Sprintf("; %d refusals of other strangers not audited", others)
		}
	}
	b.log.Warn().Str("platform", id.Platform).Str("user_id", id.UserID).Str("operator", op.Name).
		Str("what", what).Msg("operator action refused")
	if err := b.engine.Audit(storage.AuditEntry{Actor: storage.Actor{Name: name, Platform: id.Platform},
		Action: what, Outcome: "refused", Detail: detail}); err != nil {
		b.log.Error().Err(err).Msg("audit refused action failed")
	}
	return true
}

// maxAuditWhat bounds what a refusal records of the command or button.
const maxAuditWhat = 64

// strangerReply refuses a stranger politely: an empty reply (no answer)
// when the stranger was refused already within the minute.
func (b *Handler) strangerReply(id chat.Identity, what string) chat.Reply {
	if !b.refuse(id, Operator{}, what) {
		return chat.Reply{}
	}
	return chat.Reply{Text: chat.T(b.lang, "not_operator")}
}
