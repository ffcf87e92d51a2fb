package tgfake

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

const token = "777:fake-token"

type apiResponse struct {
	OK          bool            `json:"ok"`
	Result      json.RawMessage `json:"result"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
	Parameters  struct {
		RetryAfter int `json:"retry_after"`
	} `json:"parameters"`
}

func newServer(t *testing.T) *Server {
	t.Helper()
	s := New(token)
	t.Cleanup(s.Close)
	return s
}

// call posts a Bot API method with a JSON or urlencoded body.
func call(t *testing.T, s *Server, method string, body any, form bool) (int, apiResponse) {
	t.Helper()
	var req *http.Request
	if form {
		req, _ = http.NewRequest(http.MethodPost, s.URL()+"/bot"+token+"/"+method, strings.NewReader(body.(url.Values).Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		b, _ := json.Marshal(body)
		req, _ = http.NewRequest(http.MethodPost, s.URL()+"/bot"+token+"/"+method, strings.NewReader(string(b)))
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	defer resp.Body.Close()
	var r apiResponse
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatalf("%s: decode: %v", method, err)
	}
	return resp.StatusCode, r
}

// client is the real SDK, which posts multipart forms.
func client(t *testing.T, s *Server) *tg.Bot {
	t.Helper()
	b, err := tg.New(token, tg.WithServerURL(s.URL()), tg.WithSkipGetMe())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestWrongTokenIsUnauthorized(t *testing.T) {
	s := newServer(t)
	resp, err := http.Post(s.URL()+"/bot1:wrong/getMe", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("status = %d", resp.StatusCode)
	}
	if s.Calls("getMe") != 0 {
		t.Errorf("a call with a wrong token was counted")
	}
}

func TestSDKCallsRoundTrip(t *testing.T) {
	s := newServer(t)
	b := client(t, s)
	ctx := context.Background()
	me, err := b.GetMe(ctx)
	if err != nil || me.Username != BotUsername || me.ID != 777 {
		t.Fatalf("getMe = %+v, %v", me, err)
	}
	kb := &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{{{Text: "A", CallbackData: "o:ap:1"}}}}
	m, err := b.SendMessage(ctx, &tg.SendMessageParams{ChatID: int64(-100), Text: "hi", ReplyMarkup: kb})
	if err != nil || m.ID == 0 || m.Chat.ID != -100 || m.Text != "hi" || m.Date == 0 || m.ReplyMarkup == nil {
		t.Fatalf("sendMessage = %+v, %v", m, err)
	}
	e, err := b.EditMessageText(ctx, &tg.EditMessageTextParams{ChatID: int64(-100), MessageID: m.ID, Text: "hi", ReplyMarkup: kb})
	if !errors.Is(err, tg.ErrorBadRequest) || !strings.Contains(err.Error(), "message is not modified") {
		t.Errorf("unchanged edit = %+v, %v", e, err)
	}
	e, err = b.EditMessageText(ctx, &tg.EditMessageTextParams{ChatID: int64(-100), MessageID: m.ID, Text: "bye"})
	if err != nil || e.Text != "bye" || e.EditDate == 0 || e.ReplyMarkup != nil {
		t.Errorf("edit = %+v, %v", e, err)
	}
	_, err = b.EditMessageText(ctx, &tg.EditMessageTextParams{ChatID: int64(-100), MessageID: 4242, Text: "x"})
	if err == nil || !strings.Contains(err.Error(), "message to edit not found") {
		t.Errorf("unknown edit = %v", err)
	}
	msgs := s.Messages(-100)
	if len(msgs) != 1 || msgs[0].Text != "bye" || msgs[0].Edits != 1 || len(msgs[0].Keyboard) != 0 {
		t.Errorf("messages = %+v", msgs)
	}
}

func TestFormAndJSONBodiesAreParsed(t *testing.T) {
	s := newServer(t)
	status, r := call(t, s, "sendMessage", url.Values{"chat_id": {"5"}, "text": {"form"},
		"reply_markup": {`{"inline_keyboard":[[{"text":"X","callback_data":"d"}]]}`}}, true)
	if status != 200 || !r.OK {
		t.Fatalf("form: %d %+v", status, r)
	}
	status, r = call(t, s, "sendMessage", map[string]any{"chat_id": 5, "text": "json",
		"reply_markup": map[string]any{"inline_keyboard": [][]map[string]string{{{"text": "Y", "callback_data": "e"}}}}}, false)
	if status != 200 || !r.OK {
		t.Fatalf("json: %d %+v", status, r)
	}
	msgs := s.Messages(5)
	if len(msgs) != 2 || msgs[0].Buttons()[0].Data != "d" || msgs[1].Buttons()[0].Data != "e" || msgs[1].Text != "json" {
		t.Errorf("messages = %+v", msgs)
	}
}

func TestBadMessagesAreRefusedAsTelegramDoes(t *testing.T) {
	s := newServer(t)
	for _, tc := range []struct {
		name string
		body map[string]any
		want string
	}{
		{"empty", map[string]any{"chat_id": 5, "text": ""}, "message text is empty"},
		{"too long", map[string]any{"chat_id": 5, "text": strings.Repeat("a", 4097)}, "message is too long"},
		{"long data", map[string]any{"chat_id": 5, "text": "x", "reply_markup": `{"inline_keyboard":[[{"text":"X","callback_data":"` + strings.Repeat("d", 65) + `"}]]}`}, "BUTTON_DATA_INVALID"},
		{"chat by name", map[string]any{"chat_id": "@shop", "text": "x"}, "chat not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, r := call(t, s, "sendMessage", tc.body, false)
			if status != 400 || r.OK || r.ErrorCode != 400 || !strings.Contains(r.Description, tc.want) {
				t.Errorf("%d %+v, want 400 %q", status, r, tc.want)
			}
		})
	}
}

func TestGetUpdatesLongPollsAndHonoursOffset(t *testing.T) {
	s := newServer(t)
	// Nothing pending: a short poll returns empty after its timeout.
	start := time.Now()
	_, r := call(t, s, "getUpdates", map[string]any{"timeout": 1}, false)
	if string(r.Result) != "[]" || time.Since(start) < 900*time.Millisecond {
		t.Errorf("empty poll = %s after %s", r.Result, time.Since(start))
	}
	// A poll blocks until an update arrives.
	got := make(chan []models.Update, 1)
	go func() {
		var ups []models.Update
		resp, err := http.Post(s.URL()+"/bot"+token+"/getUpdates", "application/json", strings.NewReader(`{"timeout":30}`))
		if err == nil {
			var r apiResponse
			_ = json.NewDecoder(resp.Body).Decode(&r)
			resp.Body.Close()
			_ = json.Unmarshal(r.Result, &ups)
		}
		got <- ups
	}()
	if !s.WaitFor(func() bool { return s.Calls("getUpdates") == 2 }, 5*time.Second) {
		t.Fatal("second poll not made")
	}
	id := s.SendText(-100, 7, "/help@cardflow_test_bot now")
	var ups []models.Update
	select {
	case ups = <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("the poll did not return on inject")
	}
	if len(ups) != 1 || ups[0].Message == nil || ups[0].Message.ID != id || ups[0].Message.From.ID != 7 {
		t.Fatalf("updates = %+v", ups)
	}
	ent := ups[0].Message.Entities
	if len(ent) != 1 || ent[0].Type != models.MessageEntityTypeBotCommand || ent[0].Length != len("/help@cardflow_test_bot") {
		t.Errorf("entities = %+v", ent)
	}
	// Unconfirmed, it comes again; confirmed by offset, it is gone.
	_, r = call(t, s, "getUpdates", map[string]any{"timeout": 0}, false)
	_ = json.Unmarshal(r.Result, &ups)
	if len(ups) != 1 {
		t.Errorf("unconfirmed update not returned again")
	}
	_, r = call(t, s, "getUpdates", map[string]any{"timeout": 0, "offset": ups[0].ID + 1}, false)
	if string(r.Result) != "[]" || s.Pending() != 0 {
		t.Errorf("after offset: %s, pending %d", r.Result, s.Pending())
	}
}

func TestPressesCarryTheMessageOrAnInaccessibleOne(t *testing.T) {
	s := newServer(t)
	b := client(t, s)
	m, err := b.SendMessage(context.Background(), &tg.SendMessageParams{ChatID: int64(-100), Text: "prompt"})
	if err != nil {
		t.Fatal(err)
	}
	cb1 := s.Press(-100, 7, m.ID, "o:ap:1")
	cb2 := s.PressInaccessible(-100, 7, m.ID, "o:ap:1")
	_, r := call(t, s, "getUpdates", map[string]any{}, false)
	var ups []models.Update
	if err := json.Unmarshal(r.Result, &ups); err != nil || len(ups) != 2 {
		t.Fatalf("updates: %v %s", err, r.Result)
	}
	q1, q2 := ups[0].CallbackQuery, ups[1].CallbackQuery
	if q1.ID != cb1 || q1.Message.Message == nil || q1.Message.Message.Text != "prompt" || q1.Data != "o:ap:1" {
		t.Errorf("press = %+v", q1)
	}
	if q2.ID != cb2 || q2.Message.Message != nil || q2.Message.InaccessibleMessage == nil ||
		q2.Message.InaccessibleMessage.MessageID != m.ID || q2.Message.InaccessibleMessage.Chat.ID != -100 {
		t.Errorf("inaccessible press = %+v", q2)
	}
	if ok, err := b.AnswerCallbackQuery(context.Background(), &tg.AnswerCallbackQueryParams{CallbackQueryID: cb1, Text: "done"}); !ok || err != nil {
		t.Errorf("answer = %v, %v", ok, err)
	}
	if _, err := b.AnswerCallbackQuery(context.Background(), &tg.AnswerCallbackQueryParams{CallbackQueryID: cb1}); err == nil {
		t.Errorf("a second answer to the same query succeeded")
	}
	if a := s.Answers(); len(a) != 1 || a[0].ID != cb1 || a[0].Text != "done" {
		t.Errorf("answers = %+v", a)
	}
}

func TestFilesAreServedByGetFileAndDownload(t *testing.T) {
	s := newServer(t)
	b := client(t, s)
	s.AddFile("f1", "cards.csv", []byte("a,b\n"))
	f, err := b.GetFile(context.Background(), &tg.GetFileParams{FileID: "f1"})
	if err != nil || f.FileSize != 4 || !strings.HasSuffix(f.FilePath, ".csv") {
		t.Fatalf("getFile = %+v, %v", f, err)
	}
	resp, err := http.Get(b.FileDownloadLink(f))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "a,b\n" {
		t.Errorf("download = %d %q", resp.StatusCode, body)
	}
	resp, _ = http.Get(s.URL() + "/file/bot1:wrong/" + f.FilePath)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("download with a wrong token = %d", resp.StatusCode)
	}
	if _, err := b.GetFile(context.Background(), &tg.GetFileParams{FileID: "nope"}); err == nil {
		t.Errorf("getFile of an unknown id succeeded")
	}
}

func TestFailuresComeInOrder(t *testing.T) {
	s := newServer(t)
	b := client(t, s)
	s.RateLimit("sendMessage", 2, 9)
	s.FailNext("sendMessage", http.StatusForbidden, "", 0)
	p := &tg.SendMessageParams{ChatID: int64(1), Text: "x"}
	for range 2 {
		_, err := b.SendMessage(context.Background(), p)
		var tm *tg.TooManyRequestsError
		if !errors.As(err, &tm) || tm.RetryAfter != 9 {
			t.Errorf("want a 429 with retry_after 9, got %v", err)
		}
	}
	if _, err := b.SendMessage(context.Background(), p); !errors.Is(err, tg.ErrorForbidden) {
		t.Errorf("want 403, got %v", err)
	}
	if _, err := b.SendMessage(context.Background(), p); err != nil {
		t.Errorf("want success, got %v", err)
	}
	if s.Calls("sendmessage") != 4 || len(s.Messages(1)) != 1 {
		t.Errorf("calls %d, messages %d", s.Calls("sendMessage"), len(s.Messages(1)))
	}
}

func TestWebhookPushesUpdatesAndBlocksPolling(t *testing.T) {
	s := newServer(t)
	got := make(chan string, 4)
	recv := newReceiver(t, got)
	_, r := call(t, s, "setWebhook", map[string]any{"url": recv, "secret_token": "sek"}, false)
	if !r.OK {
		t.Fatalf("setWebhook: %+v", r)
	}
	status, _ := call(t, s, "getUpdates", map[string]any{}, false)
	if status != http.StatusConflict {
		t.Errorf("getUpdates with a webhook = %d, want 409", status)
	}
	s.SendText(1, 7, "/help")
	select {
	case secret := <-got:
		if secret != "sek" {
			t.Errorf("pushed with secret %q", secret)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("nothing pushed")
	}
	if !s.WaitFor(func() bool { return s.Pending() == 0 && s.Pushed() == 1 }, 5*time.Second) {
		t.Errorf("pending %d, pushed %d", s.Pending(), s.Pushed())
	}
	call(t, s, "deleteWebhook", map[string]any{}, false)
	if status, _ := call(t, s, "getUpdates", map[string]any{}, false); status != 200 {
		t.Errorf("getUpdates after deleteWebhook = %d", status)
	}
}

// newReceiver is a webhook endpoint that reports the secret of each push.
func newReceiver(t *testing.T, got chan<- string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var u models.Update
		if err := json.NewDecoder(r.Body).Decode(&u); err != nil || u.Message == nil {
			http.Error(w, "bad update", http.StatusBadRequest)
			return
		}
		got <- r.Header.Get("X-Telegram-Bot-Api-Secret-Token")
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// tinyPNG is a 3×2 PNG.
func tinyPNG(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	img := image.NewRGBA(image.Rect(0, 0, 3, 2))
	img.Set(1, 1, color.RGBA{R: 255, A: 255})
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestSendPhotoRecordsTheUploadAndAnswersAPhotoMessage(t *testing.T) {
	// Input: the SDK uploads a 3×2 PNG as report.png with a caption and a
	// button, then sends the same photo again by the file_id it got back.
	s := newServer(t)
	b := client(t, s)
	ctx := context.Background()
	pic := tinyPNG(t)
	kb := &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{{{Text: "A", CallbackData: "o:ap:1"}}}}
	m, err := b.SendPhoto(ctx, &tg.SendPhotoParams{ChatID: int64(-100), Caption: "日报",
		Photo: &models.InputFileUpload{Filename: "report.png", Data: bytes.NewReader(pic)}, ReplyMarkup: kb})
	if err != nil {
		t.Fatalf("sendPhoto: %v", err)
	}
	if m.ID == 0 || m.Chat.ID != -100 || m.Caption != "日报" || m.Text != "" || m.ReplyMarkup == nil || len(m.Photo) != 1 {
		t.Fatalf("sendPhoto = %+v", m)
	}
	ps := m.Photo[0]
	if ps.FileID == "" || ps.Width != 3 || ps.Height != 2 || ps.FileSize != len(pic) {
		t.Errorf("photo size = %+v", ps)
	}
	msgs := s.Messages(-100)
	if len(msgs) != 1 || !bytes.Equal(msgs[0].Photo, pic) || msgs[0].PhotoName != "report.png" ||
		msgs[0].Caption != "日报" || msgs[0].Buttons()[0].Data != "o:ap:1" {
		t.Errorf("recorded = %+v", msgs)
	}
	if p := s.Requests("sendPhoto")[0].Params; p["photo"] != "attach://report.png" || p["chat_id"] != "-100" {
		t.Errorf("params = %v", p)
	}
	// The photo is a file: by id again, and downloadable.
	again, err := b.SendPhoto(ctx, &tg.SendPhotoParams{ChatID: int64(-100), Photo: &models.InputFileString{Data: ps.FileID}})
	if err != nil || len(again.Photo) != 1 || again.Caption != "" {
		t.Errorf("sendPhoto by file_id = %+v, %v", again, err)
	}
	if f, err := b.GetFile(ctx, &tg.GetFileParams{FileID: ps.FileID}); err != nil || !strings.HasPrefix(f.FilePath, "photos/") {
		t.Errorf("getFile of the photo = %+v, %v", f, err)
	}
	// A photo has no text to edit.
	_, err = b.EditMessageText(ctx, &tg.EditMessageTextParams{ChatID: int64(-100), MessageID: m.ID, Text: "x"})
	if err == nil || !strings.Contains(err.Error(), "there is no text in the message to edit") {
		t.Errorf("editMessageText of a photo = %v", err)
	}
}

func TestBadPhotosAreRefusedAsTelegramDoes(t *testing.T) {
	s := newServer(t)
	b := client(t, s)
	pic := tinyPNG(t)
	upload := func(data []byte) models.InputFile {
		return &models.InputFileUpload{Filename: "p.png", Data: bytes.NewReader(data)}
	}
	for _, tc := range []struct {
		name string
		p    *tg.SendPhotoParams
		want string
	}{
		// Input: a caption of 1025 characters.
		{"long caption", &tg.SendPhotoParams{ChatID: int64(5), Photo: upload(pic), Caption: strings.Repeat("审", 1025)}, "message caption is too long"},
		// Input: text bytes uploaded as a photo.
		{"not an image", &tg.SendPhotoParams{ChatID: int64(5), Photo: upload([]byte("hello, not a png"))}, "IMAGE_PROCESS_FAILED"},
		// Input: a file_id the server never issued.
		{"unknown file id", &tg.SendPhotoParams{ChatID: int64(5), Photo: &models.InputFileString{Data: "nope"}}, "wrong file identifier"},
		// Input: a chat by @name the fake does not know.
		{"chat by name", &tg.SendPhotoParams{ChatID: "@shop", Photo: upload(pic)}, "chat not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := b.SendPhoto(context.Background(), tc.p)
			if !errors.Is(err, tg.ErrorBadRequest) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want 400 %q", err, tc.want)
			}
		})
	}
	// Input: a sendPhoto with no photo at all (a form without the field).
	status, r := call(t, s, "sendPhoto", url.Values{"chat_id": {"5"}}, true)
	if status != 400 || !strings.Contains(r.Description, "there is no photo in the request") {
		t.Errorf("no photo: %d %+v", status, r)
	}
	if n := len(s.Messages(5)); n != 0 {
		t.Errorf("%d messages recorded from refused photos", n)
	}
}
