package operator

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"cardflow/bot/chat"
	"cardflow/processor"
	"cardflow/storage"
)

// command is one slash command: its names, who may run it, how it is
// typed, the /help lines that explain it, and what it does.
type command struct {
	name    string
	aliases []string
	role    Role
	usage   string   // shown when the arguments do not fit
	help    []string // catalogue keys of its /help lines, in order
	run     func(h *Handler, ctx context.Context, op Operator, m chat.Message, args []string) chat.Reply
	// channel: a chat channel answers it before the operator layer sees it
	// (QQ's /inbox, for anyone in the group); typed elsewhere it is an
	// unknown command. It has no role and no run.
	channel bool
	// ungated: run passes the command to its run without the gate, which
	// asks the gate itself — /bind is how a stranger on QQ becomes an
	// operator. op is zero.
	ungated bool
}

// orderUsage names an order as #12 (internal id), shop1:EXT (a
// storefront's external id) or a bare value that only one order has.
const orderUsage = "<#id|storefront:external_id|id>"

// commandTable is the slash commands in /help's order: dispatch and /help
// read it.
type commandTable []command

// newCommandTable builds the command table (each Handler holds one: /help
// is in the table it reads, which a package variable could not hold).
// Viewers read, operators act on orders, admins do everything.
func newCommandTable() commandTable {
	return commandTable{
		{name: "order", role: RoleViewer, usage: "/order " + orderUsage, help: []string{"help_order"}, run: (*Handler).cmdOrder},
		{name: "pending", role: RoleViewer, help: []string{"help_pending"}, run: (*Handler).cmdPending},
		{name: "find", role: RoleViewer, usage: "/find <buyer id|contact>", help: []string{"help_find"}, run: (*Handler).cmdFind},
		{name: "approve", role: RoleOperator, usage: "/approve " + orderUsage, help: []string{"help_approve"}, run: orderAction("approve")},
		{name: "retry", role: RoleOperator, usage: "/retry " + orderUsage, help: []string{"help_retry"}, run: orderAction("retry")},
		{name: "refund", role: RoleOperator, usage: "/refund " + orderUsage + " [reason]", help: []string{"help_refund"},
			run: orderAction("refund")},
		{name: "reissue", role: RoleAdmin, usage: "/reissue " + orderUsage, help: []string{"help_reissue"}, run: orderAction("reissue")},
		{name: "claims", role: RoleViewer, help: []string{"help_claims"}, run: (*Handler).cmdClaims},
		{name: "reject", role: RoleOperator, usage: "/reject " + orderUsage + " <reason>", help: []string{"help_reject"},
			run: (*Handler).cmdReject},
		{name: "claim", role: RoleOperator, usage: "/claim <claim> <reissue|refund|reject> [note]", help: []string{"help_claim"},
			run: (*Handler).cmdClaim},
		{name: "confirm", role: RoleOperator, usage: "/confirm <code>", help: []string{"help_confirm"}, run: (*Handler).cmdConfirm},
		{name: "stats", role: RoleViewer, usage: "/stats [today|yesterday|7d]", help: []string{"help_stats"}, run: (*Handler).cmdStats},
		{name: "report", role: RoleViewer, usage: "/report [today|yesterday|7d]", help: []string{"help_report"}, run: (*Handler).cmdReport},
		{name: "stock", role: RoleViewer, help: []string{"help_stock"}, run: (*Handler).cmdStock},
		{name: "suppliers", role: RoleViewer, help: []string{"help_suppliers"}, run: (*Handler).cmdSuppliers},
		{name: "balance", role: RoleViewer, usage: "/balance [shop]", help: []string{"help_balance"}, run: (*Handler).cmdBalance},
		{name: "credit", role: RoleAdmin, usage: "/credit <shop> <amount> [reason]", help: []string{"help_credit"}, run: (*Handler).cmdCredit},
		{name: "pause", role: RoleAdmin, usage: "/pause <supplier|sku>", help: []string{"help_pause"}, run: pauseAction(true)},
		{name: "resume", role: RoleAdmin, usage: "/resume <supplier|sku>", help: []string{"help_resume"}, run: pauseAction(false)},
		// Listing rules is for everyone, trying them for operators, changing
		// them for admins: cmdRules asks the gate again per subcommand.
		{name: "rules", role: RoleViewer, usage: "/rules [test <expr> | set <name> <action> <expr> | off <name>]",
			help: []string{"help_rules", "help_rules_test", "help_rules_set", "help_rules_off"}, run: (*Handler).cmdRules},
		{name: "audit", role: RoleAdmin, usage: "/audit [1-50]", help: []string{"help_audit"}, run: (*Handler).cmdAudit},
		{name: "silence", role: RoleOperator, usage: silenceUsage, help: []string{"help_silence"}, run: (*Handler).cmdSilence},
		{name: "bind", role: RoleAdmin, usage: "/bind <operator>", help: []string{"help_bind"}, run: (*Handler).cmdBind, ungated: true},
		{name: "unbind", role: RoleAdmin, usage: "/unbind <operator>", help: []string{"help_unbind"}, run: (*Handler).cmdUnbind},
		{name: "inbox", help: []string{"help_inbox"}, channel: true},
		{name: "help", aliases: []string{"start"}, role: RoleViewer, help: []string{"help_help"}, run: (*Handler).cmdHelp},
	}
}

