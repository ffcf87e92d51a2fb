package telegram

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"cardflow/bot/chat"
	"cardflow/bot/telegram/tgfake"
)

var groupChat = strconv.FormatInt(group, 10)

func TestSendLaysButtonsTwoToARowWithTheirData(t *testing.T) {
	f := newFixture(t)
	var buttons []chat.Button
	for i := range 5 {
		buttons = append(buttons, chat.Button{Label: fmt.Sprintf("B%d", i), Data: fmt.Sprintf("o:dt:%d", i)})
	}
	id, err := f.ad.Send(groupChat, chat.Reply{Text: "🔍 订单 #1 待审核", Buttons: buttons})
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	m, ok := f.fake.Message(group, atoi(t, id))
	if !ok {
		t.Fatalf("message %s not in the chat", id)
	}
	if m.Text != "🔍 订单 #1 待审核" {
		t.Errorf("text = %q", m.Text)
	}
	want := [][]tgfake.Button{
		{{Text: "B0", Data: "o:dt:0"}, {Text: "B1", Data: "o:dt:1"}},
		{{Text: "B2", Data: "o:dt:2"}, {Text: "B3", Data: "o:dt:3"}},
		{{Text: "B4", Data: "o:dt:4"}},
	}
	if fmt.Sprint(m.Keyboard) != fmt.Sprint(want) {
		t.Errorf("keyboard = %v, want %v", m.Keyboard, want)
	}
	// The SDK posts multipart forms with reply_markup as JSON text.
	req := f.fake.Requests("sendMessage")[0]
	if req.Params["chat_id"] != groupChat || !json.Valid([]byte(req.Params["reply_markup"])) {
		t.Errorf("sendMessage params = %v", req.Params)
	}
	// Each button is exactly a callback button: nothing Telegram could take
	// for a second button type (the SDK's own type adds "copy_text").
	if markup := req.Params["reply_markup"]; strings.Contains(markup, "copy_text") || strings.Contains(markup, `"url"`) {
		t.Errorf("reply_markup carries more than text and callback_data: %s", markup)
	}
}

func TestSendWithoutButtonsHasNoKeyboard(t *testing.T) {
	f := newFixture(t)
	id, err := f.ad.Send(groupChat, chat.Reply{Text: "✅ 已恢复"})
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	if m, _ := f.fake.Message(group, atoi(t, id)); len(m.Keyboard) != 0 {
		t.Errorf("keyboard = %v", m.Keyboard)
	}
	if p := f.fake.Requests("sendMessage")[0].Params; p["reply_markup"] != "" {
		t.Errorf("reply_markup sent: %q", p["reply_markup"])
	}
}

func TestSendCutsLongTextsToTelegramsLimit(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct{ name, text string }{
		{"ascii", strings.Repeat("a", 5000)},
		{"chinese", strings.Repeat("审", 4100)},
		{"emoji", strings.Repeat("🔍", 3000)}, // two UTF-16 units each
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, err := f.ad.Send(groupChat, chat.Reply{Text: tc.text})
			if err != nil {
				t.Fatalf("send: %v", err)
			}
			m, _ := f.fake.Message(group, atoi(t, id))
			if n := len(utf16.Encode([]rune(m.Text))); n > 4096 || n < 4000 {
				t.Errorf("sent %d UTF-16 units, want at most 4096 and not much less", n)
			}
			if !strings.HasSuffix(m.Text, "…") || !strings.HasPrefix(tc.text, strings.TrimSuffix(m.Text, "…")) {
				t.Errorf("text is not a prefix of the original ending in …")
			}
		})
	}
}

