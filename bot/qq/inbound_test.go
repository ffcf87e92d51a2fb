package qq

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"cardflow/bot/chat"
	"cardflow/bot/operator"
	"cardflow/internal/testkit"
	"cardflow/internal/teststore"
	"cardflow/storage"
)

// trapAuth is the harness's authorizer; once armed it panics on its next
// lookup, standing in for any bug below the adapter.
type trapAuth struct {
	operator.Authorizer
	armed atomic.Bool
}

func (a *trapAuth) Operator(id chat.Identity) (operator.Operator, bool) {
	if a.armed.CompareAndSwap(true, false) {
		panic("authorizer bug")
	}
	return a.Authorizer.Operator(id)
}

func (h *harness) inbound() int { return inboundCount(h.t, h.engine.Store()) }

func parked(t *testing.T, s *storage.Store) []storage.ParkedEvent {
	t.Helper()
	var out []storage.ParkedEvent
	if err := s.View(func(tx *storage.Tx) error {
		return tx.Inbound().Parked(func(p storage.ParkedEvent) { out = append(out, p) })
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// audited returns the newest audit entries with outcome.
func (h *harness) audited(outcome string) []storage.AuditEntry {
	h.t.Helper()
	entries, err := h.engine.AuditLog(50)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []storage.AuditEntry
	for _, e := range entries {
		if e.Outcome == outcome {
			out = append(out, e)
		}
	}
	return out
}

// TestEmptyQQMentionOpensTheWindowAndIsNotFatal: an @-mention with no text
// (content " ") used to index strings.Fields("")[0] and end the process on
// every start. Now it opens the reply window — the prompt waiting for the
// group goes out in it — and is otherwise ignored; a C2C message that is
// only an image (no content at all) is ignored too.
func TestEmptyQQMentionOpensTheWindowAndIsNotFatal(t *testing.T) {
	h := newHarness(t, nil)
	h.spendWindow("group:" + testGroup) // the bind's window: used up
	h.order()
	testkit.Eventually(h.t, "a prompt queued", func() bool { return queued(h) > 0 })

	h.say("") // arrives as content " ", where the @ was
	testkit.Eventually(h.t, "the prompt delivered in the empty mention's window", func() bool { return queued(h) == 0 && h.saw("待审核") })

	if d, err := h.fake.C2C(testUser, ""); err != nil || !d.Acked() {
		t.Fatalf("image-only C2C message: %+v %v", d, err)
	}
	testkit.Eventually(h.t, "the inbound queue drained", func() bool { return h.inbound() == 0 })
	if msgs := h.fake.Messages(testUser); len(msgs) != 0 {
		t.Errorf("an image-only message was answered: %+v", msgs)
	}
	if got := h.audited("panic"); len(got) != 0 {
		t.Errorf("audited panics: %+v", got)
	}
	if p := parked(t, h.engine.Store()); len(p) != 0 {
		t.Errorf("events set aside: %+v", p)
	}
}

// TestAPanickingQQEventIsAnsweredAuditedAndSetAside: a bug below the
// adapter panics while alice's /pending is handled. The process lives on;
// alice is told 出错了; the audit log has the failure under her QQ
// identity; the event is off the inbound queue (not replayed on the next
// start) and kept aside for inspection; the operators are alerted; and her
// next command is answered as usual, which resolves the alert.
func TestAPanickingQQEventIsAnsweredAuditedAndSetAside(t *testing.T) {
	h := newHarness(t, nil)
	h.trap.armed.Store(true)
	h.say("/pending")
	testkit.Eventually(h.t, "the internal-error answer", func() bool { return h.saw("出错了") })
	testkit.Eventually(h.t, "the inbound queue drained", func() bool { return h.inbound() == 0 })
	got := h.audited("panic")
	if len(got) != 1 || got[0].Actor.Platform != "qq" || !strings.Contains(got[0].Actor.Name, testMember) ||
		!strings.Contains(got[0].Detail, "authorizer bug") {
		t.Fatalf("audited panics = %+v, want one under alice's QQ identity", got)
	}
	p := parked(t, h.engine.Store())
	if len(p) != 1 || p[0].Attempts != 1 || !strings.Contains(string(p[0].Body), "/pending") {
		t.Fatalf("set aside: %+v, want the /pending event", p)
	}
	testkit.Eventually(h.t, "the set-aside alert", func() bool { return h.saw("处理失败，已搁置") })
	h.say("/help")
	testkit.Eventually(h.t, "/help answered after the panic", func() bool { return h.saw("可用命令") })
	testkit.Eventually(h.t, "the alert resolved", func() bool { return h.saw("QQ 消息处理已恢复正常") })
}

// TestQQCapsTheChatsItRemembers: every chat that ever wrote used to keep a
// reply window in memory for ever. 1,200 strangers write in C2C; the
// adapter remembers at most maxChats (1,000) chats, and the configured
// group's window (opened first, so the oldest) survives the flood. Push
// refusals are bounded alike, and both are forgotten once useless.
func TestQQCapsTheChatsItRemembers(t *testing.T) {
	clock := testkit.NewClock(time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC))
	a := New(Options{AppID: vectorAppID, Secret: vectorSecret, Groups: []string{testGroup}, Store: testkit.NewStore(t, teststore.Open),
		Bot: operator.New(operator.Options{Log: zerolog.Nop()}), Log: zerolog.Nop(), Now: clock.Now})
	ctx := context.Background()
	say := func(typ, d string) {
		t.Helper()
		if panicked, err := a.handle(ctx, []byte(`{"id":"ev","t":"`+typ+`","d":`+d+`}`)); err != nil || panicked {
			t.Fatal(panicked, err)
		}
	}
	say("GROUP_AT_MESSAGE_CREATE", `{"id":"m-g","content":" hi","group_openid":"`+testGroup+`","author":{"member_openid":"M"}}`)
	for i := range maxChats + 200 {
		say("C2C_MESSAGE_CREATE", fmt.Sprintf(`{"id":"m-%d","content":"hi","author":{"user_openid":"U%d"}}`, i, i))
	}
	a.mu.Lock()
	n := len(a.windows)
	a.mu.Unlock()
	if n > maxChats {
		t.Errorf("%d chats remembered, want at most %d", n, maxChats)
	}
	if _, _, _, ok := a.take("group:" + testGroup); !ok {
		t.Error("the configured group's window was evicted by strangers")
	}

	// Push refusals are capped the same way; once lapsed, they and the
	// expired windows are forgotten.
	a.mu.Lock()
	for i := range maxChats + 200 {
		a.refuseActive(fmt.Sprintf("group:G%d", i), clock.Now().Add(activeRetry))
	}
	n = len(a.active)
	a.mu.Unlock()
	if n > maxChats {
		t.Errorf("%d push refusals remembered, want at most %d", n, maxChats)
	}
	clock.Advance(activeRetry + time.Second)
	a.sweep()
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.windows)+len(a.active) != 0 {
		t.Errorf("after expiry %d windows and %d refusals remembered, want none", len(a.windows), len(a.active))
	}
}
