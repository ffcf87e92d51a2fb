package operator

import (
	"context"
	"errors"
	"strings"
	"unicode/utf8"

	"cardflow/bot/chat"
	"cardflow/internal/money"
	"cardflow/processor"
)

// cmdBalance is /balance [shop]: each docking shop's prepaid balance and
// credit limit.
func (h *Handler) cmdBalance(_ context.Context, _ Operator, _ chat.Message, args []string) chat.Reply {
	if len(args) > 1 {
		return h.commands.usage(h.lang, "balance")
	}
	balances, err := h.engine.Balances()
	if err != nil {
		return h.errorReply("", err)
	}
	if len(balances) == 0 {
		return chat.Reply{Text: chat.T(h.lang, "balance_none")}
	}
	lines := []string{chat.T(h.lang, "balance_header")}
	for _, b := range balances {
		if len(args) == 1 && !strings.EqualFold(args[0], b.Storefront) {
			continue
		}
		lines = append(lines, chat.T(h.lang, "balance_line", b.Storefront, b.Balance, b.CreditLimit))
	}
	if len(lines) == 1 {
		return chat.Reply{Text: chat.T(h.lang, "balance_unknown", chat.Untrusted(args[0]))}
	}
	return chat.Reply{Text: strings.Join(lines, "\n")}
}

// cmdCredit is /credit <shop> <amount> [reason]: an admin's top-up or
// debit of a docking shop's balance, in the ledger and the audit log.
func (h *Handler) cmdCredit(_ context.Context, op Operator, m chat.Message, args []string) chat.Reply {
	if len(args) < 2 {
		return h.commands.usage(h.lang, "credit")
	}
	amount, err := money.ParseSigned(args[1])
	if err != nil || amount == 0 {
		return chat.Reply{Text: chat.T(h.lang, "credit_bad_amount", chat.Untrusted(args[1]))}
	}
	reason := strings.Join(args[2:], " ")
	if reason == "" {
		reason = "top_up"
	}
	if utf8.RuneCountInString(reason) > 200 {
		return h.commands.usage(h.lang, "credit")
	}
	balance, err := h.engine.AdjustBalance(actor(op, m.From), args[0], amount, reason)
	if errors.Is(err, processor.ErrNotDocking) {
		return chat.Reply{Text: chat.T(h.lang, "balance_unknown", chat.Untrusted(args[0]))}
	}
	if err != nil {
		return h.errorReply(args[0], err)
	}
	sign, abs := "+", amount
	if amount < 0 {
		sign, abs = "-", -amount
	}
	return chat.Reply{Text: chat.T(h.lang, "credit_done", chat.Untrusted(args[0]), sign, abs, balance,
		chat.Untrusted(reason), chat.Untrusted(op.Name))}
}
