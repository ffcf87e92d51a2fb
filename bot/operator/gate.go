package operator

import (
	"fmt"

	"cardflow/bot/chat"
	"cardflow/storage"
)

// The gate is the one place that asks "who is this, and may they": every
// command, button press and stock import passes it before anything else.
// A stranger is refused without learning whether the command exists; an
// operator whose role is below the action's is refused and audited.

// gate lets an operator of at least role need through. audit is what the
// audit log records of the attempt ("/refund", "button:o:ap:12"); shown is
// how a refusal names it to the operator. Refused, the reply is the answer
// (empty for a stranger refused again within the minute: strangerGate).
func (h *Handler) gate(from chat.Identity, need Role, audit, shown string) (Operator, chat.Reply, bool) {
	op, ok := h.auth.Operator(from)
	if !ok {
		if !h.refuse(from, Operator{}, audit) {
			return Operator{}, chat.Reply{}, false // refused within the minute: no answer
		}
		return Operator{}, chat.Reply{Text: chat.T(h.lang, "not_operator")}, false
	}
	if r, ok := h.allow(op, from, need, audit, shown); !ok {
		return Operator{}, r, false
	}
	return op, chat.Reply{}, true
}

// allow is the gate's role check for an operator known already: the
// checks that depend on a command's arguments (a refund over the limit, a
// whole alert type silenced, a rule changed) ask it again with the higher
// role.
func (h *Handler) allow(op Operator, from chat.Identity, need Role, audit, shown string) (chat.Reply, bool) {
	if op.Role >= need {
		return chat.Reply{}, true
	}
	h.refuse(from, op, audit)
	return chat.Reply{Text: chat.T(h.lang, "not_allowed", op.Role, shown)}, false
}

// refuse logs and audits an action someone was not allowed to take, and
// reports whether to answer it. A stranger is audited under their platform
// id, since they have no name here, and at most once a minute (see
// strangerGate); operators always.
func (h *Handler) refuse(id chat.Identity, op Operator, what string) bool {
	if r := []rune(what); len(r) > maxAuditWhat { // a stranger's command can be a page long
		what = string(r[:maxAuditWhat]) + "…"
	}
	name, detail := op.Name, "role "+op.Role.String()
	if name == "" {
		name = "unknown:" + id.UserID
		audit, mine, others := h.strangers.admit(id.Platform+":"+id.UserID, h.now())
		if !audit {
			return false
		}
		if mine > 0 {
			detail += fmt.Sprintf("; %d more refused, not audited one by one", mine)
		}
		if others > 0 {
			detail += fmt.Sprintf("; %d refusals of other strangers not audited", others)
		}
	}
	h.log.Warn().Str("platform", id.Platform).Str("user_id", id.UserID).Str("operator", op.Name).
		Str("what", what).Msg("operator action refused")
	if err := h.engine.Audit(storage.AuditEntry{Actor: storage.Actor{Name: name, Platform: id.Platform},
		Action: what, Outcome: "refused", Detail: detail}); err != nil {
		h.log.Error().Err(err).Msg("audit refused action failed")
	}
	return true
}

// maxAuditWhat bounds what a refusal records of the command or button.
const maxAuditWhat = 64
