package tgfake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	_ "image/jpeg" // decoders for sendPhoto's check that a photo is an image
	_ "image/png"  // (Telegram takes JPEG and PNG)
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-telegram/bot/models"
)

// getUpdates long-polls: it answers at once when updates at or after offset
// are pending, else when one is injected or timeout seconds pass. Updates
// before offset are confirmed and forgotten, as Telegram does.
func (s *Server) getUpdates(w http.ResponseWriter, r *http.Request, p map[string]string) {
	offset, _ := strconv.ParseInt(p["offset"], 10, 64)
	timeout, _ := strconv.Atoi(p["timeout"])
	limit, err := strconv.Atoi(p["limit"])
	if err != nil || limit <= 0 || limit > 100 {
		limit = 100
	}
	deadline := time.NewTimer(time.Duration(max(timeout, 0)) * time.Second)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		if s.hookURL != "" {
			s.mu.Unlock()
			writeError(w, http.StatusConflict, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first", 0)
			return
		}
		if offset > 0 {
			s.confirm(offset)
		}
		batch := append([]models.Update{}, s.pending[:min(limit, len(s.pending))]...) // [] when none, as Telegram
		changed := s.changed
		s.mu.Unlock()
		if len(batch) > 0 || timeout <= 0 {
			writeResult(w, batch)
			return
		}
		select {
		case <-changed:
		case <-deadline.C:
			writeResult(w, []models.Update{})
			return
		case <-s.closed:
			writeResult(w, []models.Update{})
			return
		case <-r.Context().Done():
			return
		}
	}
}

// confirm forgets the updates before offset. Callers hold s.mu.
func (s *Server) confirm(offset int64) {
	i := 0
	for i < len(s.pending) && s.pending[i].ID < offset {
		i++
	}
	s.pending = s.pending[i:]
}

func (s *Server) sendMessage(w http.ResponseWriter, p map[string]string) {
	chat, err := strconv.ParseInt(p["chat_id"], 10, 64)
	if err != nil {
		badRequest(w, "chat not found")
		return
	}
	if msg := checkText(p["text"]); msg != "" {
		badRequest(w, msg)
		return
	}
	kb, msg := parseKeyboard(p["reply_markup"])
	if msg != "" {
		badRequest(w, msg)
		return
	}
	replyTo, msg := replyTo(p)
	if msg != "" {
		badRequest(w, msg)
		return
	}
	s.mu.Lock()
	out := s.add(&Message{ChatID: chat, Text: p["text"], Keyboard: kb, ReplyTo: replyTo, ParseMode: p["parse_mode"]})
	s.mu.Unlock()
	writeResult(w, out)
}

// Telegram's limits on photos.
const (
	maxPhotoBytes = 10 << 20
	maxCaption    = 1024
)

// sendPhoto takes the photo as an uploaded file part, or as the file_id of
// a file the fake knows, as Telegram does; the photo must be an image.
func (s *Server) sendPhoto(w http.ResponseWriter, p map[string]string, uploads map[string]upload) {
	chat, err := strconv.ParseInt(p["chat_id"], 10, 64)
	if err != nil {
		badRequest(w, "chat not found")
		return
	}
	if utf16Len(p["caption"]) > maxCaption {
		badRequest(w, "message caption is too long")
		return
	}
	kb, msg := parseKeyboard(p["reply_markup"])
	if msg != "" {
		badRequest(w, msg)
		return
	}
	replyTo, msg := replyTo(p)
	if msg != "" {
		badRequest(w, msg)
		return
	}
	up, uploaded := uploads["photo"]
	if !uploaded {
		s.mu.Lock()
		f := s.files[p["photo"]]
		s.mu.Unlock()
		switch {
		case p["photo"] == "":
			badRequest(w, "there is no photo in the request")
			return
		case f == nil:
			badRequest(w, "wrong file identifier/HTTP URL specified")
			return
		}
		up = upload{name: f.name, content: f.content}
	}
	if len(up.content) > maxPhotoBytes {
		badRequest(w, "PHOTO_SAVE_FILE_INVALID")
		return
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(up.content))
	if err != nil {
		badRequest(w, "IMAGE_PROCESS_FAILED")
		return
	}
	if cfg.Width+cfg.Height > 10000 || max(cfg.Width, cfg.Height) > 20*min(cfg.Width, cfg.Height) {
		badRequest(w, "PHOTO_INVALID_DIMENSIONS")
		return
	}
	s.mu.Lock()
	s.nextFile++
	f := s.addFile("photos", "photo-"+strconv.Itoa(s.nextFile), up.name, up.content)
	out := s.add(&Message{ChatID: chat, Keyboard: kb, ReplyTo: replyTo,
		Photo: f.content, PhotoName: up.name, Caption: p["caption"],
		photo: models.PhotoSize{FileID: f.id, FileUniqueID: "u-" + f.id, Width: cfg.Width, Height: cfg.Height,
			FileSize: len(f.content)}})
	s.mu.Unlock()
	writeResult(w, out)
}

