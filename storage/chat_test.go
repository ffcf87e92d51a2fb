package storage

import (
	"fmt"
	"testing"
	"time"

	"cardflow/internal/testkit"
)

// TestChatQueueFoldsItsOldestIntoOneSummary: a queue that grows past
// MaxChatQueue keeps that many messages: one summary at the front, counting
// every message folded into it (a summary folded into a summary keeps its
// count), then the newest messages in order. Other chats' queues are not
// touched.
func TestChatQueueFoldsItsOldestIntoOneSummary(t *testing.T) {
	s := testkit.NewStore(t, openTest)
	at := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	queue := func(dest string, n int) {
		t.Helper()
		if err := s.Update(func(tx *Tx) error {
			for i := range n {
				if err := tx.Chat().Queue(&ChatMessage{Dest: dest, AlertType: "review", Text: fmt.Sprintf("%s %d", dest, i),
					CreatedAt: at.Add(time.Duration(i) * time.Second)}); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	pending := func(dest string) []ChatMessage {
		t.Helper()
		var msgs []ChatMessage
		if err := s.View(func(tx *Tx) error {
			var err error
			msgs, err = tx.Chat().Pending(dest, 10*MaxChatQueue)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return msgs
	}
	queue("qq:group:G", MaxChatQueue)
	queue("telegram:1", 3)
	if msgs := pending("qq:group:G"); len(msgs) != MaxChatQueue || msgs[0].Folded != 0 {
		t.Fatalf("a full queue was folded: %d messages, first folds %d", len(msgs), msgs[0].Folded)
	}
	queue("qq:group:G", 30)
	queue("qq:group:G", 45) // a second overflow folds into the same summary
	msgs := pending("qq:group:G")
	if len(msgs) != MaxChatQueue {
		t.Fatalf("%d messages queued, want %d", len(msgs), MaxChatQueue)
	}
	if s := msgs[0]; s.Folded != 76 || s.Text != "" || s.AlertType != "" || !s.CreatedAt.Equal(at) {
		t.Fatalf("summary = %+v, want 76 folded, dated by the oldest", s)
	}
	if last := msgs[len(msgs)-1].Text; last != "qq:group:G 44" {
		t.Errorf("newest = %q", last)
	}
	if first := msgs[1].Text; first != "qq:group:G 76" {
		t.Errorf("oldest kept = %q, want message 76 of the first batch", first)
	}
	if other := pending("telegram:1"); len(other) != 3 || other[0].Folded != 0 {
		t.Errorf("another chat's queue changed: %+v", other)
	}
}