// find finds a command by its name or an alias.
func (t commandTable) find(name string) (*command, bool) {
	for i := range t {
		if c := &t[i]; c.name == name || slices.Contains(c.aliases, name) {
			return c, true
		}
	}
	return nil, false
}

// usage answers the command name typed with arguments that do not fit.
func (t commandTable) usage(lang, name string) chat.Reply {
	c, _ := t.find(name)
	return chat.Reply{Text: chat.T(lang, "usage", c.usage)}
}

// help is /help in lang: a header, then each command's lines in the
// table's order. Every role sees every command.
func (t commandTable) help(lang string) string {
	lines := []string{chat.T(lang, "help_header")}
	for _, c := range t {
		for _, key := range c.help {
			lines = append(lines, chat.T(lang, key))
		}
	}
	return strings.Join(lines, "\n")
}

// run dispatches a command through the gate. A stranger learns nothing,
// not even which commands exist: the gate refuses them before an unknown
// command is told apart.
func (h *Handler) run(ctx context.Context, m chat.Message, name string, args []string) chat.Reply {
	cmd, known := h.commands.find(name)
	if known && cmd.ungated {
		return cmd.run(h, ctx, Operator{}, m, args)
	}
	known = known && !cmd.channel
	var need Role // an unknown command: only strangers are refused
	if known {
		need = cmd.role
	}
	op, r, ok := h.gate(m.From, need, "/"+name, "/"+name)
	if !ok {
		return r
	}
	if !known {
		return chat.Reply{Text: chat.T(h.lang, "unknown_command", chat.Untrusted("/"+name))}
	}
	return cmd.run(h, ctx, op, m, args)
}

func (h *Handler) cmdHelp(context.Context, Operator, chat.Message, []string) chat.Reply {
	return chat.Reply{Text: h.commands.help(h.lang)}
}

func (h *Handler) cmdOrder(_ context.Context, _ Operator, _ chat.Message, args []string) chat.Reply {
	if len(args) != 1 {
		return h.commands.usage(h.lang, "order")
	}
	o, r, ok := h.resolve("order", args[0])
	if !ok {
		return r
	}
	return h.orderView(o)
}

// orderView is an order with its claims, the actions that fit its state
// and those of its open claim.
func (h *Handler) orderView(o *storage.Order) chat.Reply {
	text := h.formatOrder(o)
	if lines := h.claimLines(o); len(lines) > 0 {
		text += "\n" + strings.Join(lines, "\n")
	}
	return chat.Reply{Text: text, Buttons: append(h.orderButtons(o), h.openClaimButtons(o)...)}
}

// resolve finds the order a typed reference names. A reference naming
// several orders is answered with the candidates and how to name each one
// (for the command cmd); one naming none, with "not found".
func (h *Handler) resolve(cmd, ref string) (*storage.Order, chat.Reply, bool) {
	o, err := h.engine.ResolveOrder(undefang.Replace(ref))
	var amb *processor.AmbiguousError
	switch {
	case errors.As(err, &amb):
		return nil, h.candidates(cmd, amb), false
	case err != nil:
		return nil, h.errorReply(ref, err), false
	}
	return o, chat.Reply{}, true
}

