package bot

import (
	"context"
	"strings"
	"time"
)

// maxSilence bounds a silence: a forgotten one must not hide a problem for
// good.
const maxSilence = 7 * 24 * time.Hour

// cmdSilence is /silence <alert> <duration>: alerts whose key starts with
// <alert> (e.g. "supplier_down:fulu", or "low_stock" for all of them) are
// not announced until then. Operators and admins.
func (b *Bot) cmdSilence(_ context.Context, op Operator, id Identity, args []string) Reply {
	if len(args) != 2 {
		return Reply{Text: T(b.lang, "usage", "/silence <supplier_down:fulu|low_stock|…> <1h|30m|…>")}
	}
	d, err := time.ParseDuration(args[1])
	if err != nil || d <= 0 || d > maxSilence {
		return Reply{Text: T(b.lang, "usage", "/silence <alert> <duration up to 168h, like 1h>")}
	}
	return b.silence(op, id, args[0], d)
}

func (b *Bot) silence(op Operator, id Identity, pattern string, d time.Duration) Reply {
	until, err := b.engine.Silence(actor(op, id), strings.TrimSpace(pattern), d)
	if err != nil {
		return b.errorReply(pattern, err)
	}
	return Reply{Text: T(b.lang, "silenced", pattern, until.In(b.loc).Format("01-02 15:04"), op.Name)}
}

// pressSilence is the "Silence 1h" button of an alert.
func (b *Bot) pressSilence(p Press, key string) Reply {
	op, ok := b.auth.Operator(p.From)
	if !ok {
		b.refuse(p.From, Operator{}, "button:"+p.Data)
		return Reply{Text: T(b.lang, "not_operator")}
	}
	if op.Role < RoleOperator {
		b.refuse(p.From, op, "button:"+p.Data)
		return Reply{Text: T(b.lang, "not_allowed", op.Role, "silence")}
	}
	return b.silence(op, p.From, key, time.Hour)
}
