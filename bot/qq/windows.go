package qq

import (
	"cardflow/storage"
)

// The configured groups' reply windows are kept in the store, not in this
// process's memory: they are where alerts and review prompts go, and after
// a restart, or when another process takes over the sending, those go out
// on the window an operator opened before, not only after the next message.
// Each reply's msg_seq is taken in the store before the reply is sent, so
// that two processes sending at once (one frozen past its lease) never give
// two replies one number, which QQ would drop as a repeat. Other chats'
// windows (operators' C2C chats, strangers) stay in memory (chats.go): an
// answer there goes out in the window of the message it answers.

// openWindow makes w chat's reply window.
func (a *Adapter) openWindow(chatID string, w *window) {
	if !a.configured[chatID] {
		a.mu.Lock()
		a.setWindow(chatID, w)
		a.mu.Unlock()
		return
	}
	err := a.store.Update(func(tx *storage.Tx) error {
		return tx.ReplyWindows().Open(chatID, storage.ReplyWindow{MsgID: w.msgID, EventID: w.eventID, Expires: w.expires, Used: w.used})
	})
	if err != nil {
		a.log.Error().Err(err).Str("chat", chatID).Msg("store qq reply window")
	}
}

// takeStored reserves the next reply on a configured group's window. It
// looks first, so that a chat without an open window costs no write.
func (a *Adapter) takeStored(chatID string) (msgID, eventID string, seq uint32, ok bool) {
	now := a.now()
	var open bool
	err := a.store.View(func(tx *storage.Tx) error {
		w, found, err := tx.ReplyWindows().Get(chatID)
		open = found && now.Before(w.Expires) && w.Used < repliesPerMsg
		return err
	})
	if err == nil && open {
		var w storage.ReplyWindow
		err = a.store.Update(func(tx *storage.Tx) error {
			var err error
			w, ok, err = tx.ReplyWindows().Take(chatID, now, repliesPerMsg)
			return err
		})
		if err == nil {
			return w.MsgID, w.EventID, w.Used, ok
		}
	}
	if err != nil {
		a.log.Warn().Err(err).Str("chat", chatID).Msg("qq reply window not read; the message waits")
	}
	return "", "", 0, false
}

// spendStored marks a configured group's window used up, if it is still
// the one replied to.
func (a *Adapter) spendStored(chatID, msgID, eventID string) {
	err := a.store.Update(func(tx *storage.Tx) error {
		return tx.ReplyWindows().Spend(chatID, storage.ReplyWindow{MsgID: msgID, EventID: eventID}, repliesPerMsg)
	})
	if err != nil {
		a.log.Warn().Err(err).Str("chat", chatID).Msg("mark qq reply window spent")
	}
}
