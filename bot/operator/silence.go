package operator

import (
	"context"
	"errors"
	"strings"
	"time"

	"cardflow/alert"
	"cardflow/bot/chat"
	"cardflow/bot/silence"
)

// silenceUsage says what /silence takes.
const silenceUsage = "/silence <supplier_down:fulu|low_stock:qb-100|…> <1h|30m|… ≤168h>; " +
	"/silence <low_stock|balance_low|…> <≤24h> (admins)"

// cmdSilence is /silence <alert> <duration>. <alert> is one alert's key
// (supplier_down:fulu: an open or announced alert, or a known type and
// target), muted for up to a week; or, for admins, an alert type
// (low_stock), muted for up to a day. Never a prefix of keys, and never
// review prompts or failed orders: those are work, not noise.
func (h *Handler) cmdSilence(_ context.Context, op Operator, m chat.Message, args []string) chat.Reply {
	id := m.From
	if len(args) != 2 {
		return h.commands.usage(h.lang, "silence")
	}
	d, err := time.ParseDuration(args[1])
	if err != nil || d <= 0 {
		return h.commands.usage(h.lang, "silence")
	}
	return h.silence(op, id, args[0], d)
}

func (h *Handler) silence(op Operator, id chat.Identity, key string, d time.Duration) chat.Reply {
	key = strings.TrimSpace(key)
	if silence.IsAlertType(key) && silence.Silenceable(alert.Kind(key)) {
		if r, ok := h.allow(op, id, RoleAdmin, "/silence "+key, "/silence "+key); !ok {
			return r // a whole type is muted by admins only
		}
	}
	until, err := h.silences.Silence(actor(op, id), key, d)
	switch {
	case errors.Is(err, silence.ErrNotSilenceable):
		return chat.Reply{Text: chat.T(h.lang, "silence_work")}
	case errors.Is(err, silence.ErrUnknownAlert):
		return chat.Reply{Text: chat.T(h.lang, "silence_unknown", chat.Untrusted(key))}
	case errors.Is(err, silence.ErrSilenceTooLong):
		return h.commands.usage(h.lang, "silence")
	case err != nil:
		return h.errorReply(key, err)
	}
	return chat.Reply{Text: chat.T(h.lang, "silenced", chat.Untrusted(key), until.In(h.loc).Format("01-02 15:04"), op.Name)}
}
