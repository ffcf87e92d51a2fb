package operator

import (
	"context"
	"errors"
	"strings"

	"cardflow/bot/chat"
	"cardflow/processor/health"

	"cardflow/processor"
)

func (b *Handler) cmdSuppliers(context.Context, Operator, chat.Message, []string) chat.Reply {
	states, err := b.engine.Suppliers()
	if err != nil {
		return b.errorReply("", err)
	}
	lines := []string{chat.T(b.lang, "suppliers_header")}
	var buttons []chat.Button
	cards := map[string]health.Scorecard{}
	for _, sc := range b.engine.Scorecards() {
		cards[sc.Supplier] = sc
	}
	for _, s := range states {
		state := chat.T(b.lang, "supplier_up")
		switch {
		case s.Paused:
			state = chat.T(b.lang, "supplier_paused")
		case s.Breaker == "open":
			state = chat.T(b.lang, "supplier_down")
		case s.Breaker == "half-open":
			state = chat.T(b.lang, "supplier_probing")
		}
		line := chat.T(b.lang, "supplier_line", s.Name, s.Type, state)
		if s.BadCards > 0 {
			line += chat.T(b.lang, "supplier_bad", s.BadCards)
		}
		if s.Balance != nil {
			line += chat.T(b.lang, "supplier_balance", s.Balance.String())
		}
		if sc, ok := cards[s.Name]; ok {
			line += chat.T(b.lang, "supplier_score", 100*sc.SuccessRate(), sc.Succeeded, sc.Answered(), chat.Short(sc.P95),
				100*sc.BadCardRate(), 100*sc.UnknownRate(), sc.Cost.String(), sc.Score)
			if sc.Verifying {
				line += chat.T(b.lang, "supplier_verifying")
			}
		}
		lines = append(lines, line)
	}
	return chat.Reply{Text: strings.Join(lines, "\n"), Buttons: buttons}
}

// pauseAction is /pause and /resume of a supplier or product.
func pauseAction(pause bool) func(*Handler, context.Context, Operator, chat.Message, []string) chat.Reply {
	return func(b *Handler, _ context.Context, op Operator, m chat.Message, args []string) chat.Reply {
		id := m.From
		name := map[bool]string{true: "pause", false: "resume"}[pause]
		if len(args) != 1 {
			return b.commands.usage(b.lang, name)
		}
		return b.setPaused(op, id, args[0], pause)
	}
}

func (b *Handler) setPaused(op Operator, id chat.Identity, target string, pause bool) chat.Reply {
	var err error
	if pause {
		err = b.engine.Pause(actor(op, id), target)
	} else {
		err = b.engine.Resume(actor(op, id), target)
	}
	switch {
	case errors.Is(err, processor.ErrUnknownTarget):
		return chat.Reply{Text: chat.T(b.lang, "pause_unknown", target)}
	case err != nil:
		return b.errorReply(target, err)
	case pause:
		return chat.Reply{Text: chat.T(b.lang, "paused", target, op.Name)}
	}
	return chat.Reply{Text: chat.T(b.lang, "resumed", target, op.Name)}
}
