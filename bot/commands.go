package bot

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"cardflow/storage"
)

// command is one slash command: who may run it and what it does.
type command struct {
	role Role
	run  func(b *Bot, ctx context.Context, op Operator, id Identity, args []string) Reply
}

// commands is the command table. Roles follow DESIGN §8: viewers read,
// operators act on orders, admins do everything.
var commands = map[string]command{
	"help":      {RoleViewer, (*Bot).cmdHelp},
	"start":     {RoleViewer, (*Bot).cmdHelp},
	"order":     {RoleViewer, (*Bot).cmdOrder},
	"pending":   {RoleViewer, (*Bot).cmdPending},
	"stock":     {RoleViewer, (*Bot).cmdStock},
	"approve":   {RoleOperator, orderAction("approve")},
	"retry":     {RoleOperator, orderAction("retry")},
	"refund":    {RoleOperator, orderAction("refund")},
	"reissue":   {RoleAdmin, orderAction("reissue")},
	"suppliers": {RoleViewer, (*Bot).cmdSuppliers},
	"pause":     {RoleAdmin, pauseAction(true)},
	"resume":    {RoleAdmin, pauseAction(false)},
	"rules":     {RoleViewer, (*Bot).cmdRules},
	"audit":     {RoleAdmin, (*Bot).cmdAudit},
	"silence":   {RoleOperator, (*Bot).cmdSilence},
	"stats":     {RoleViewer, (*Bot).cmdStats},
	"report":    {RoleViewer, (*Bot).cmdReport},
}

// usages show how to call the commands that take arguments.
var usages = map[string]string{
	"order":   "/order <id|external_id>",
	"approve": "/approve <id>",
	"retry":   "/retry <id>",
	"refund":  "/refund <id> [reason]",
	"reissue": "/reissue <id>",
	"pause":   "/pause <supplier|sku>",
	"resume":  "/resume <supplier|sku>",
}

func (b *Bot) run(ctx context.Context, id Identity, name string, args []string) Reply {
	if name == "bind" { // how a stranger on QQ becomes an operator
		return b.cmdBind(id, args)
	}
	op, ok := b.auth.Operator(id) // strangers learn nothing, not even which commands exist
	if !ok {
		b.refuse(id, Operator{}, "/"+name)
		return Reply{Text: T(b.lang, "not_operator")}
	}
	cmd, ok := commands[name]
	if !ok {
		return Reply{Text: T(b.lang, "unknown_command", "/"+name)}
	}
	if op.Role < cmd.role {
		b.refuse(id, op, "/"+name)
		return Reply{Text: T(b.lang, "not_allowed", op.Role, "/"+name)}
	}
	return cmd.run(b, ctx, op, id, args)
}

func (b *Bot) cmdHelp(context.Context, Operator, Identity, []string) Reply {
	return Reply{Text: T(b.lang, "help")}
}

func (b *Bot) cmdOrder(_ context.Context, _ Operator, _ Identity, args []string) Reply {
	if len(args) != 1 {
		return Reply{Text: T(b.lang, "usage", usages["order"])}
	}
	o, err := b.engine.FindOrder(strings.TrimPrefix(args[0], "#"))
	if err != nil {
		return b.errorReply(args[0], err)
	}
	return Reply{Text: b.formatOrder(o), Buttons: b.orderButtons(o)}
}

// pendingShown is how many orders of each queue /pending lists.
const pendingShown = 10

func (b *Bot) cmdPending(context.Context, Operator, Identity, []string) Reply {
	review, nReview, err := b.engine.OpenOrders(storage.StatusReview, pendingShown)
	if err != nil {
		return b.errorReply("", err)
	}
	failed, nFailed, err := b.engine.OpenOrders(storage.StatusFailed, pendingShown)
	if err != nil {
		return b.errorReply("", err)
	}
	if nReview+nFailed == 0 {
		return Reply{Text: T(b.lang, "pending_none")}
	}
	lines := []string{T(b.lang, "pending_header", nReview, nFailed)}
	var buttons []Button
	for _, group := range []struct {
		orders []*storage.Order
		total  int
	}{{review, nReview}, {failed, nFailed}} {
		for _, o := range group.orders {
			lines = append(lines, b.orderLine(o))
			buttons = append(buttons, Button{Label: "#" + strconv.FormatUint(o.ID, 10), Data: pressData(pressDetails, o.ID)})
		}
		if more := group.total - len(group.orders); more > 0 {
			lines = append(lines, T(b.lang, "pending_more", more))
		}
	}
	return Reply{Text: strings.Join(lines, "\n"), Buttons: buttons}
}

func (b *Bot) cmdStock(_ context.Context, _ Operator, _ Identity, args []string) Reply {
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
		return Reply{Text: T(b.lang, "stock_unknown", args[0])}
	}
	if len(skus) == 0 {
		return Reply{Text: T(b.lang, "stock_none")}
	}
	sort.Strings(skus)
	lines := []string{T(b.lang, "stock_header")}
	for _, sku := range skus {
		p, _ := b.engine.Product(sku)
		line := T(b.lang, "stock_line", sku, p.Name, levels[sku])
		if levels[sku] < p.LowStock {
			line += T(b.lang, "stock_low", p.LowStock)
		}
		if n := b.engine.Waiting(sku); n > 0 {
			line += T(b.lang, "stock_waiting", n)
		}
		lines = append(lines, line)
	}
	return Reply{Text: strings.Join(lines, "\n")}
}

// orderAction runs approve/retry/refund/reissue from a command.
func orderAction(action string) func(*Bot, context.Context, Operator, Identity, []string) Reply {
	return func(b *Bot, _ context.Context, op Operator, id Identity, args []string) Reply {
		if len(args) < 1 || (action != "refund" && len(args) != 1) {
			return Reply{Text: T(b.lang, "usage", usages[action])}
		}
		ref := strings.TrimPrefix(args[0], "#")
		o, err := b.engine.FindOrder(ref)
		if err != nil {
			return b.errorReply(ref, err)
		}
		return b.act(op, id, action, o, strings.Join(args[1:], " "))
	}
}

// act performs an order action for an operator, enforcing the refund limit.
// A refund with from set only happens while the order is still in one of
// those states.
func (b *Bot) act(op Operator, id Identity, action string, o *storage.Order, note string, from ...storage.Status) Reply {
	if action == "refund" && op.Role < RoleAdmin && int64(o.Amount) > b.refundLimit {
		b.refuse(id, op, fmt.Sprintf("refund %d over limit", o.ID))
		return Reply{Text: T(b.lang, "not_allowed", op.Role, fmt.Sprintf("/refund ¥%s", o.Amount))}
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
	if err != nil {
		return b.errorReply(strconv.FormatUint(orderID, 10), err)
	}
	return Reply{Text: T(b.lang, "done_"+action, orderID, op.Name)}
}

// refuse logs and audits an action someone was not allowed to take. A
// stranger is audited under their platform id, since they have no name here.
func (b *Bot) refuse(id Identity, op Operator, what string) {
	name := op.Name
	if name == "" {
		name = "unknown:" + id.UserID
	}
	b.log.Warn().Str("platform", id.Platform).Str("user_id", id.UserID).Str("operator", op.Name).
		Str("what", what).Msg("operator action refused")
	if err := b.engine.Audit(storage.AuditEntry{Actor: storage.Actor{Name: name, Platform: id.Platform},
		Action: what, Outcome: "refused", Detail: "role " + op.Role.String()}); err != nil {
		b.log.Error().Err(err).Msg("audit refused action failed")
	}
}
