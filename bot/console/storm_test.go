package console

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"testing"
	"time"

	"cardflow/alert"
	"cardflow/bot/pager"
	"cardflow/internal/testkit"
	"cardflow/storage"

	"github.com/rs/zerolog"
)

// TestAStormOfReviewPromptsIsFoldedIntoADigest: the console's sender, with
// the options cmd/cardflow gives it, prints a first review prompt at once;
// thirty more raised right after it go out as digests within the console's
// budget of PerMinute messages, and together the messages cover every
// prompt.
func TestAStormOfReviewPromptsIsFoldedIntoADigest(t *testing.T) {
	f := newFixture(t)
	b := f.bot("")
	s := run(t, b)
	sender := pager.NewSender(b, f.store, pager.SenderOptions{Dest: Dest, Chat: Dest, Channel: s.console, PerMinute: PerMinute})
	notifier := pager.NewNotifier(b, f.store, []string{Dest}, pager.AlertPolicy{}, nil, sender.Kick, zerolog.Nop())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { sender.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	raise := func(id uint64) {
		t.Helper()
		a := storage.Alert{Key: fmt.Sprintf("review:%d", id), Type: alert.Review, OrderID: id, SKU: "qb-10", Detail: "rule:large-order"}
		if err := notifier.Deliver(ctx, &storage.Event{Alert: &a}); err != nil {
			t.Fatal(err)
		}
	}

	raise(1)
	s.waitOutput(t, "🔍 订单 #1（qb-10）待审核")
	const storm = 30
	start := time.Now()
	for id := uint64(2); id <= storm+1; id++ {
		raise(id)
	}
	took := time.Since(start)
	testkit.Eventually(t, "the console queue drained", func() bool {
		n := 0
		_ = f.store.View(func(tx *storage.Tx) error { n = tx.Chat().Count(Dest); return nil })
		return n == 0
	})

	out := s.out.String()
	prompts := len(regexp.MustCompile(`(?m)^🔍 订单 #\d+（qb-10）待审核`).FindAllString(out, -1))
	covered, messages := prompts, prompts
	for _, m := range regexp.MustCompile(`(?m)^🔍 (\d+) 笔订单待审核：`).FindAllStringSubmatch(out, -1) {
		n, _ := strconv.Atoi(m[1])
		covered += n
		messages++
	}
	if covered != storm+1 {
		t.Fatalf("%d review prompts became console messages covering %d:\n%s", storm+1, covered, out)
	}
	// The first prompt, then one message per PerMinute slot the storm took
	// to raise, and one for what piled up in the last slot.
	if most := 2 + int(took/(time.Minute/PerMinute)); messages > most {
		t.Errorf("%d review prompts raised in %v were printed as %d messages, want at most %d (digests):\n%s",
			storm+1, took, messages, most, out)
	}
}
