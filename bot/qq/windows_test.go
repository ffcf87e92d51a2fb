package qq

import (
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"cardflow/bot/chat"
	"cardflow/bot/operator"
	"cardflow/internal/testkit"
)

// TestAGroupsWindowOutlivesTheProcessThatSawIt: alice writes /help in the
// group, which opens a window, and the answer takes its first reply. Then
// an adapter built afresh on the same store (a restart, or another process
// taking over the sending; the fake refuses active push, as QQ does by
// default) sends on that window, and the first adapter, as a leader frozen
// past its lease that wakes up, sends after it: three replies to alice's
// message numbered 1, 2, 3, none active, none refused as a repeat. With the
// window only in the first adapter's memory, the new one had none and its
// message waited (chat.ErrNoWindow).
func TestAGroupsWindowOutlivesTheProcessThatSawIt(t *testing.T) {
	h := newHarness(t, nil)
	h.say("/help")
	testkit.Eventually(t, "/help answered", func() bool { return h.saw("可用命令") })
	sent := h.fake.Messages(testGroup)
	answer := sent[len(sent)-1]
	if answer.Active || answer.MsgID == "" || answer.Seq != 1 {
		t.Fatalf("the answer to /help = %+v, want reply 1 to alice's message", answer)
	}

	other := New(Options{AppID: vectorAppID, Secret: vectorSecret, APIURL: h.fake.URL(), TokenURL: h.fake.URL(),
		Groups: []string{testGroup}, Bot: operator.New(operator.Options{Log: zerolog.Nop()}), Store: h.engine.Store(), Log: zerolog.Nop()})
	if _, err := other.Send("group:"+testGroup, chat.Reply{Text: "接管后的消息"}); err != nil {
		t.Fatalf("the adapter that took over: %v", err)
	}
	if _, err := h.ad.Send("group:"+testGroup, chat.Reply{Text: "醒来后的消息"}); err != nil {
		t.Fatalf("the first adapter, after: %v", err)
	}
	sent = h.fake.Messages(testGroup)
	for i, text := range []string{"接管后的消息", "醒来后的消息"} {
		m := sent[len(sent)-2+i]
		if !strings.Contains(m.Content+m.Markdown, text) || m.Active || m.MsgID != answer.MsgID || m.Seq != 2+i {
			t.Errorf("%s went out as %+v, want reply %d to %s", text, m, 2+i, answer.MsgID)
		}
	}
}
