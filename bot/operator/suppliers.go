package operator

import (
	"context"
	"errors"
	"strings"

	"cardflow/bot/chat"
	"cardflow/processor/health"

	"cardflow/processor"
)

func (h *Handler) cmdSuppliers(context.Context, Operator, chat.Message, []string) chat.Reply {
	states, err := h.engine.Suppliers()
	if err != nil {
		return h.errorReply("", err)
	}
	lines := []string{chat.T(h.lang, "suppliers_header")}
	var buttons []chat.Button
	cards := map[string]health.Scorecard{}
	for _, sc := range h.engine.Scorecards() {
		cards[sc.Supplier] = sc
	}
	for _, s := range states {
		state := chat.T(h.lang, "supplier_up")
		switch {
		case s.Paused:
			state = chat.T(h.lang, "supplier_paused")
		case s.Breaker == "open":
			state = chat.T(h.lang, "supplier_down")
		case s.Breaker == "half-open":
			state = chat.T(h.lang, "supplier_probing")
		}
		line := chat.T(h.lang, "supplier_line", s.Name, s.Type, state)
		if s.BadCards > 0 {
			line += chat.T(h.lang, "supplier_bad", s.BadCards)
		}
		if s.ClaimCards > 0 {
			line += chat.T(h.lang, "supplier_claims", s.ClaimCards)
		}
		if s.Balance != nil {
			line += chat.T(h.lang, "supplier_balance", s.Balance.String())
		}
		if sc, ok := cards[s.Name]; ok {
			line += chat.T(h.lang, "supplier_score", 100*sc.SuccessRate(), sc.Succeeded, sc.Answered(), chat.Short(sc.P95),
				100*sc.BadCardRate(), 100*sc.UnknownRate(), sc.Cost.String(), sc.Score)
			if sc.Verifying {
				line += chat.T(h.lang, "supplier_verifying")
			}
		}
		lines = append(lines, line)
	}
	return chat.Reply{Text: strings.Join(lines, "\n"), Buttons: buttons}
}

// pauseAction is /pause and /resume of a supplier or product.
func pauseAction(pause bool) func(*Handler, context.Context, Operator, chat.Message, []string) chat.Reply {
	return func(h *Handler, _ context.Context, op Operator, m chat.Message, args []string) chat.Reply {
		id := m.From
		name := map[bool]string{true: "pause", false: "resume"}[pause]
		if len(args) != 1 {
			return h.commands.usage(h.lang, name)
		}
		return h.setPaused(op, id, args[0], pause)
	}
}

func (h *Handler) setPaused(op Operator, id chat.Identity, target string, pause bool) chat.Reply {
	var err error
	if pause {
		err = h.engine.Pause(actor(op, id), target)
	} else {
		err = h.engine.Resume(actor(op, id), target)
	}
	switch {
	case errors.Is(err, processor.ErrUnknownTarget):
		return chat.Reply{Text: chat.T(h.lang, "pause_unknown", target)}
	case err != nil:
		return h.errorReply(target, err)
	case pause:
		return chat.Reply{Text: chat.T(h.lang, "paused", target, op.Name)}
	}
	return chat.Reply{Text: chat.T(h.lang, "resumed", target, op.Name)}
}

// batchesShown is how many import batches with upheld claims /stock names
// per SKU, newest first.
const batchesShown = 5

// batchClaimLines is the line under a SKU in /stock naming its import
// batches with upheld claims, so a bad batch is found; none without claims.
func (h *Handler) batchClaimLines(sku string) []string {
	batches, err := h.engine.BatchClaims(sku)
	if err != nil {
		h.log.Error().Err(err).Str("sku", sku).Msg("read upheld claims by stock batch")
		return nil
	}
	if len(batches) == 0 {
		return nil
	}
	parts := make([]string, 0, batchesShown)
	for _, b := range batches[:min(len(batches), batchesShown)] {
		if b.Batch == 0 {
			parts = append(parts, chat.T(h.lang, "stock_batch_none", b.Upheld))
		} else {
			parts = append(parts, chat.T(h.lang, "stock_batch", b.Batch, b.Upheld))
		}
	}
	return []string{chat.T(h.lang, "stock_batches", strings.Join(parts, chat.T(h.lang, "list_sep")))}
}