func (h *Handler) candidates(cmd string, amb *processor.AmbiguousError) chat.Reply {
	lines := []string{chat.T(h.lang, "ref_ambiguous", chat.Untrusted(amb.Ref), len(amb.Candidates))}
	for _, o := range amb.Candidates {
		lines = append(lines, fmt.Sprintf("  #%d · %s · %s · ¥%s · %s", o.ID, chat.Untrusted(o.Storefront), chat.Untrusted(o.ExternalID),
			o.Amount, chat.StatusName(h.lang, string(o.Status))))
	}
	lines = append(lines, chat.T(h.lang, "ref_hint"))
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

func (h *Handler) cmdPending(context.Context, Operator, chat.Message, []string) chat.Reply {
	review, nReview, err := h.engine.OpenOrders(storage.StatusReview, pendingShown)
	if err != nil {
		return h.errorReply("", err)
	}
	failed, nFailed, err := h.engine.OpenOrders(storage.StatusFailed, pendingShown)
	if err != nil {
		return h.errorReply("", err)
	}
	if nReview+nFailed == 0 {
		return chat.Reply{Text: chat.T(h.lang, "pending_none")}
	}
	lines := []string{chat.T(h.lang, "pending_header", nReview, nFailed)}
	var buttons []chat.Button
	for _, group := range []struct {
		orders []*storage.Order
		total  int
	}{{review, nReview}, {failed, nFailed}} {
		for _, o := range group.orders {
			lines = append(lines, h.orderLine(o))
			buttons = append(buttons, chat.Button{Label: "#" + strconv.FormatUint(o.ID, 10), Data: orderButton(btnDetails, o.ID).encode()})
		}
		if more := group.total - len(group.orders); more > 0 {
			lines = append(lines, chat.T(h.lang, "pending_more", more))
		}
	}
	return chat.Reply{Text: strings.Join(lines, "\n"), Buttons: buttons}
}

func (h *Handler) cmdStock(_ context.Context, _ Operator, _ chat.Message, args []string) chat.Reply {
	levels, err := h.engine.StockLevels()
	if err != nil {
		return h.errorReply("", err)
	}
	skus := make([]string, 0, len(levels))
	for sku := range levels {
		if len(args) == 0 || strings.EqualFold(args[0], sku) {
			skus = append(skus, sku)
		}
	}
	if len(skus) == 0 && len(args) > 0 {
		return chat.Reply{Text: chat.T(h.lang, "stock_unknown", chat.Untrusted(args[0]))}
	}
	if len(skus) == 0 {
		return chat.Reply{Text: chat.T(h.lang, "stock_none")}
	}
	sort.Strings(skus)
	lines := []string{chat.T(h.lang, "stock_header")}
	for _, sku := range skus {
		p, _ := h.engine.Product(sku)
		line := chat.T(h.lang, "stock_line", sku, p.Name, levels[sku])
		if levels[sku] < p.LowStock {
			line += chat.T(h.lang, "stock_low", p.LowStock)
		}
		if n := h.engine.Waiting(sku); n > 0 {
			line += chat.T(h.lang, "stock_waiting", n)
		}
		lines = append(lines, line)
		lines = append(lines, h.batchClaimLines(sku)...)
	}
	return chat.Reply{Text: strings.Join(lines, "\n")}
}

// orderAction runs approve/retry/refund/reissue from a command. A refund or
// reissue of a delivered order — money back, or new cards, after the sale —
// first shows the order and waits for its confirmation (confirm.go); the
// rest act at once, as buttons do.
func orderAction(action string) func(*Handler, context.Context, Operator, chat.Message, []string) chat.Reply {
	return func(h *Handler, _ context.Context, op Operator, m chat.Message, args []string) chat.Reply {
		id := m.From
		if len(args) < 1 || (action != "refund" && len(args) != 1) {
			return h.commands.usage(h.lang, action)
		}
		o, r, ok := h.resolve(action, args[0])
		if !ok {
			return r
		}
		note := strings.Join(args[1:], " ")
		if (action == "refund" || action == "reissue") && o.Status == storage.StatusDelivered {
			return h.askConfirm(op, id, action, o, note)
		}
		return h.act(op, id, action, o, note)
	}
}

// overLimit refuses an operator's refund above the refund limit.
func (h *Handler) overLimit(op Operator, id chat.Identity, action string, o *storage.Order) (chat.Reply, bool) {
	if action != "refund" || int64(o.Amount) <= h.refundLimit {
		return chat.Reply{}, false
	}
	r, ok := h.allow(op, id, RoleAdmin, fmt.Sprintf("refund %d over limit", o.ID), fmt.Sprintf("/refund ¥%s", o.Amount))
	return r, !ok
}

// act performs an order action for an operator, enforcing the refund limit.
// A refund with from set only happens while the order is still in one of
// those states.
func (h *Handler) act(op Operator, id chat.Identity, action string, o *storage.Order, note string, from ...storage.Status) chat.Reply {
	if r, refused := h.overLimit(op, id, action, o); refused {
		return r
	}
	a, orderID := actor(op, id), o.ID
	var err error
	switch action {
	case "approve":
		_, err = h.engine.Approve(a, orderID)
	case "retry":
		_, err = h.engine.Retry(a, orderID)
	case "refund":
		if len(from) > 0 {
			_, err = h.engine.RefundFrom(a, orderID, note, from...)
		} else {
			_, err = h.engine.Refund(a, orderID, note)
		}
	case "reissue":
		_, err = h.engine.Reissue(a, orderID)
	}
	return h.done(op, action, orderID, err)
}

// done is the answer to an order action the engine was asked for.
func (h *Handler) done(op Operator, action string, orderID uint64, err error) chat.Reply {
	if err != nil {
		return h.errorReply(strconv.FormatUint(orderID, 10), err)
	}
	return chat.Reply{Text: chat.T(h.lang, "done_"+action, orderID, op.Name)}
}
