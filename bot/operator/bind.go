package operator

import (
	"context"
	"errors"
	"strings"

	"cardflow/bot/bind"
	"cardflow/bot/chat"
	"cardflow/config"
	"cardflow/storage"
)

// Binding chat identities to operators. Telegram user ids are written in
// the config; QQ's openids are not known in advance (per bot, per group),
// so an admin issues a one-time code for a configured operator — "/bind
// alice" on Telegram or the console, or the admin API — and alice types
// "/bind CODE" in the QQ group. From then on that identity is alice, with
// alice's role from the config.

// bindingPlatforms are the platforms where /bind CODE binds an identity.
var bindingPlatforms = map[string]bool{"qq": true}

// identityKey is how a bound identity is stored: "qq:GROUP/MEMBER".
func identityKey(id chat.Identity) string { return id.Platform + ":" + id.UserID }

// cmdBind is /bind: on a binding platform anyone may use a code (that is
// how strangers become operators); elsewhere an admin issues a code for a
// configured operator, in a private chat only: a code posted in a group
// could be used by anyone there first.
func (h *Handler) cmdBind(_ context.Context, _ Operator, m chat.Message, args []string) chat.Reply {
	id := m.From
	if bindingPlatforms[id.Platform] {
		if len(args) == 0 {
			return chat.Reply{Text: chat.T(h.lang, "usage", "/bind <CODE>")}
		}
		if !h.strangers.bindAttempt(id.Platform+":"+id.UserID, h.now()) {
			return chat.Reply{Text: chat.T(h.lang, "bind_wait")}
		}
		// "/bind abcde fghij klmno": a code typed in groups.
		name, err := h.bindings.Bind(storage.Actor{Name: "unknown:" + id.UserID, Platform: id.Platform}, identityKey(id),
			strings.Join(args, ""))
		switch {
		case errors.Is(err, bind.ErrBadCode):
			return chat.Reply{Text: chat.T(h.lang, "bind_bad")}
		case err != nil:
			return h.errorReply("", err)
		}
		return chat.Reply{Text: chat.T(h.lang, "bind_ok", name, h.roster[name])}
	}
	op, r, ok := h.gate(id, RoleAdmin, "/bind", "/bind")
	if !ok {
		return r
	}
	if len(args) != 1 {
		return h.commands.usage(h.lang, "bind")
	}
	if !m.Private {
		return chat.Reply{Text: chat.T(h.lang, "bind_private")}
	}
	name := args[0]
	if _, known := h.roster[name]; !known {
		return chat.Reply{Text: chat.T(h.lang, "bind_unknown_operator", chat.Untrusted(name))}
	}
	code, expires, err := h.bindings.Issue(actor(op, id), name)
	if err != nil {
		return h.errorReply("", err)
	}
	return chat.Reply{Text: chat.T(h.lang, "bind_code", name, code, expires.In(h.loc).Format("15:04"))}
}

// cmdUnbind is /unbind <operator> (admins): the chat identities bound to
// the operator are strangers again, and their unused codes bind nobody.
// It works for a name since removed from the config too: a binding left
// behind would come back to life if the name were configured again.
func (h *Handler) cmdUnbind(_ context.Context, op Operator, m chat.Message, args []string) chat.Reply {
	id := m.From
	if len(args) != 1 {
		return h.commands.usage(h.lang, "unbind")
	}
	n, err := h.bindings.Unbind(actor(op, id), args[0])
	if err != nil {
		return h.errorReply("", err)
	}
	return chat.Reply{Text: chat.T(h.lang, "unbound", chat.Untrusted(args[0]), n)}
}

// Bound finds the operators who bound a chat identity with /bind; their
// role is the config's.
type Bound struct {
	bindings interface {
		BoundOperator(identity string) (string, bool)
	}
	roles map[string]Role
}

// NewBound builds the authorizer of bound identities (bind.Bindings knows
// them).
func NewBound(bindings interface {
	BoundOperator(identity string) (string, bool)
}, ops []config.Operator) *Bound {
	return &Bound{bindings: bindings, roles: Roster(ops)}
}

// Operator implements Authorizer.
func (b *Bound) Operator(id chat.Identity) (Operator, bool) {
	if !bindingPlatforms[id.Platform] {
		return Operator{}, false
	}
	name, ok := b.bindings.BoundOperator(identityKey(id))
	if !ok {
		return Operator{}, false
	}
	role, ok := b.roles[name]
	if !ok { // bound once, since removed from the config
		return Operator{}, false
	}
	return Operator{Name: name, Role: role}, true
}

// Roster maps each configured operator to their role.
func Roster(ops []config.Operator) map[string]Role {
	r := make(map[string]Role, len(ops))
	for _, op := range ops {
		r[op.Name] = roleOf(op.Role)
	}
	return r
}