func TestCutKeepsShortTextsAndCharacters(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"hello", 5, "hello"},
		{"hello!", 5, "hell…"},
		{"a🔍b", 3, "a…"}, // never half an emoji
		{"审核通过", 3, "审核…"},
		{"", 10, "…"}, // Telegram refuses empty texts
	} {
		if got := cut(tc.in, tc.n); got != tc.want {
			t.Errorf("cut(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

func TestSendDropsButtonsTelegramWouldRefuse(t *testing.T) {
	f := newFixture(t)
	id, err := f.ad.Send(groupChat, chat.Reply{Text: "x", Buttons: []chat.Button{
		{Label: "ok", Data: "o:ap:1"}, {Label: "too long", Data: strings.Repeat("x", 65)}}})
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	m, _ := f.fake.Message(group, atoi(t, id))
	if got := m.Buttons(); len(got) != 1 || got[0].Data != "o:ap:1" {
		t.Errorf("buttons = %v", got)
	}
}

func TestEditReplacesTextAndButtons(t *testing.T) {
	f := newFixture(t)
	id, err := f.ad.Send(groupChat, chat.Reply{Text: "🔍 待审核", Buttons: []chat.Button{{Label: "批准", Data: "o:ap:1"}}})
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	if err := f.ad.Edit(groupChat, id, chat.Reply{Text: "订单 #1 已批准", Buttons: []chat.Button{{Label: "详情", Data: "o:dt:1"}}}); err != nil {
		t.Fatalf("edit: %v", err)
	}
	m, _ := f.fake.Message(group, atoi(t, id))
	if m.Text != "订单 #1 已批准" || len(m.Buttons()) != 1 || m.Buttons()[0].Data != "o:dt:1" || m.Edits != 1 {
		t.Errorf("after edit: %+v", m)
	}
	if err := f.ad.Edit(groupChat, id, chat.Reply{Text: "订单 #1 已由 alice 批准"}); err != nil {
		t.Fatalf("edit without buttons: %v", err)
	}
	if m, _ = f.fake.Message(group, atoi(t, id)); len(m.Keyboard) != 0 || m.Edits != 2 {
		t.Errorf("an edit without buttons must remove the keyboard: %+v", m)
	}
}

func TestEditOfAnUnchangedMessageIsNotAnError(t *testing.T) {
	f := newFixture(t)
	r := chat.Reply{Text: "✅ 已恢复", Buttons: []chat.Button{{Label: "详情", Data: "o:dt:1"}}}
	id, err := f.ad.Send(groupChat, r)
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	if err := f.ad.Edit(groupChat, id, r); err != nil {
		t.Errorf("edit to the same text and buttons: %v, want nil", err)
	}
	if m, _ := f.fake.Message(group, atoi(t, id)); m.Edits != 0 {
		t.Errorf("edits = %d", m.Edits)
	}
	if f.fake.Calls("editMessageText") != 1 {
		t.Errorf("editMessageText calls = %d", f.fake.Calls("editMessageText"))
	}
}

func TestEditOfAMessageThatCannotBeEditedIsGone(t *testing.T) {
	f := newFixture(t)
	userMsg := f.fake.SendText(group, aliceUID, "hello")
	for _, tc := range []struct{ name, id string }{
		{"unknown id", "999999"},
		{"someone else's message", strconv.Itoa(userMsg)},
		{"not an id", "abc"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := f.ad.Edit(groupChat, tc.id, chat.Reply{Text: "x"})
			if !errors.Is(err, chat.ErrGone) {
				t.Errorf("err = %v, want ErrGone", err)
			}
		})
	}
}

func TestTooManyRequestsIsARateLimitErrorWithRetryAfter(t *testing.T) {
	f := newFixture(t)
	f.fake.RateLimit("sendMessage", 1, 7)
	_, err := f.ad.Send(groupChat, chat.Reply{Text: "x"})
	var rl *chat.RateLimitError
	if !errors.As(err, &rl) || rl.RetryAfter != 7*time.Second {
		t.Fatalf("err = %v, want a RateLimitError of 7s", err)
	}
	if _, err := f.ad.Send(groupChat, chat.Reply{Text: "x"}); err != nil {
		t.Errorf("send after the limit: %v", err)
	}

	id, _ := f.ad.Send(groupChat, chat.Reply{Text: "y"})
	f.fake.RateLimit("editMessageText", 1, 3)
	err = f.ad.Edit(groupChat, id, chat.Reply{Text: "z"})
	if !errors.As(err, &rl) || rl.RetryAfter != 3*time.Second {
		t.Errorf("edit err = %v, want a RateLimitError of 3s", err)
	}
}

func TestSendErrorsNeverShowTheToken(t *testing.T) {
	f := newFixture(t)
	dead := newFixture(t, func(o *Options) { o.ServerURL = "http://127.0.0.1:1" })
	for _, tc := range []struct {
		name  string
		setup func()
		ad    *Adapter
		want  string
	}{
		{"403", func() { f.fake.FailNext("sendMessage", http.StatusForbidden, "", 0) }, f.ad, "kicked"},
		{"400", func() { f.fake.FailNext("sendMessage", http.StatusBadRequest, "", 0) }, f.ad, "chat not found"},
		{"500", func() { f.fake.FailNext("sendMessage", http.StatusInternalServerError, "", 0) }, f.ad, "500"},
		{"dropped connection", func() { f.fake.FailNext("sendMessage", 0, "", 0) }, f.ad, "sendMessage"},
		{"unreachable server", func() {}, dead.ad, "sendMessage"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.setup()
			_, err := tc.ad.Send(groupChat, chat.Reply{Text: "x"})
			if err == nil {
				t.Fatal("send succeeded")
			}
			if strings.Contains(err.Error(), token) || strings.Contains(fmt.Sprintf("%+v", err), token) {
				t.Errorf("error shows the token: %v", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
			var rl *chat.RateLimitError
			if errors.As(err, &rl) || errors.Is(err, chat.ErrGone) {
				t.Errorf("error %v is mapped as a rate limit or a gone message", err)
			}
		})
	}
}

func TestCleanRedactsTheTokenAndQuotedBodies(t *testing.T) {
	f := newFixture(t)
	err := f.ad.clean(fmt.Errorf(`Post "http://x/bot%s/sendMessage": EOF`, token))
	if strings.Contains(err.Error(), token) || !strings.Contains(err.Error(), "<redacted>") {
		t.Errorf("clean = %q", err)
	}
	err = f.ad.clean(errors.New(`error decode response body for method sendMessage, {"text":"卡密 1234"}, invalid character`))
	if strings.Contains(err.Error(), "卡密") {
		t.Errorf("clean kept the response body: %q", err)
	}
}

func TestDestAndChatOf(t *testing.T) {
	if d := Dest(group); d != "telegram:-1001234567890" {
		t.Errorf("Dest = %q", d)
	}
	if c, ok := ChatOf(Dest(group)); !ok || c != groupChat {
		t.Errorf("ChatOf(Dest) = %q, %v", c, ok)
	}
	for _, bad := range []string{"console", "qq:123", "telegram:abc", "telegram:"} {
		if _, ok := ChatOf(bad); ok {
			t.Errorf("ChatOf(%q) is ok", bad)
		}
	}
	f := newFixture(t)
	if d := f.ad.Dests(); len(d) != 1 || d[0] != Dest(group) {
		t.Errorf("Dests = %v", d)
	}
}
