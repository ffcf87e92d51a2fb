package operator

import (
	"cardflow/bot/chat"
	"cardflow/report/daily"
	"context"
	"strings"
)

func (h *Handler) cmdStats(_ context.Context, _ Operator, _ chat.Message, args []string) chat.Reply {
	p, ok := daily.ParsePeriod(strings.Join(args, ""), h.now(), h.loc)
	if !ok {
		return chat.Reply{Text: chat.T(h.lang, "usage", "/stats [today|yesterday|7d]")}
	}
	text, err := h.report.Stats(p)
	if err != nil {
		return h.errorReply("", err)
	}
	return chat.Reply{Text: text}
}

func (h *Handler) cmdReport(_ context.Context, _ Operator, _ chat.Message, args []string) chat.Reply {
	p, ok := daily.ParsePeriod(strings.Join(args, ""), h.now(), h.loc)
	if !ok {
		return chat.Reply{Text: chat.T(h.lang, "usage", "/report [today|yesterday|7d]")}
	}
	r, err := h.report.Report(p, false)
	if err != nil {
		return h.errorReply("", err)
	}
	return r
}
