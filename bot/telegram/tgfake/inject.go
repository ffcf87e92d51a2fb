package tgfake

import (
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/go-telegram/bot/models"
)

// InjectUpdate queues an update for getUpdates (or the webhook) and returns
// its update_id, assigned when u.ID is 0. A callback query in it becomes
// answerable.
func (s *Server) InjectUpdate(u models.Update) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inject(u)
}

// inject queues u. Callers hold s.mu.
func (s *Server) inject(u models.Update) int64 {
	if u.ID == 0 || u.ID <= s.nextUpd {
		s.nextUpd++
		u.ID = s.nextUpd
	} else {
		s.nextUpd = u.ID
	}
	if q := u.CallbackQuery; q != nil {
		if q.ID == "" {
			s.nextCB++
			q.ID = "cb-" + strconv.Itoa(s.nextCB)
		}
		s.openCBs[q.ID] = true
	}
	s.pending = append(s.pending, u)
	s.notify()
	return u.ID
}

// SetUser names a user in the updates the helpers make (by default "User<id>",
// no username).
func (s *Server) SetUser(id int64, firstName, username string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[id] = models.User{ID: id, FirstName: firstName, Username: username}
}

// user is a user of the helpers' updates. Callers hold s.mu.
func (s *Server) user(id int64) models.User {
	if u, ok := s.users[id]; ok {
		return u
	}
	return models.User{ID: id, FirstName: "User" + strconv.FormatInt(id, 10)}
}

// SendText injects a text message from a user to a chat; when it starts
// with '/', it carries a bot_command entity as Telegram's clients add. It
// returns the message's id.
func (s *Server) SendText(chatID, fromID int64, text string) int {
	return s.sendText(chatID, fromID, text, true)
}

// SendPlainText injects a text message without entities (a command pasted
// or typed where the client did not mark it).
func (s *Server) SendPlainText(chatID, fromID int64, text string) int {
	return s.sendText(chatID, fromID, text, false)
}

func (s *Server) sendText(chatID, fromID int64, text string, entities bool) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.userMessage(chatID, fromID)
	m.Text = text
	if entities {
		m.Entities = commandEntity(text)
	}
	s.inject(models.Update{Message: m})
	return m.ID
}

// SendDocument injects a document message with a caption, its file
// registered for getFile and download. It returns the message's id.
func (s *Server) SendDocument(chatID, fromID int64, caption, fileName string, content []byte) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextFile++
	id := "doc-" + strconv.Itoa(s.nextFile)
	f := s.addFile("documents", id, fileName, content)
	m := s.userMessage(chatID, fromID)
	m.Document = &models.Document{FileID: f.id, FileUniqueID: "u-" + f.id, FileName: fileName,
		MimeType: mimeOf(fileName), FileSize: int64(len(content))}
	m.Caption = caption
	m.CaptionEntities = commandEntity(caption)
	s.inject(models.Update{Message: m})
	return m.ID
}

// AddFile registers a file for getFile and GET /file/bot<token>/<file_path>.
func (s *Server) AddFile(fileID, name string, content []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addFile("documents", fileID, name, content)
}

// addFile registers a file under dir ("documents", "photos"). Callers hold
// s.mu.
func (s *Server) addFile(dir, fileID, name string, content []byte) *file {
	if old := s.files[fileID]; old != nil {
		delete(s.paths, old.path)
	}
	s.nextFile++
	f := &file{id: fileID, name: name, path: fmt.Sprintf("%s/file_%d%s", dir, s.nextFile, path.Ext(name)),
		content: append([]byte(nil), content...)}
	s.files[fileID] = f
	s.paths[f.path] = f
	return f
}

// userMessage is a new message from a user, remembered so that the bot's
// replies can quote it and its edits fail. Callers hold s.mu.
func (s *Server) userMessage(chatID, fromID int64) *models.Message {
	s.nextMsg++
	from := s.user(fromID)
	m := &models.Message{ID: s.nextMsg, From: &from, Chat: s.chat(chatID), Date: int(time.Now().Unix())}
	s.userMsgs[msgKey{chatID, m.ID}] = m
	return m
}

