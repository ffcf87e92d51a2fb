package operator

import (
	"context"
	"crypto/rand"
	"strings"
	"sync"
	"time"

	"cardflow/bot/chat"
	"cardflow/storage"
)

// A typed refund or reissue of a delivered order (money back, or new cards,
// after the sale) is the one action where a mistyped reference costs real
// money, so it is done in two steps: the command shows the order — its
// storefront, external id, amount and delivery — with a Confirm button
// (data "c:<code>", typed as "/confirm <code>" where there are no buttons),
// and only the confirmation acts. A confirmation is for the operator who
// asked, for confirmTTL, once, and only while the order is still delivered
// and unchanged since it was shown: the engine checks that inside the
// write.
// Confirmations live in memory: a restart forgets them, and the operator
// types the command again.

const (
	confirmTTL  = 10 * time.Minute
	maxConfirms = 256
	confirmLen  = 6
)

type confirmation struct {
	action      string // refund | reissue
	orderID     uint64
	transitions int // the order's history when shown: it only grows
	note        string
	operator    string
	expires     time.Time
}

type confirmations struct {
	mu sync.Mutex
	m  map[string]confirmation
}

func newConfirmations() *confirmations { return &confirmations{m: map[string]confirmation{}} }

// add keeps c under a fresh code, forgetting expired ones (and the oldest
// when full).
func (cs *confirmations) add(c confirmation, now time.Time) (string, error) {
	code, err := confirmCode()
	if err != nil {
		return "", err
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	var oldest string
	for k, v := range cs.m {
		if !now.Before(v.expires) {
			delete(cs.m, k)
		} else if oldest == "" || v.expires.Before(cs.m[oldest].expires) {
			oldest = k
		}
	}
	if len(cs.m) >= maxConfirms {
		delete(cs.m, oldest)
	}
	cs.m[code] = c
	return code, nil
}

// get finds a live confirmation; take also removes it, so only one caller
// ever acts on it.
func (cs *confirmations) get(code string, now time.Time, take bool) (confirmation, bool) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	c, ok := cs.m[code]
	if ok && take || ok && !now.Before(c.expires) {
		delete(cs.m, code)
	}
	return c, ok && now.Before(c.expires)
}

func confirmCode() (string, error) {
	const alphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
	b := make([]byte, 0, confirmLen)
	buf := make([]byte, 2*confirmLen)
	for len(b) < confirmLen {
		if _, err := rand.Read(buf); err != nil {
			return "", err
		}
		for _, c := range buf {
			if c < 248 && len(b) < confirmLen { // 248 = 8×31: no modulo bias
				b = append(b, alphabet[int(c)%len(alphabet)])
			}
		}
	}
	return string(b), nil
}

// askConfirm answers a typed refund or reissue of a delivered order with
// the order and a Confirm button.
func (h *Handler) askConfirm(op Operator, id chat.Identity, action string, o *storage.Order, note string) chat.Reply {
	if r, refused := h.overLimit(op, id, action, o); refused {
		return r
	}
	now := h.now()
	code, err := h.confirms.add(confirmation{action: action, orderID: o.ID, transitions: len(o.History), note: note,
		operator: op.Name, expires: now.Add(confirmTTL)}, now)
	if err != nil {
		return h.errorReply("", err)
	}
	lines := []string{chat.T(h.lang, "confirm_"+action, o.ID), chat.T(h.lang, "confirm_order", chat.Untrusted(o.Storefront),
		chat.Untrusted(o.ExternalID), o.Amount, h.clock(o.DeliveredAt))}
	if note != "" {
		lines = append(lines, chat.T(h.lang, "confirm_note", chat.Untrusted(note)))
	}
	lines = append(lines, chat.T(h.lang, "confirm_hint", int(confirmTTL/time.Minute), op.Name))
	return chat.Reply{Text: strings.Join(lines, "\n"),
		Buttons: []chat.Button{{Label: chat.T(h.lang, "btn_confirm_"+action, o.ID), Data: button{kind: btnConfirm, name: code}.encode()}}}
}

// confirmRoles are the roles of the commands a confirmation finishes.
var confirmRoles = map[string]Role{"refund": RoleOperator, "reissue": RoleAdmin}

// cmdConfirm is "/confirm <code>", the typed form of a Confirm button.
func (h *Handler) cmdConfirm(_ context.Context, op Operator, m chat.Message, args []string) chat.Reply {
	id := m.From
	if len(args) != 1 {
		return h.commands.usage(h.lang, "confirm")
	}
	return h.confirm(op, id, strings.ToUpper(args[0]))
}

// confirm acts on a confirmation, once.
func (h *Handler) confirm(op Operator, id chat.Identity, code string) chat.Reply {
	now := h.now()
	c, ok := h.confirms.get(code, now, false)
	if !ok {
		return chat.Reply{Text: chat.T(h.lang, "confirm_gone")}
	}
	if c.operator != op.Name {
		return chat.Reply{Text: chat.T(h.lang, "confirm_not_yours", c.operator)}
	}
	if r, ok := h.allow(op, id, confirmRoles[c.action], "/"+c.action, "/"+c.action); !ok {
		return r
	}
	if c, ok = h.confirms.get(code, now, true); !ok {
		return chat.Reply{Text: chat.T(h.lang, "confirm_gone")}
	}
	o, err := h.engine.Order(c.orderID)
	if err != nil {
		return h.errorReply("", err)
	}
	if r, refused := h.overLimit(op, id, c.action, o); refused {
		return r
	}
	if c.action == "refund" {
		_, err = h.engine.RefundDelivered(actor(op, id), c.orderID, c.note, c.transitions)
	} else {
		_, err = h.engine.ReissueDelivered(actor(op, id), c.orderID, c.transitions)
	}
	return h.done(op, c.action, c.orderID, err)
}
