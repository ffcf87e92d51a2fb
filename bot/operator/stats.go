package operator

import (
	"cardflow/bot/chat"
	"cardflow/report/daily"
	"context"
	"strings"
)

func (b *Handler) cmdStats(_ context.Context, _ Operator, _ chat.Message, args []string) chat.Reply {
	p, ok := daily.ParsePeriod(strings.Join(args, ""), b.now(), b.loc)
	if !ok {
		return chat.Reply{Text: chat.T(b.lang, "usage", "/stats [today|yesterday|7d]")}
	}
	text, err := b.report.Stats(p)
	if err != nil {
		return b.errorReply("", err)
	}
	return chat.Reply{Text: text}
}

func (b *Handler) cmdReport(_ context.Context, _ Operator, _ chat.Message, args []string) chat.Reply {
	p, ok := daily.ParsePeriod(strings.Join(args, ""), b.now(), b.loc)
	if !ok {
		return chat.Reply{Text: chat.T(b.lang, "usage", "/report [today|yesterday|7d]")}
	}
	r, err := b.report.Report(p, false)
	if err != nil {
		return b.errorReply("", err)
	}
	return r
}
