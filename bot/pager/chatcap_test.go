package pager

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"cardflow/alert"
	"cardflow/internal/testkit"
	"cardflow/storage"
)

// TestASilentChatsQueueIsCappedAndItsOverflowSummarised: a chat that never
// takes a message (a QQ group where nobody opens a reply window) used to
// pile up every prompt for ever. 1,200 review prompts are raised for it;
// the queue keeps the newest and folds the oldest into one summary that
// says how many there were and points at /pending. When the chat finally
// takes messages, the summary and the digests together account for every
// prompt, in fewer than a dozen messages.
func TestASilentChatsQueueIsCappedAndItsOverflowSummarised(t *testing.T) {
	const raised = 1200
	store, clock, w := newStore(t)
	n := NewNotifier(w, store, []string{"test:1"}, AlertPolicy{RepeatInterval: time.Hour}, clock.Now, nil, zerolog.Nop())
	for i := 1; i <= raised; i++ {
		a := storage.Alert{Key: fmt.Sprintf("review:%d", i), Type: alert.Review, OrderID: uint64(i), SKU: "qb-10", Detail: "rule:large-order"}
		if err := n.Deliver(context.Background(), &storage.Event{Alert: &a}); err != nil {
			t.Fatal(err)
		}
	}
	queued := func() int {
		k := 0
		_ = store.View(func(tx *storage.Tx) error { k = tx.Chat().Count("test:1"); return nil })
		return k
	}
	if k := queued(); k >= raised/2 {
		t.Fatalf("%d of %d prompts queued for a silent chat; want the overflow folded", k, raised)
	}

	ch := newFakeChannel()
	s := NewSender(w, store, SenderOptions{Dest: "test:1", Chat: "1", Channel: ch})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	testkit.Eventually(t, "the queue drained", func() bool { return queued() == 0 })

	folded, covered := 0, 0
	for _, text := range ch.texts() {
		for _, line := range strings.Split(text, "\n") {
			var k int
			if _, err := fmt.Sscanf(strings.TrimSpace(line), "📭 另有 %d 条", &k); err == nil {
				folded += k
				if !strings.Contains(line, "/pending") {
					t.Errorf("the summary does not point at /pending: %q", line)
				}
			}
			if _, err := fmt.Sscanf(line, "🔍 %d 笔订单待审核", &k); err == nil {
				covered += k
			}
		}
	}
	if folded == 0 || folded+covered != raised {
		t.Fatalf("folded %d + delivered %d prompts, want a summary and %d in all:\n%s", folded, covered, raised,
			strings.Join(ch.texts(), "\n---\n"))
	}
	if sent := len(ch.texts()); sent > 12 {
		t.Errorf("%d messages; the digests should fold the queue", sent)
	}
}