// add records a message the bot sent and returns it as the API shows it.
// Callers hold s.mu.
func (s *Server) add(m *Message) models.Message {
	s.nextMsg++
	m.ID = s.nextMsg
	s.chats[m.ChatID] = append(s.chats[m.ChatID], m)
	s.byKey[msgKey{m.ChatID, m.ID}] = m
	return s.apiMessage(m)
}

// replyTo is the message a send replies to (0: none), from
// reply_parameters or the older reply_to_message_id.
func replyTo(p map[string]string) (int, string) {
	if rp := p["reply_parameters"]; rp != "" {
		var params models.ReplyParameters
		if err := json.Unmarshal([]byte(rp), &params); err != nil {
			return 0, "can't parse reply parameters JSON object"
		}
		return params.MessageID, ""
	}
	if id, err := strconv.Atoi(p["reply_to_message_id"]); err == nil {
		return id, ""
	}
	return 0, ""
}

func (s *Server) editMessageText(w http.ResponseWriter, p map[string]string) {
	if p["inline_message_id"] != "" {
		badRequest(w, "inline messages are not supported by tgfake")
		return
	}
	chat, err := strconv.ParseInt(p["chat_id"], 10, 64)
	if err != nil {
		badRequest(w, "chat not found")
		return
	}
	id, err := strconv.Atoi(p["message_id"])
	if err != nil {
		badRequest(w, "message identifier is not specified")
		return
	}
	if msg := checkText(p["text"]); msg != "" {
		badRequest(w, msg)
		return
	}
	kb, msg := parseKeyboard(p["reply_markup"]) // none: the keyboard goes
	if msg != "" {
		badRequest(w, msg)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.byKey[msgKey{chat, id}]
	switch {
	case m == nil && s.userMsgs[msgKey{chat, id}] != nil:
		badRequest(w, "message can't be edited")
		return
	case m == nil:
		badRequest(w, "message to edit not found")
		return
	case m.Photo != nil:
		badRequest(w, "there is no text in the message to edit")
		return
	case m.Text == p["text"] && sameKeyboard(m.Keyboard, kb):
		badRequest(w, "message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message")
		return
	}
	m.Text, m.Keyboard, m.ParseMode = p["text"], kb, p["parse_mode"]
	m.Edits++
	out := s.apiMessage(m)
	out.EditDate = int(time.Now().Unix())
	writeResult(w, out)
}

func (s *Server) answerCallbackQuery(w http.ResponseWriter, p map[string]string) {
	id := p["callback_query_id"]
	if utf16Len(p["text"]) > 200 {
		badRequest(w, "MESSAGE_TOO_LONG")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.openCBs[id] {
		badRequest(w, "query is too old and response timeout expired or query ID is invalid")
		return
	}
	delete(s.openCBs, id)
	s.answers = append(s.answers, CallbackAnswer{ID: id, Text: p["text"], ShowAlert: p["show_alert"] == "true"})
	writeResult(w, true)
}

func (s *Server) getFile(w http.ResponseWriter, p map[string]string) {
	s.mu.Lock()
	f := s.files[p["file_id"]]
	s.mu.Unlock()
	switch {
	case f == nil:
		badRequest(w, "invalid file_id")
	case len(f.content) > 20<<20:
		badRequest(w, "file is too big")
	default:
		writeResult(w, models.File{FileID: f.id, FileUniqueID: "u-" + f.id, FileSize: int64(len(f.content)), FilePath: f.path})
	}
}

func (s *Server) setWebhook(w http.ResponseWriter, p map[string]string) {
	if p["url"] == "" {
		badRequest(w, "bad webhook: HTTPS url must be provided for webhook")
		return
	}
	s.mu.Lock()
	s.hookURL, s.hookKey = p["url"], p["secret_token"]
	s.notify()
	s.mu.Unlock()
	writeResult(w, true)
}

// serveFile is GET /file/bot<token>/<file_path>.
func (s *Server) serveFile(w http.ResponseWriter, r *http.Request, rest string) {
	token, filePath, _ := strings.Cut(rest, "/")
	if token != s.token {
		writeError(w, http.StatusUnauthorized, "Unauthorized", 0)
		return
	}
	s.mu.Lock()
	s.calls["file"]++
	s.requests["file"] = append(s.requests["file"], Request{Method: "file", Params: map[string]string{"file_path": filePath}})
	fl, failing := s.takeFail("file")
	f := s.paths[filePath]
	s.mu.Unlock()
	if failing {
		fail(w, fl)
		return
	}
	if f == nil {
		writeError(w, http.StatusNotFound, "Not Found", 0)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(len(f.content)))
	_, _ = w.Write(f.content)
}

// apiMessage is m as the Bot API returns it. Callers hold s.mu.
func (s *Server) apiMessage(m *Message) models.Message {
	me := s.me
	out := models.Message{ID: m.ID, From: &me, Chat: s.chat(m.ChatID), Date: int(time.Now().Unix()), Text: m.Text}
	if m.Photo != nil {
		out.Photo = []models.PhotoSize{m.photo}
		out.Caption = m.Caption
	}
	if len(m.Keyboard) > 0 {
		kb := &models.InlineKeyboardMarkup{}
		for _, row := range m.Keyboard {
			var r []models.InlineKeyboardButton
			for _, b := range row {
				r = append(r, models.InlineKeyboardButton{Text: b.Text, CallbackData: b.Data})
			}
			kb.InlineKeyboard = append(kb.InlineKeyboard, r)
		}
		out.ReplyMarkup = kb
	}
	if m.ReplyTo != 0 {
		if orig := s.userMsgs[msgKey{m.ChatID, m.ReplyTo}]; orig != nil {
			cp := *orig
			out.ReplyToMessage = &cp
		}
	}
	return out
}

func (s *Server) chat(id int64) models.Chat {
	switch {
	case id < -1_000_000_000_000:
		return models.Chat{ID: id, Type: models.ChatTypeSupergroup, Title: fmt.Sprintf("Group %d", id)}
	case id < 0:
		return models.Chat{ID: id, Type: models.ChatTypeGroup, Title: fmt.Sprintf("Group %d", id)}
	}
	u := s.user(id)
	return models.Chat{ID: id, Type: models.ChatTypePrivate, FirstName: u.FirstName, Username: u.Username}
}

// checkText is what Telegram says of a bad message text, or "".
func checkText(text string) string {
	switch {
	case strings.TrimSpace(text) == "":
		return "message text is empty"
	case utf16Len(text) > 4096:
		return "message is too long"
	}
	return ""
}

// parseKeyboard decodes reply_markup into rows of buttons.
func parseKeyboard(raw string) ([][]Button, string) {
	if raw == "" {
		return nil, ""
	}
	var kb models.InlineKeyboardMarkup
	if err := json.Unmarshal([]byte(raw), &kb); err != nil {
		return nil, "can't parse reply keyboard markup JSON object"
	}
	var rows [][]Button
	for _, row := range kb.InlineKeyboard {
		var r []Button
		for _, b := range row {
			switch {
			case b.Text == "":
				return nil, "text buttons are unallowed in the inline keyboard"
			case b.CallbackData == "" && b.URL == "":
				return nil, "can't find field \"callback_data\""
			case len(b.CallbackData) > 64:
				return nil, "BUTTON_DATA_INVALID"
			}
			r = append(r, Button{Text: b.Text, Data: b.CallbackData})
		}
		if len(r) > 0 {
			rows = append(rows, r)
		}
	}
	return rows, ""
}

func sameKeyboard(a, b [][]Button) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return false
		}
		for j := range a[i] {
			if a[i][j] != b[i][j] {
				return false
			}
		}
	}
	return true
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}
