package storage

import (
	"bytes"
	"cardflow/alert"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"
)

// ChatTx is the chat queues seen in one
// transaction (Tx.Chat).
type ChatTx struct{ t *Tx }

// Chat returns the chat queues of this transaction.
func (t *Tx) Chat() ChatTx { return ChatTx{t} }

// Chat queues: what the operator layer has to say on each chat. Chat
// messages wait here, durably, until the platform took them; a chat outage
// delays them and never loses them. (How each alert stands, and silences,
// are in alerts.go.)
//
// A chat that never takes anything (a QQ group where nobody opens a reply
// window) must not grow its queue for ever: beyond MaxChatQueue messages
// the oldest are folded into one summary at the front of the queue, which
// says how many there were. Every kind of message may be folded, because
// none is the only copy of what it says: review prompts and failed orders
// stay in their queues (/pending), an alert still open is said again after
// its repeat interval from its durable state, a resolution only closes
// one, and the daily report is /report.

// ChatButton is a button of a queued chat message.
type ChatButton struct {
	Label string `json:"label"`
	Data  string `json:"data"`
}

// ChatMessage is one message waiting for a chat ("telegram:-1001234", "console").
type ChatMessage struct {
	Seq       uint64       `json:"seq"`
	Dest      string       `json:"dest"`
	AlertKey  string       `json:"alert_key,omitempty"`
	AlertType alert.Kind   `json:"alert_type,omitempty"`
	Resolved  bool         `json:"resolved,omitempty"`
	OrderID   uint64       `json:"order_id,omitempty"`
	Text      string       `json:"text"`
	Buttons   []ChatButton `json:"buttons,omitempty"`
	CreatedAt time.Time    `json:"created_at"`
	// ChartFrom and ChartTo, when set, ask for the chart of that period to
	// go with the text (the daily report); it is drawn when sent.
	ChartFrom time.Time `json:"chart_from,omitzero"`
	ChartTo   time.Time `json:"chart_to,omitzero"`
	// Folded, when set, makes this message the summary of that many
	// messages folded out of an overfull queue; the operator layer writes
	// its text when it is sent.
	Folded int `json:"folded,omitempty"`
}

// MaxChatQueue is how many messages one chat's queue holds, its summary of
// folded messages included.
const MaxChatQueue = 500

func chatKey(dest string, seq uint64) []byte {
	k := append([]byte(dest), 0)
	return binary.BigEndian.AppendUint64(k, seq)
}

// Queue appends a message to its chat's queue.
func (view ChatTx) Queue(m *ChatMessage) error {
	t := view.t
	b := t.appending(bucketChat)
	seq, err := b.NextSequence()
	if err != nil {
		return fmt.Errorf("allocate chat seq: %w", err)
	}
	m.Seq = seq
	v, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode chat message: %w", err)
	}
	if err := b.Put(chatKey(m.Dest, seq), v); err != nil {
		return fmt.Errorf("queue chat message: %w", err)
	}
	return view.fold(m.Dest)
}

// fold folds the oldest messages of an overfull queue into a summary
// at its front (the oldest message's place), so that MaxChatQueue remain.
func (view ChatTx) fold(dest string) error {
	t := view.t
	b := t.tx.Bucket(bucketChat)
	prefix := append([]byte(dest), 0)
	var keys [][]byte
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		keys = append(keys, append([]byte(nil), k...))
	}
	over := len(keys) - MaxChatQueue
	if over <= 0 {
		return nil
	}
	var summary ChatMessage
	if err := json.Unmarshal(b.Get(keys[0]), &summary); err != nil {
		return fmt.Errorf("decode chat message: %w", err)
	}
	if summary.Folded == 0 { // the oldest message becomes the summary
		summary = ChatMessage{Seq: summary.Seq, Dest: dest, CreatedAt: summary.CreatedAt, Folded: 1}
	}
	for _, k := range keys[1 : 1+over] {
		var m ChatMessage
		if err := json.Unmarshal(b.Get(k), &m); err != nil {
			return fmt.Errorf("decode chat message: %w", err)
		}
		summary.Folded += max(m.Folded, 1)
	}
	if err := deleteKeys(b, keys[1:1+over], "fold chat message"); err != nil {
		return err
	}
	v, err := json.Marshal(summary)
	if err != nil {
		return fmt.Errorf("encode chat summary: %w", err)
	}
	if err := b.Put(keys[0], v); err != nil {
		return fmt.Errorf("write chat summary: %w", err)
	}
	return nil
}

// Pending returns up to limit messages waiting for dest, oldest first.
func (view ChatTx) Pending(dest string, limit int) ([]ChatMessage, error) {
	t := view.t
	var out []ChatMessage
	prefix := append([]byte(dest), 0)
	c := t.tx.Bucket(bucketChat).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && len(out) < limit; k, v = c.Next() {
		var m ChatMessage
		if err := json.Unmarshal(v, &m); err != nil {
			return nil, fmt.Errorf("decode chat message: %w", err)
		}
		out = append(out, m)
	}
	return out, nil
}

// Count is how many messages wait for dest.
func (view ChatTx) Count(dest string) int {
	t := view.t
	n := 0
	prefix := append([]byte(dest), 0)
	c := t.tx.Bucket(bucketChat).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		n++
	}
	return n
}

// Ack removes messages a chat has taken.
func (view ChatTx) Ack(dest string, seqs []uint64) error {
	t := view.t
	b := t.tx.Bucket(bucketChat)
	for _, s := range seqs {
		if err := b.Delete(chatKey(dest, s)); err != nil {
			return fmt.Errorf("ack chat message: %w", err)
		}
	}
	return nil
}
