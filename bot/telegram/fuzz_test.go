package telegram

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/go-telegram/bot/models"

	"cardflow/bot/operator"
	"cardflow/internal/testkit"
	"cardflow/storage"
)

// fuzzSecret is the webhook secret of FuzzTelegramUpdate's adapter.
const fuzzSecret = "fuzz-webhook-secret-0123456789"

// answerMethods are the Bot API methods by which the adapter answers or acts.
var answerMethods = []string{"sendMessage", "sendPhoto", "sendDocument", "editMessageText", "editMessageCaption",
	"editMessageReplyMarkup", "answerCallbackQuery", "getFile", "file"}

// counts reports whether an update is one the adapter must act on, by the
// rule the README states: a message or press from a configured group, or
// from a configured operator in their private chat.
func counts(u *models.Update) bool {
	var chat models.Chat
	var from *models.User
	switch {
	case u.CallbackQuery != nil:
		from = &u.CallbackQuery.From
		switch m := u.CallbackQuery.Message; {
		case m.Message != nil:
			chat = m.Message.Chat
		case m.InaccessibleMessage != nil:
			chat = m.InaccessibleMessage.Chat
		}
	case u.Message != nil:
		chat, from = u.Message.Chat, u.Message.From
		if from == nil || from.IsBot {
			return false
		}
	default:
		return false
	}
	if chat.Type == models.ChatTypePrivate {
		_, op := operators["telegram/"+strconv.FormatInt(from.ID, 10)]
		return op && chat.ID == from.ID
	}
	return chat.ID == group
}

