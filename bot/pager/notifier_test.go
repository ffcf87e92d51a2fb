package pager

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"cardflow/alert"
	"cardflow/bot/chat"
	"cardflow/bot/operator"
	"cardflow/bot/silence"
	"cardflow/internal/periodic"
	"cardflow/internal/testkit"
	"cardflow/internal/teststore"
	"cardflow/storage"
)

// fakeChannel records what a chat platform was asked to do, and fails on
// demand: fail[i] is the error of the i-th call (nil: success).
type fakeChannel struct {
	mu    sync.Mutex
	calls int
	fail  map[int]error
	sent  []chat.Reply
	edits map[string]chat.Reply
}

func newFakeChannel() *fakeChannel {
	return &fakeChannel{fail: map[int]error{}, edits: map[string]chat.Reply{}}
}

func (c *fakeChannel) next() error {
	c.calls++
	return c.fail[c.calls]
}

func (c *fakeChannel) Send(_ string, r chat.Reply) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.next(); err != nil {
		return "", err
	}
	c.sent = append(c.sent, r)
	return fmt.Sprint(len(c.sent)), nil
}

func (c *fakeChannel) Edit(_, id string, r chat.Reply) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.next(); err != nil {
		return err
	}
	c.edits[id] = r
	return nil
}

func (c *fakeChannel) texts() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, r := range c.sent {
		out = append(out, r.Text)
	}
	return out
}

// newStore is a store on a clock at 2025-03-14 02:00 in Shanghai, and the
// operator layer's writer in Chinese.
func newStore(t *testing.T) (*storage.Store, *testkit.Clock, Writer) {
	t.Helper()
	return testkit.NewStore(t, teststore.Open), testkit.NewClock(time.Date(2025, 3, 14, 2, 0, 0, 0, chat.Shanghai())),
		operator.New(operator.Options{Log: zerolog.Nop()})
}

// notifyFixture is a Notifier and one Sender over a fake channel.
type notifyFixture struct {
	store  *storage.Store
	clock  *testkit.Clock
	n      *Notifier
	ch     *fakeChannel
	sender *Sender
	cancel context.CancelFunc
	done   chan struct{}
}

func newNotifyFixture(t *testing.T, perMinute int) *notifyFixture {
	return newHeldNotifyFixture(t, perMinute, nil)
}

