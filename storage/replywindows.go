package storage

import (
	"encoding/json"
	"fmt"
	"time"
)

// Some chat platforms (QQ) let a bot speak only in reply: to an inbound
// message or a click, for a few minutes and a few replies, each reply
// numbered (msg_seq) so that the platform can drop a repeat. The freshest
// such handle of a chat that alerts go to is kept here rather than in the
// memory of the process that saw it, so that a restart, or another process
// taking over the chat's sending, can go on replying on it. Each reply's number is
// taken in a write of its own before the reply is sent: two processes that
// both believe they send (one of them frozen past its lease) never number
// two different replies alike, which the platform would take for a repeat
// and drop.

// ReplyWindow is a handle a bot may reply to: an inbound message's id or
// a click's event id, until Expires, with Used replies taken on it.
type ReplyWindow struct {
	MsgID   string    `json:"msg_id,omitempty"`
	EventID string    `json:"event_id,omitempty"`
	Expires time.Time `json:"expires"`
	Used    uint32    `json:"used"`
}

// same says whether w and o are one handle.
func (w ReplyWindow) same(o ReplyWindow) bool { return w.MsgID == o.MsgID && w.EventID == o.EventID }

// ReplyWindowTx is the reply windows seen in one transaction
// (Tx.ReplyWindows).
type ReplyWindowTx struct{ t *Tx }

// ReplyWindows returns the reply windows of this transaction.
func (t *Tx) ReplyWindows() ReplyWindowTx { return ReplyWindowTx{t} }

// Get returns chat's window; false if it has none. A record that does not
// decode is an error, and the next Open replaces it.
func (view ReplyWindowTx) Get(chat string) (ReplyWindow, bool, error) {
	v := view.t.tx.Bucket(bucketReplyWindows).Get([]byte(chat))
	if v == nil {
		return ReplyWindow{}, false, nil
	}
	var w ReplyWindow
	if err := json.Unmarshal(v, &w); err != nil {
		return ReplyWindow{}, false, fmt.Errorf("reply window of %q: %w", chat, err)
	}
	return w, true, nil
}

func (view ReplyWindowTx) put(chat string, w ReplyWindow) error {
	v, err := json.Marshal(w)
	if err != nil {
		return err
	}
	if err := view.t.tx.Bucket(bucketReplyWindows).Put([]byte(chat), v); err != nil {
		return fmt.Errorf("write reply window: %w", err)
	}
	return nil
}

// Open makes w chat's window, in place of the one before: a newer
// message is the one to reply to. The same handle opened again (its event
// handled again after a crash) keeps the replies taken on it, so that no
// number is given twice. The caller bounds the chats it keeps windows of
// here (QQ: the configured groups).
func (view ReplyWindowTx) Open(chat string, w ReplyWindow) error {
	if old, ok, err := view.Get(chat); err == nil && ok && old.same(w) {
		w.Used = max(w.Used, old.Used)
	}
	return view.put(chat, w)
}

// Take takes the next reply on chat's window: the window with Used
// counting this reply, whose number it is. False if the chat has no
// window, or it expired by now, or limit replies were taken on it.
func (view ReplyWindowTx) Take(chat string, now time.Time, limit uint32) (ReplyWindow, bool, error) {
	w, ok, err := view.Get(chat)
	if err != nil || !ok || !now.Before(w.Expires) || w.Used >= limit {
		return ReplyWindow{}, false, err
	}
	w.Used++
	if err := view.put(chat, w); err != nil {
		return ReplyWindow{}, false, err
	}
	return w, true, nil
}

// Spend marks chat's window used up, if it is still handle's (the platform
// said it takes no more replies): a fresher one opened meanwhile is left
// alone.
func (view ReplyWindowTx) Spend(chat string, handle ReplyWindow, limit uint32) error {
	w, ok, err := view.Get(chat)
	if err != nil || !ok || !w.same(handle) || w.Used >= limit {
		return err
	}
	w.Used = limit
	return view.put(chat, w)
}

// Sweep deletes the windows that expired by now or have limit replies
// taken, and those that do not decode; it reports how many went.
func (view ReplyWindowTx) Sweep(now time.Time, limit uint32) (int, error) {
	b := view.t.tx.Bucket(bucketReplyWindows)
	var gone [][]byte
	err := b.ForEach(func(k, v []byte) error {
		var w ReplyWindow
		if json.Unmarshal(v, &w) != nil || !now.Before(w.Expires) || w.Used >= limit {
			gone = append(gone, k)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return len(gone), deleteKeys(b, gone, "reply window")
}