// FuzzTelegramUpdate posts updates to the webhook handler of an adapter in
// webhook mode — over the real operator layer, engine and bbolt store, and
// the fake Bot API — as arbitrary JSON, or built from fuzzed text, sender
// and chat. Properties: the handler answers 200 to every call with the
// secret; an update that decodes is dispatched to the end, without a
// panic (none recovered, none audited); an update from outside the
// operators' chats is ignored — no Bot API call, no audit entry; a press
// from inside them is answered.
func FuzzTelegramUpdate(f *testing.F) {
	fx := newFixture(f, func(o *Options) {
		o.WebhookURL = "https://ops.example.com/telegram"
		o.WebhookSecret = fuzzSecret
	})
	fx.start()
	handler := fx.ad.WebhookHandler()

	for _, s := range []struct {
		raw        string
		mode       uint8
		text       string
		who, where uint8
	}{
		// The shapes of earlier crash reports and of the webhook attack.
		{`{"update_id":1,"message":{"message_id":1,"date":1,"chat":{"id":-1001234567890,"type":"supergroup"},"text":"/help"}}`, 0, "", 0, 0},
		{`{"update_id":2,"callback_query":{"id":"cb-x","from":{"id":200,"is_bot":false,"first_name":"A"},"chat_instance":"c","data":"o:ap:1"}}`, 0, "", 0, 0},
		{`{"update_id":3,"message":{"message_id":1,"date":1,"chat":{"id":999,"type":"private"},"from":{"id":999,"is_bot":false,"first_name":"Eve"},"text":"/audit"}}`, 0, "", 0, 0},
		{`{"update_id":4,"message":{"message_id":1,"date":1,"chat":{"id":-100777,"type":"supergroup"},"from":{"id":300,"is_bot":false,"first_name":"C"},"text":"/bind alice"}}`, 0, "", 0, 0},
		{`{"update_id":5,"message":{"message_id":1,"date":1,"chat":{"id":-1001234567890,"type":"supergroup"},"from":{"id":300,"is_bot":false,"first_name":"C"},"caption":"/import qb-10","document":{"file_id":"nope","file_unique_id":"u","file_name":"a.txt"}}}`, 0, "", 0, 0},
		{`{"update_id":6,"callback_query":{"id":"cb-y","from":{"id":200,"is_bot":false,"first_name":"A"},"message":{"message_id":9,"date":0,"chat":{"id":-1001234567890,"type":"supergroup"}},"data":"o:rf:1:r"}}`, 0, "", 0, 0},
		{`{}`, 0, "", 0, 0},
		{`null`, 0, "", 0, 0},
		{`{"update_id":"x"}`, 0, "", 0, 0},
		{"", 1, "/pending", 1, 0},
		{"", 1, "", 2, 0},
		{"", 1, "@cardflow_test_bot", 2, 0},
		{"", 1, "/approve 1", 2, 2},
		{"", 1, "/audit", 2, 1},
		{"", 1, "/refund 1 买家申请", 3, 0},
		{"", 2, "o:ap:1", 1, 0},
		{"", 2, "s:si:", 2, 0},
		{"", 2, "o:dt:1", 3, 1},
	} {
		f.Add([]byte(s.raw), s.mode, s.text, s.who, s.where)
	}

	users := []int64{viewerUID, aliceUID, adminUID, strangerUID}
	updateID := int64(1000)
	f.Fuzz(func(t *testing.T, raw []byte, mode uint8, text string, who, where uint8) {
		updateID++
		from := models.User{ID: users[int(who)%len(users)], FirstName: "F"}
		chat := []models.Chat{
			{ID: group, Type: models.ChatTypeSupergroup},
			{ID: otherGroup, Type: models.ChatTypeSupergroup},
			{ID: from.ID, Type: models.ChatTypePrivate},
			{ID: from.ID + 1, Type: models.ChatTypePrivate},
		}[int(where)%4]
		body := raw
		switch mode % 3 {
		case 1:
			body, _ = json.Marshal(models.Update{ID: updateID, Message: &models.Message{ID: 1, Date: 1, Chat: chat, From: &from, Text: text}})
		case 2:
			body, _ = json.Marshal(models.Update{ID: updateID, CallbackQuery: &models.CallbackQuery{ID: fmt.Sprint("cb-", updateID),
				From: from, ChatInstance: "ci", Data: text, Message: models.MaybeInaccessibleMessage{
					Type: models.MaybeInaccessibleMessageTypeMessage, Message: &models.Message{ID: 1, Date: 1, Chat: chat}}}})
		}
		var u models.Update
		decodes := json.Unmarshal(body, &u) == nil

		calls := map[string]int{}
		for _, m := range answerMethods {
			calls[m] = fx.fake.Calls(m)
		}
		_, audited := auditedAfter(t, fx, 0)
		handled := fx.ad.handled.Load()

		req := httptest.NewRequest(http.MethodPost, "/telegram", strings.NewReader(string(body)))
		req.Header.Set(secretHeader, fuzzSecret)
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			t.Fatalf("webhook answered %d to %q", w.Code, body)
		}
		if !decodes {
			return // the SDK logs it and drops it; nothing runs
		}
		testkit.Eventually(t, "the update handled", func() bool { return fx.ad.handled.Load() == handled+1 })

		entries, _ := auditedAfter(t, fx, audited)
		for _, e := range entries {
			if e.Outcome == operator.OutcomePanic {
				t.Fatalf("handling %s panicked: %+v", body, e)
			}
		}
		if !counts(&u) {
			for _, m := range answerMethods {
				if n := fx.fake.Calls(m); n != calls[m] {
					t.Fatalf("an update from outside the operators' chats called %s: %s", m, body)
				}
			}
			if len(entries) != 0 {
				t.Fatalf("an update from outside the operators' chats was audited: %+v (%s)", entries[0], body)
			}
			return
		}
		if q := u.CallbackQuery; q != nil && q.ID != "" && !answered(fx, q.ID) {
			t.Fatalf("press %s not answered: %s", q.ID, body)
		}
	})
}

// answered reports whether the adapter answered the callback query id.
func answered(f *fixture, id string) bool {
	for _, r := range f.fake.Requests("answerCallbackQuery") {
		if r.Params["callback_query_id"] == id {
			return true
		}
	}
	return false
}

// auditedAfter is the fixture's audit entries after seq, and the newest
// seq (fixture methods report to the F, which the fuzz function must not
// call).
func auditedAfter(t *testing.T, f *fixture, seq uint64) ([]storage.AuditEntry, uint64) {
	t.Helper()
	entries, err := f.engine.AuditLog(50)
	if err != nil {
		t.Fatal(err)
	}
	var out []storage.AuditEntry
	for _, e := range entries {
		if e.Seq > seq {
			out = append(out, e)
		}
	}
	if len(entries) > 0 {
		seq = max(seq, entries[0].Seq)
	}
	return out, seq
}
