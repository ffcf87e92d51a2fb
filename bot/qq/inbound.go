package qq

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"cardflow/alert"
	"cardflow/bot/chat"
	"cardflow/bot/operator"
	"cardflow/storage"
)

// maxAttempts is how many times handling one stored event may begin. A
// recovered panic ends its handling at once (the same input would panic
// again); a process that died while handling it is counted at the next
// start, and the event is set aside once it has begun this often.
const maxAttempts = 3

// alertKey is the alert raised when an event is set aside.
const alertKey = string(alert.InboundParked) + ":qq"

// Run acts on stored inbound events until ctx ends: at once when woken,
// and every Options.Look regardless.
func (a *Adapter) Run(ctx context.Context) error {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	look := time.NewTicker(a.look)
	defer look.Stop()
	for ctx.Err() == nil {
		a.drain(ctx)
		select {
		case <-ctx.Done():
		case <-a.wake:
		case <-look.C:
		case <-t.C:
			a.sweep()
			_ = a.store.Update(func(tx *storage.Tx) error {
				if _, err := tx.Inbound().Forget(a.now(), 10000); err != nil {
					return err
				}
				if _, err := tx.ReplyWindows().Sweep(a.now(), repliesPerMsg); err != nil {
					return err
				}
				_, err := tx.Inbound().PurgeParked(a.now())
				return err
			})
		}
	}
	return nil
}

// drain handles every stored event, oldest first, and takes each off the
// queue once handled. A crash in between handles it again: commands and
// presses are checked against the order's state, so the second time is
// refused as "already done".
func (a *Adapter) drain(ctx context.Context) {
	for ctx.Err() == nil {
		type item struct {
			seq  uint64
			body []byte
		}
		var items []item
		_ = a.store.View(func(tx *storage.Tx) error {
			tx.Inbound().Stored(50, func(seq uint64, body []byte) { items = append(items, item{seq, body}) })
			return nil
		})
		if len(items) == 0 {
			return
		}
		for _, it := range items {
			if !a.handleStored(ctx, it.seq, it.body) {
				return
			}
		}
	}
}

// handleStored handles one stored event — or sets it aside when its
// handling began too often already or panicked — and takes it off the
// queue. It reports false when the store failed (the drain stops; the
// event is tried again later).
func (a *Adapter) handleStored(ctx context.Context, seq uint64, body []byte) bool {
	var attempts int
	var begin bool
	err := a.store.Update(func(tx *storage.Tx) error {
		var err error
		attempts, begin, err = tx.Inbound().Begin(seq, maxAttempts)
		return err
	})
	if err != nil {
		a.log.Error().Err(err).Msg("count qq event attempt")
		return false
	}
	if attempts == 0 {
		return true // taken off the queue meanwhile
	}
	if !begin {
		ev, in := a.describe(body)
		a.handler.Failed(in, operator.OutcomeFailed, fmt.Sprintf("handling began %d times without finishing", maxAttempts))
		if ev.window != nil { // the sender may still be waiting: answer in the event's own window
			a.openWindow(ev.chat, ev.window)
			a.replyInternal(ev.chat)
		}
		return a.setAside(seq, ev.typ, "the process stopped while handling it")
	}
	ev, in := a.describe(body)
	panicked, err := a.handle(ctx, body)
	switch {
	case panicked:
		return a.setAside(seq, ev.typ, "handling it panicked")
	case err != nil:
		a.log.Warn().Err(err).Str("event", in.Ref).Msg("qq event dropped")
	}
	if err := a.store.Update(func(tx *storage.Tx) error { return tx.Inbound().Ack(seq) }); err != nil {
		a.log.Error().Err(err).Msg("ack qq event")
		return false
	}
	a.resolveAlert()
	return true
}

// setAside parks an event (kept for inspection, off the queue) and tells
// the operators.
func (a *Adapter) setAside(seq uint64, typ, why string) bool {
	if err := a.store.Update(func(tx *storage.Tx) error { return tx.Inbound().Park(seq, why, a.now()) }); err != nil {
		a.log.Error().Err(err).Msg("park qq event")
		return false
	}
	a.log.Warn().Uint64("seq", seq).Str("type", typ).Str("why", why).Msg("qq event set aside")
	if a.alert == nil {
		return true
	}
	if err := a.alert(storage.Alert{Key: alertKey, Type: alert.InboundParked, Target: "QQ", Detail: typ}); err != nil {
		a.log.Error().Err(err).Msg("raise qq event alert")
		return true
	}
	a.mu.Lock()
	open := true
	a.alerting = &open
	a.mu.Unlock()
	return true
}

// resolveAlert closes the set-aside alert once an event is handled again.
func (a *Adapter) resolveAlert() {
	if a.alert == nil {
		return
	}
	a.mu.Lock()
	if a.alerting == nil { // first event since start: is it open from before?
		open := false
		_ = a.store.View(func(tx *storage.Tx) error { open = tx.Alerts().Open(alertKey); return nil })
		a.alerting = &open
	}
	open := *a.alerting
	a.mu.Unlock()
	if !open {
		return
	}
	if err := a.alert(storage.Alert{Key: alertKey, Type: alert.InboundParked, Target: "QQ", Resolved: true}); err != nil {
		a.log.Error().Err(err).Msg("resolve qq event alert")
		return
	}
	a.mu.Lock()
	*a.alerting = false
	a.mu.Unlock()
}

// event is what the adapter reads from a stored event before acting on it.
type event struct {
	id, typ string
	chat    string // "group:OPENID" or "c2c:OPENID"; "" when unknown
	from    chat.Identity
	window  *window // the reply window the event opens; nil when it opens none
}

// describe reads an event's id, type, chat, sender and reply window, for
// the record and for an answer; what it cannot read stays empty.
func (a *Adapter) describe(body []byte) (event, *operator.Inbound) {
	var p struct {
		ID   string `json:"id"`
		Type string `json:"t"`
		D    struct {
			ID                string `json:"id"`
			GroupOpenID       string `json:"group_openid"`
			UserOpenID        string `json:"user_openid"`
			GroupMemberOpenID string `json:"group_member_openid"`
			Author            struct {
				MemberOpenID string `json:"member_openid"`
				UserOpenID   string `json:"user_openid"`
			} `json:"author"`
		} `json:"d"`
	}
	_ = json.Unmarshal(body, &p)
	ev := event{id: p.ID, typ: p.Type, from: chat.Identity{Platform: "qq"}}
	member, user := p.D.Author.MemberOpenID, p.D.Author.UserOpenID
	if p.Type == "INTERACTION_CREATE" {
		member, user = p.D.GroupMemberOpenID, p.D.UserOpenID
	}
	expires := c2cWindow
	switch {
	case p.D.GroupOpenID != "":
		ev.chat, ev.from.UserID, expires = "group:"+p.D.GroupOpenID, p.D.GroupOpenID+"/"+member, groupWindow
	case user != "":
		ev.chat, ev.from.UserID = "c2c:"+user, "c2c/"+user
	}
	switch {
	case ev.chat == "":
	case p.Type == "INTERACTION_CREATE" && p.ID != "":
		ev.window = &window{eventID: p.ID, expires: a.now().Add(expires)}
	case (p.Type == "GROUP_AT_MESSAGE_CREATE" || p.Type == "C2C_MESSAGE_CREATE") && p.D.ID != "":
		ev.window = &window{msgID: p.D.ID, expires: a.now().Add(expires)}
	}
	return ev, &operator.Inbound{From: ev.from, Ref: "qq:" + ev.id}
}
