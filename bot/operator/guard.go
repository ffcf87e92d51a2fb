package operator

import (
	"fmt"
	"runtime/debug"
	"strings"
	"unicode/utf8"

	"cardflow/bot/chat"
	"cardflow/storage"
)

// Inbound is one event a channel took in (a message, a press, a typed
// line), described for the record should handling it fail.
type Inbound struct {
	From chat.Identity // who sent it, as far as the channel has read it yet
	Ref  string        // the platform's reference: "qq:EVENT_ID", "telegram:update:42", "console"
	// Clean removes the channel's own secrets (a bot token) from a text
	// before it is logged or audited; nil: nothing to remove.
	Clean func(string) string
}

// Outcomes of a failed inbound event in the audit log.
const (
	OutcomePanic  = "panic"  // handling panicked; recovered
	OutcomeFailed = "failed" // set aside after its handling began too often (the process died in it)
)

// maxFailureDetail bounds what a failure's audit entry says.
const maxFailureDetail = 160

// Recover, deferred by a channel around the handling of one inbound event,
// turns a panic into a failure on the record — logged with its stack, and
// audited under the sender's platform identity with outcome "panic" —
// instead of the end of the process. then, if set, runs afterwards: there
// the channel answers the operator (chat.T(lang, "internal")) and takes the
// event off its queue. Without a panic Recover does nothing.
func (h *Handler) Recover(in *Inbound, then func()) {
	p := recover()
	if p == nil {
		return
	}
	h.failed(in, OutcomePanic, fmt.Sprint(p), debug.Stack())
	if then == nil {
		return
	}
	defer func() {
		if p := recover(); p != nil {
			h.log.Error().Str("platform", in.From.Platform).Str("event", in.Ref).
				Msg("answering an inbound event that panicked panicked too")
		}
	}()
	then()
}

// Failed logs and audits an inbound event that could not be handled:
// outcome is OutcomePanic or OutcomeFailed, why says what happened in a
// few words (no secrets, no card keys).
func (h *Handler) Failed(in *Inbound, outcome, why string) { h.failed(in, outcome, why, nil) }

func (h *Handler) failed(in *Inbound, outcome, why string, stack []byte) {
	if in.Clean != nil {
		why = in.Clean(why)
		stack = []byte(in.Clean(string(stack)))
	}
	why = shorten(why, maxFailureDetail)
	ev := h.log.Error().Str("platform", in.From.Platform).Str("user_id", in.From.UserID).Str("event", in.Ref).
		Str("outcome", outcome).Str("why", why)
	if stack != nil {
		ev = ev.Str("stack", string(stack))
	}
	ev.Msg("inbound event failed")
	if h.engine == nil {
		return
	}
	who := in.From.UserID
	if who == "" {
		who = "unknown"
	}
	err := h.engine.Audit(storage.AuditEntry{Actor: storage.Actor{Name: who, Platform: in.From.Platform},
		Action: "inbound", Target: in.Ref, Outcome: outcome, Detail: why})
	if err != nil {
		h.log.Error().Err(err).Msg("audit failed inbound event")
	}
}

// shorten cuts s to at most n bytes on a rune boundary, on one line.
func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// IsOperator reports whether an identity is one of the shop's operators.
// Channels ask before they take anything from a private chat.
func (h *Handler) IsOperator(id chat.Identity) bool {
	_, ok := h.auth.Operator(id)
	return ok
}