// Press injects a press of a button with callback data on a message, as
// the user fromID; a message the fake does not know arrives as an
// inaccessible one. It returns the callback query's id.
func (s *Server) Press(chatID, fromID int64, messageID int, data string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var msg models.MaybeInaccessibleMessage
	if m := s.byKey[msgKey{chatID, messageID}]; m != nil {
		am := s.apiMessage(m)
		msg = models.MaybeInaccessibleMessage{Type: models.MaybeInaccessibleMessageTypeMessage, Message: &am}
	} else {
		msg = inaccessible(s.chat(chatID), messageID)
	}
	return s.press(fromID, msg, data)
}

// PressInaccessible injects a press whose message Telegram no longer shows
// the bot (date 0): only its chat and id come with it.
func (s *Server) PressInaccessible(chatID, fromID int64, messageID int, data string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.press(fromID, inaccessible(s.chat(chatID), messageID), data)
}

func inaccessible(chat models.Chat, id int) models.MaybeInaccessibleMessage {
	return models.MaybeInaccessibleMessage{Type: models.MaybeInaccessibleMessageTypeInaccessibleMessage,
		InaccessibleMessage: &models.InaccessibleMessage{Chat: chat, MessageID: id}}
}

func (s *Server) press(fromID int64, msg models.MaybeInaccessibleMessage, data string) string {
	s.nextCB++
	id := "cb-" + strconv.Itoa(s.nextCB)
	q := &models.CallbackQuery{ID: id, From: s.user(fromID), Message: msg, ChatInstance: "ci-1", Data: data}
	s.inject(models.Update{CallbackQuery: q})
	return id
}

func commandEntity(text string) []models.MessageEntity {
	if !strings.HasPrefix(text, "/") {
		return nil
	}
	cmd := strings.Fields(text)[0]
	return []models.MessageEntity{{Type: models.MessageEntityTypeBotCommand, Offset: 0, Length: utf16Len(cmd)}}
}

func mimeOf(name string) string {
	switch strings.ToLower(path.Ext(name)) {
	case ".txt":
		return "text/plain"
	case ".csv":
		return "text/csv"
	case ".pdf":
		return "application/pdf"
	}
	return "application/octet-stream"
}

// Messages are the messages the bot sent to a chat, oldest first, as they
// are now.
func (s *Server) Messages(chatID int64) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, len(s.chats[chatID]))
	for i, m := range s.chats[chatID] {
		out[i] = copyMessage(m)
	}
	return out
}

// Message is one message the bot sent, as it is now.
func (s *Server) Message(chatID int64, id int) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.byKey[msgKey{chatID, id}]
	if m == nil {
		return Message{}, false
	}
	return copyMessage(m), true
}

func copyMessage(m *Message) Message {
	c := *m
	c.Photo = append([]byte(nil), m.Photo...)
	c.Keyboard = make([][]Button, len(m.Keyboard))
	for i, row := range m.Keyboard {
		c.Keyboard[i] = append([]Button(nil), row...)
	}
	return c
}

// Answers are the callback queries the bot answered, in order.
func (s *Server) Answers() []CallbackAnswer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]CallbackAnswer(nil), s.answers...)
}

// Answer is the answer to one callback query, if it was answered.
func (s *Server) Answer(callbackID string) (CallbackAnswer, bool) {
	for _, a := range s.Answers() {
		if a.ID == callbackID {
			return a, true
		}
	}
	return CallbackAnswer{}, false
}

// Calls is how many times the bot called method (case-insensitive; "file"
// counts downloads), failed calls included.
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[strings.ToLower(method)]
}

// Requests are the calls of method, oldest first.
func (s *Server) Requests(method string) []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests[strings.ToLower(method)]...)
}

// Pending is how many injected updates the bot has not confirmed (polling)
// or been delivered (webhook).
func (s *Server) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pending)
}

// Webhook is the webhook the bot set, with its secret token ("" when none).
func (s *Server) Webhook() (url, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hookURL, s.hookKey
}

// Pushed is how many updates the webhook accepted.
func (s *Server) Pushed() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pushed
}

// WaitFor polls cond every few milliseconds until it holds or timeout
// passes, and reports whether it held.
func (s *Server) WaitFor(cond func() bool, timeout time.Duration) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			return cond()
		case <-tick.C:
		}
	}
	return true
}