// newHeldNotifyFixture is newNotifyFixture whose sender, whenever it waits
// (a rate limit, the limiter, a retry), first waits for hold to close: a
// test can then raise a whole burst while the sender stands in its first
// wait, whatever the machine's speed.
func newHeldNotifyFixture(t *testing.T, perMinute int, hold <-chan struct{}) *notifyFixture {
	store, clock, w := newStore(t)
	nf := &notifyFixture{store: store, clock: clock, ch: newFakeChannel(), done: make(chan struct{})}
	nf.sender = NewSender(w, store, SenderOptions{Dest: "test:1", Chat: "1", Channel: nf.ch, PerMinute: perMinute})
	nf.sender.sleep = func(ctx context.Context, d time.Duration) error {
		if hold != nil {
			select {
			case <-hold:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return periodic.Sleep(ctx, min(d, 20*time.Millisecond))
	}
	nf.n = NewNotifier(w, store, []string{"test:1"}, AlertPolicy{RepeatInterval: time.Hour}, clock.Now, nf.sender.Kick, zerolog.Nop())
	ctx, cancel := context.WithCancel(context.Background())
	nf.cancel = cancel
	go func() { nf.sender.Run(ctx); close(nf.done) }()
	t.Cleanup(func() { cancel(); <-nf.done })
	return nf
}

func (nf *notifyFixture) raise(t *testing.T, a storage.Alert) {
	t.Helper()
	if err := nf.n.Deliver(context.Background(), &storage.Event{Alert: &a}); err != nil {
		t.Fatal(err)
	}
}

func (nf *notifyFixture) queued() int {
	n := 0
	_ = nf.store.View(func(tx *storage.Tx) error { n = tx.Chat().Count("test:1"); return nil })
	return n
}

func TestOneProblemIsOneMessageUntilTheRepeatInterval(t *testing.T) {
	nf := newNotifyFixture(t, 0)
	down := storage.Alert{Key: "supplier_down:fulu", Type: alert.SupplierDown, Target: "fulu"}
	for range 3 {
		nf.raise(t, down)
	}
	testkit.Eventually(t, "the first message", func() bool { return len(nf.ch.texts()) == 1 && nf.queued() == 0 })
	nf.clock.Advance(59 * time.Minute)
	nf.raise(t, down)
	if err := nf.n.Repeat(); err != nil {
		t.Fatal(err)
	}
	if got := len(nf.ch.texts()); got != 1 || nf.queued() != 0 {
		t.Fatalf("said again before the repeat interval: %d messages", got)
	}
	nf.clock.Advance(2 * time.Minute)
	if err := nf.n.Repeat(); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "the repeat", func() bool { return len(nf.ch.texts()) == 2 })
	if got := nf.ch.texts()[1]; !strings.HasPrefix(got, "（又发生 3 次）🔴 供货商 fulu") {
		t.Fatalf("repeat = %q", got)
	}
}

func TestResolvedAlertEditsItsOriginalMessage(t *testing.T) {
	nf := newNotifyFixture(t, 0)
	oos := storage.Alert{Key: "out_of_stock:qb-10", Type: alert.OutOfStock, SKU: "qb-10", OrderID: 3}
	nf.raise(t, oos)
	testkit.Eventually(t, "raised", func() bool { return len(nf.ch.texts()) == 1 && nf.queued() == 0 })
	oos.Resolved, oos.Count = true, 50
	nf.raise(t, oos)
	testkit.Eventually(t, "resolved", func() bool { nf.ch.mu.Lock(); defer nf.ch.mu.Unlock(); return len(nf.ch.edits) == 1 })
	if r := nf.ch.edits["1"]; r.Text != "✅ 已补货：qb-10 现有库存 50。" || len(r.Buttons) != 0 {
		t.Fatalf("edit = %+v", r)
	}
	nf.raise(t, oos) // resolving again: nothing to say
	if nf.queued() != 0 {
		t.Fatal("a second resolve queued a message")
	}
}

func TestResolveFallsBackToANewMessageWhenTheOriginalIsGone(t *testing.T) {
	nf := newNotifyFixture(t, 0)
	nf.ch.fail[2] = chat.ErrGone
	a := storage.Alert{Key: "low_stock:qb-10", Type: alert.LowStock, SKU: "qb-10", Count: 2}
	nf.raise(t, a)
	testkit.Eventually(t, "raised", func() bool { return nf.queued() == 0 && len(nf.ch.texts()) == 1 })
	a.Resolved = true
	nf.raise(t, a)
	testkit.Eventually(t, "resolution sent anew", func() bool { return len(nf.ch.texts()) == 2 })
}

func TestSilencedAlertsAreNotAnnounced(t *testing.T) {
	nf := newNotifyFixture(t, 0)
	if _, err := silence.New(nf.store, silence.Known{SKUs: []string{"qb-10", "qb-100"}}, nf.clock.Now).Silence(storage.Actor{Name: "alice"}, "low_stock", time.Hour); err != nil {
		t.Fatal(err)
	}
	nf.raise(t, storage.Alert{Key: "low_stock:qb-10", Type: alert.LowStock, SKU: "qb-10"})
	nf.raise(t, storage.Alert{Key: "low_stock:qb-10", Type: alert.LowStock, SKU: "qb-10", Resolved: true})
	nf.raise(t, storage.Alert{Key: "supplier_down:x", Type: alert.SupplierDown, Target: "x"})
	testkit.Eventually(t, "the unsilenced one", func() bool { return len(nf.ch.texts()) == 1 })
	if got := nf.ch.texts()[0]; !strings.Contains(got, "供货商 x") {
		t.Fatalf("sent %q", got)
	}
}

func TestBurstUnderRateLimitsGoesOutInFullAsDigests(t *testing.T) {
	// The burst arrives while the sender waits out its first rate limit:
	// held, so that a slow machine raising the 200 alerts one by one does
	// not see them sent one by one as they come (a loaded run sent 15).
	hold := make(chan struct{})
	nf := newHeldNotifyFixture(t, 600, hold) // the limiter itself is not under test; keep the test fast
	nf.ch.mu.Lock()
	for _, i := range []int{1, 2, 3} {
		nf.ch.fail[i] = &chat.RateLimitError{RetryAfter: time.Second}
	}
	nf.ch.fail[4] = errors.New("network down")
	nf.ch.mu.Unlock()
	for i := 1; i <= 200; i++ {
		nf.raise(t, storage.Alert{Key: fmt.Sprintf("review:%d", i), Type: alert.Review, OrderID: uint64(i), SKU: "qb-10",
			Detail: "rule:large-order"})
	}
	close(hold)
	testkit.Eventually(t, "the queue drained", func() bool { return nf.queued() == 0 })
	covered := 0
	for _, text := range nf.ch.texts() {
		if len(text) > 4096 {
			t.Errorf("a message of %d bytes", len(text))
		}
		var n int
		if _, err := fmt.Sscanf(text, "🔍 %d 笔订单待审核", &n); err == nil {
			covered += n
			if !strings.Contains(text, "/pending") {
				t.Errorf("digest without a pointer to /pending: %q", firstLine(text))
			}
		} else {
			covered++
		}
	}
	if covered != 200 {
		t.Fatalf("200 review prompts became messages covering %d", covered)
	}
	if sent := len(nf.ch.texts()); sent > 10 {
		t.Errorf("%d messages for one burst; digests should fold it", sent)
	}
}

// TestADailyReportGoesAloneWithItsChart: two reports queued before an
// alert go one by one, each with the chart of its day, and are not folded
// into a digest with the alert.
func TestADailyReportGoesAloneWithItsChart(t *testing.T) {
	store, clock, w := newStore(t)
	day := time.Date(2025, 3, 13, 0, 0, 0, 0, chat.Shanghai())
	err := store.Update(func(tx *storage.Tx) error {
		for i := range 2 {
			from := day.AddDate(0, 0, i)
			m := &storage.ChatMessage{Dest: "test:1", Text: "📊 日报 " + from.Format("01-02"), CreatedAt: clock.Now(),
				ChartFrom: from, ChartTo: from.AddDate(0, 0, 1)}
			if err := tx.Chat().Queue(m); err != nil {
				return err
			}
		}
		return tx.Chat().Queue(&storage.ChatMessage{Dest: "test:1", Text: "⚠️ alert", CreatedAt: clock.Now()})
	})
	if err != nil {
		t.Fatal(err)
	}
	photo := func(from, _ time.Time) *chat.Photo { return &chat.Photo{Name: from.Format("01-02") + ".png"} }
	ch := newFakeChannel()
	s := NewSender(w, store, SenderOptions{Dest: "test:1", Chat: "1", Channel: ch, Photo: photo})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	testkit.Eventually(t, "three sends", func() bool { return len(ch.texts()) == 3 })
	ch.mu.Lock()
	defer ch.mu.Unlock()
	for i, r := range ch.sent[:2] {
		want := day.AddDate(0, 0, i).Format("01-02")
		if r.Photo == nil || r.Photo.Name != want+".png" || !strings.Contains(r.Text, "日报 "+want) {
			t.Fatalf("send %d: photo %+v, text %q", i, r.Photo, r.Text)
		}
	}
	if ch.sent[2].Photo != nil || ch.sent[2].Text != "⚠️ alert" {
		t.Fatalf("third send: %+v", ch.sent[2])
	}
}

// TestAClaimPromptGoesAloneWithItsButtons: a claim's prompt queued among
// other alerts is not folded into their digest, which would drop its
// buttons.
func TestAClaimPromptGoesAloneWithItsButtons(t *testing.T) {
	store, clock, w := newStore(t)
	err := store.Update(func(tx *storage.Tx) error {
		for _, m := range []*storage.ChatMessage{
			{Text: "📉 low stock"},
			{Text: "🧾 售后：订单 #1", AlertKey: "claim:1", AlertType: alert.Claim, Buttons: []storage.ChatButton{{Label: "补发", Data: "k:ri:1"}}},
			{Text: "⚠️ alert"},
		} {
			m.Dest, m.CreatedAt = "test:1", clock.Now()
			if err := tx.Chat().Queue(m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ch := newFakeChannel()
	s := NewSender(w, store, SenderOptions{Dest: "test:1", Chat: "1", Channel: ch})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	testkit.Eventually(t, "three sends", func() bool { return len(ch.texts()) == 3 })
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if r := ch.sent[1]; r.Text != "🧾 售后：订单 #1" || len(r.Buttons) != 1 || r.Buttons[0].Data != "k:ri:1" {
		t.Fatalf("the claim prompt went out as %+v", r)
	}
}

// TestASilencedKeyDoesNotMuteItsNeighbours: silences were prefixes, so
// muting supplier_down:fulu muted supplier_down:fulu2 too.
func TestASilencedKeyDoesNotMuteItsNeighbours(t *testing.T) {
	nf := newNotifyFixture(t, 0)
	if _, err := silence.New(nf.store, silence.Known{SKUs: []string{"qb-10", "qb-100"}}, nf.clock.Now).Silence(storage.Actor{Name: "alice"}, "low_stock:qb-10", time.Hour); err != nil {
		t.Fatal(err)
	}
	nf.raise(t, storage.Alert{Key: "low_stock:qb-10", Type: alert.LowStock, SKU: "qb-10", Count: 1})
	nf.raise(t, storage.Alert{Key: "low_stock:qb-100", Type: alert.LowStock, SKU: "qb-100", Count: 1})
	testkit.Eventually(t, "qb-100's alert", func() bool { return len(nf.ch.texts()) == 1 })
	if got := nf.ch.texts()[0]; !strings.Contains(got, "qb-100") {
		t.Fatalf("sent %q, want the qb-100 alert", got)
	}
}

// TestAnIdleSenderLooksAtItsQueueEveryLook: a message queued by another
// process, whose kick never arrived, goes out at the sender's next look.
func TestAnIdleSenderLooksAtItsQueueEveryLook(t *testing.T) {
	store, clock, w := newStore(t)
	ch := newFakeChannel()
	s := NewSender(w, store, SenderOptions{Dest: "test:1", Chat: "1", Channel: ch, Look: 20 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	queue := func(text string) {
		t.Helper()
		if err := store.Update(func(tx *storage.Tx) error {
			return tx.Chat().Queue(&storage.ChatMessage{Dest: "test:1", Text: text, CreatedAt: clock.Now()})
		}); err != nil {
			t.Fatal(err)
		}
	}
	queue("kicked")
	s.Kick()
	testkit.Eventually(t, "the kicked message sent", func() bool { return len(ch.texts()) == 1 })
	queue("never kicked") // the sender now waits for a kick
	testkit.Eventually(t, "the message found by looking", func() bool { return len(ch.texts()) == 2 })
}
