package telegram

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"cardflow/bot/operator"
	"cardflow/internal/testkit"
	"cardflow/storage"
)

// otherGroup is a group the bot is in that is not in [telegram] groups.
const otherGroup int64 = -1009999999999

func (f *fixture) audited() []storage.AuditEntry {
	f.t.Helper()
	entries, err := f.engine.AuditLog(100)
	if err != nil {
		f.t.Fatal(err)
	}
	return entries
}

// TestWebhookModeWithoutASecretIsRefused: webhook mode needs a secret
// Telegram can send (16–256 of A-Z a-z 0-9 _ -); built in code without
// one, the adapter is refused, so no handler ever runs open.
func TestWebhookModeWithoutASecretIsRefused(t *testing.T) {
	b := operator.New(operator.Options{Language: "zh"})
	for _, tc := range []struct {
		name, secret string
	}{
		{"no secret", ""},
		{"too short", "abc"},
		{"a character Telegram does not send", "0123456789abcdef:0123"},
		{"too long", strings.Repeat("a", 257)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(Options{Token: token, Bot: b, WebhookURL: "https://ops.example.com/tg", WebhookSecret: tc.secret})
			if err == nil || !strings.Contains(err.Error(), "telegram.webhook_secret") {
				t.Fatalf("err = %v, want one naming telegram.webhook_secret", err)
			}
			if tc.secret != "" && strings.Contains(err.Error(), tc.secret) {
				t.Errorf("err echoes the secret: %v", err)
			}
		})
	}
}

// TestWebhookHandlerRefusesEveryCallWithoutTheSecret: an adapter without a
// secret (polling mode) whose webhook handler is mounted anyway refuses
// every call, with no header, an empty one or any value; it never hands
// the update on.
func TestWebhookHandlerRefusesEveryCallWithoutTheSecret(t *testing.T) {
	f := newFixture(t)
	h := f.ad.WebhookHandler()
	body := `{"update_id":7,"message":{"message_id":1,"date":1,"chat":{"id":-1001234567890,"type":"supergroup"},"from":{"id":300,"is_bot":false,"first_name":"Eve"},"text":"/audit"}}`
	for name, header := range map[string]*string{"no header": nil, "empty header": new(string), "any value": ptr("x")} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			req := httptest.NewRequest(http.MethodPost, "/telegram", strings.NewReader(body)).WithContext(ctx)
			if header != nil {
				req.Header.Set(secretHeader, *header)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusUnauthorized {
				t.Errorf("status = %d, want 401", w.Code)
			}
		})
	}
	if n := f.ad.handled.Load(); n != 0 {
		t.Errorf("%d updates handled", n)
	}
}

func ptr(s string) *string { return &s }

// TestCommandsAreTakenOnlyFromTheGroupsAndOperatorsPrivateChats: commands,
// presses and imports count in the configured group and in an operator's
// private chat. An admin in a group that is not configured, and a stranger
// in a private chat, are ignored: no answer, no file fetched, no audit
// entry. A stranger in the configured group is still refused politely and
// audited.
func TestCommandsAreTakenOnlyFromTheGroupsAndOperatorsPrivateChats(t *testing.T) {
	f := newFixture(t)
	f.start()
	before := len(f.audited())

	f.fake.SendText(otherGroup, adminUID, "/audit")
	f.fake.SendText(otherGroup, adminUID, "/bind alice")
	cbOther := f.fake.Press(otherGroup, adminUID, 1, "o:ap:1")
	f.fake.SendDocument(otherGroup, adminUID, "/import qb-10", "more.txt", []byte("NEW-1,pw\n"))
	f.fake.SendText(strangerUID, strangerUID, "/help")
	cbStranger := f.fake.Press(strangerUID, strangerUID, 1, "o:ap:1")
	f.settle(6)
	if msgs := f.fake.Messages(otherGroup); len(msgs) != 0 {
		t.Errorf("answered in a group that is not configured: %+v", msgs)
	}
	if msgs := f.fake.Messages(strangerUID); len(msgs) != 0 {
		t.Errorf("answered a stranger's private chat: %+v", msgs)
	}
	for _, cb := range []string{cbOther, cbStranger} {
		if ans, ok := f.fake.Answer(cb); ok {
			t.Errorf("press %s answered: %+v", cb, ans)
		}
	}
	if n := f.fake.Calls("getFile"); n != 0 {
		t.Errorf("getFile called %d times for an import from another group", n)
	}
	if n := len(f.audited()); n != before {
		t.Errorf("ignored updates wrote %d audit entries", n-before)
	}

	f.fake.SendText(adminUID, adminUID, "/help")
	f.fake.SendText(aliceUID, aliceUID, "/pending")
	f.fake.SendText(group, strangerUID, "/audit")
	f.settle(9)
	if msgs := f.fake.Messages(adminUID); len(msgs) != 1 || !strings.Contains(msgs[0].Text, helpText) {
		t.Errorf("admin's private chat got %+v, want the help", msgs)
	}
	if msgs := f.fake.Messages(aliceUID); len(msgs) != 1 {
		t.Errorf("alice's private chat got %+v, want the pending list", msgs)
	}
	if msgs := f.fake.Messages(group); len(msgs) != 1 || !strings.Contains(msgs[0].Text, "不是本店的操作员") {
		t.Errorf("the group got %+v, want the stranger refused", msgs)
	}
	entries := f.audited()
	if len(entries) != before+1 || entries[0].Outcome != "refused" || entries[0].Actor.Name != "unknown:999" {
		t.Errorf("audit = %+v, want the stranger's refusal in the group", entries[:len(entries)-before])
	}
}

// TestAPanickingTelegramUpdateIsAnsweredAndAudited: a bug below the adapter
// panics on alice's command in the group. The process lives on (as
// before), and now the group is told 出错了 and the audit log records the
// failure under alice's Telegram id.
func TestAPanickingTelegramUpdateIsAnsweredAndAudited(t *testing.T) {
	f := newFixture(t)
	f.ad.handler = operator.New(operator.Options{Orders: f.engine, Auth: panicAuth{}, Language: "zh"})
	f.start()
	f.fake.SendText(group, aliceUID, "/pending")
	f.settle(1)
	testkit.Eventually(t, "the internal-error reply", func() bool {
		msgs := f.fake.Messages(group)
		return len(msgs) == 1 && strings.Contains(msgs[0].Text, "出错了")
	})
	var panics []storage.AuditEntry
	for _, e := range f.audited() {
		if e.Outcome == "panic" {
			panics = append(panics, e)
		}
	}
	if len(panics) != 1 || panics[0].Actor != (storage.Actor{Name: "200", Platform: Platform}) ||
		!strings.Contains(panics[0].Detail, "authorizer bug") {
		t.Errorf("audited panics = %+v, want one under alice's id", panics)
	}
}
