package operator

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"cardflow/bot/chat"
	"cardflow/rules"
	"cardflow/storage"
)

// RuleBook is what the operator layer needs from the rule engine.
type RuleBook interface {
	List() ([]rules.Status, error)
	Test(when string) (rules.TestResult, error)
	Set(actor storage.Actor, name, action, when string) error
	Off(actor storage.Actor, name string) error
}

// cmdRules is /rules, /rules test <expr>, /rules set <name> <action> <expr>
// and /rules off <name>. Listing is for everyone; trying costs the service
// work, so it is for operators; changing rules is for admins (the gate is
// asked again with the subcommand's role).
func (h *Handler) cmdRules(_ context.Context, op Operator, m chat.Message, args []string) chat.Reply {
	id := m.From
	if h.rules == nil {
		return chat.Reply{Text: chat.T(h.lang, "rules_none")}
	}
	if len(args) == 0 {
		return h.listRules()
	}
	sub, rest := strings.ToLower(args[0]), args[1:]
	switch sub {
	case "test":
		if r, ok := h.allow(op, id, RoleOperator, "/rules test", "/rules test"); !ok {
			return r
		}
		if len(rest) == 0 {
			return chat.Reply{Text: chat.T(h.lang, "usage", "/rules test <expr>")}
		}
		return h.testRule(strings.Join(rest, " "))
	case "set", "off":
		if r, ok := h.allow(op, id, RoleAdmin, "/rules "+sub, "/rules "+sub); !ok {
			return r
		}
		if sub == "off" {
			if len(rest) != 1 {
				return chat.Reply{Text: chat.T(h.lang, "usage", "/rules off <name>")}
			}
			return h.ruleChanged(rest[0], h.rules.Off(actor(op, id), rest[0]))
		}
		if len(rest) < 3 {
			return chat.Reply{Text: chat.T(h.lang, "usage", "/rules set <name> <review|refund|allow> <expr>")}
		}
		return h.ruleChanged(rest[0], h.rules.Set(actor(op, id), rest[0], strings.ToLower(rest[1]), strings.Join(rest[2:], " ")))
	}
	return h.commands.usage(h.lang, "rules")
}

func (h *Handler) listRules() chat.Reply {
	list, err := h.rules.List()
	if err != nil {
		return h.errorReply("", err)
	}
	if len(list) == 0 {
		return chat.Reply{Text: chat.T(h.lang, "rules_empty")}
	}
	lines := []string{chat.T(h.lang, "rules_header")}
	for i, r := range list {
		line := fmt.Sprintf("%d. %s：%s → %s · %d / %d", i+1, r.Name, r.When, chat.RuleActionName(h.lang, r.Action), r.HitsToday, r.Hits7d)
		if h.lang == chat.LangEN {
			line = fmt.Sprintf("%d. %s: %s → %s · %d / %d", i+1, r.Name, r.When, chat.RuleActionName(h.lang, r.Action), r.HitsToday, r.Hits7d)
		}
		if r.Off {
			line += chat.T(h.lang, "rule_off")
		}
		if r.By != "" {
			line += chat.T(h.lang, "rule_changed", r.By, r.At)
		}
		lines = append(lines, line)
	}
	return chat.Reply{Text: strings.Join(lines, "\n")}
}

func (h *Handler) testRule(when string) chat.Reply {
	res, err := h.rules.Test(when)
	switch {
	case errors.Is(err, rules.ErrTestRunning):
		return chat.Reply{Text: chat.T(h.lang, "rule_test_busy")}
	case err != nil:
		return chat.Reply{Text: chat.T(h.lang, "rule_invalid", err)}
	}
	return h.testReply(res)
}

func (h *Handler) testReply(res rules.TestResult) chat.Reply {
	text := chat.T(h.lang, "rule_test", res.Orders, res.Matched)
	if len(res.Examples) > 0 {
		ids := make([]string, len(res.Examples))
		for i, id := range res.Examples {
			ids[i] = fmt.Sprintf("#%d", id)
		}
		text += chat.T(h.lang, "rule_examples", strings.Join(ids, " "))
	}
	if res.Failed > 0 {
		text += chat.T(h.lang, "rule_failed_runs", res.Failed)
	}
	if res.Capped {
		text += chat.T(h.lang, "rule_test_capped", res.Orders)
	}
	if res.TimedOut {
		text += chat.T(h.lang, "rule_test_stopped", res.TimeLimit)
	}
	return chat.Reply{Text: text}
}

func (h *Handler) ruleChanged(name string, err error) chat.Reply {
	switch {
	case errors.Is(err, rules.ErrNoRule):
		return chat.Reply{Text: chat.T(h.lang, "rule_unknown", name)}
	case errors.Is(err, rules.ErrBadName), errors.Is(err, rules.ErrBadAction), errors.Is(err, rules.ErrInvalid),
		errors.Is(err, rules.ErrOverLimit):
		return chat.Reply{Text: chat.T(h.lang, "rule_invalid", err)}
	case err != nil:
		return h.errorReply(name, err)
	}
	return chat.Reply{Text: chat.T(h.lang, "rule_saved", name)}
}
