package telegram

import (
	"bytes"
	"cardflow/bot/chat"
	"context"
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

// Telegram's limits, in UTF-16 code units as the Bot API counts them.
const (
	maxText       = 4096
	maxCaption    = 1024
	maxAnswer     = 200
	maxButtonData = 64
	buttonsPerRow = 2
)

// Send posts r to a chat (a decimal chat id, or @channel) and returns the new
// message's id. It implements chat.Channel.
func (a *Adapter) Send(chatID string, r chat.Reply) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), sendTimeout)
	defer cancel()
	m, err := a.send(ctx, chatRef(chatID), r, 0)
	if err != nil {
		return "", err
	}
	return strconv.Itoa(m.ID), nil
}

// Edit replaces the text and buttons of a message the bot sent; no buttons
// removes the keyboard. An unchanged message is not an error; a message that
// is gone or too old is chat.ErrGone. It implements chat.Channel.
func (a *Adapter) Edit(chatID, messageID string, r chat.Reply) error {
	id, err := strconv.Atoi(messageID)
	if err != nil {
		return fmt.Errorf("telegram edit %s/%s: %w", chatID, messageID, chat.ErrGone)
	}
	ctx, cancel := context.WithTimeout(context.Background(), sendTimeout)
	defer cancel()
	return a.edit(ctx, chatRef(chatID), id, r)
}

// send posts r, as a reply to message replyTo when it is not 0.
func (a *Adapter) send(ctx context.Context, chatID any, r chat.Reply, replyTo int) (*models.Message, error) {
	if r.Photo != nil {
		return a.sendPhoto(ctx, chatID, r, replyTo)
	}
	return a.sendText(ctx, chatID, r, replyTo)
}

// sendText posts r's text and buttons.
func (a *Adapter) sendText(ctx context.Context, chatID any, r chat.Reply, replyTo int) (*models.Message, error) {
	p := &tg.SendMessageParams{ChatID: chatID, Text: cut(r.Text, maxText), LinkPreviewOptions: noPreview()}
	if kb := a.keyboard(r.Buttons); kb != nil {
		p.ReplyMarkup = kb
	}
	if replyTo != 0 {
		p.ReplyParameters = &models.ReplyParameters{MessageID: replyTo, AllowSendingWithoutReply: true}
	}
	m, err := a.api.SendMessage(ctx, p)
	if err != nil {
		return nil, a.sendError("send", chatID, err)
	}
	a.log.Debug().Interface("chat", chatID).Int("message_id", m.ID).Int("text_len", len(p.Text)).
		Int("buttons", len(r.Buttons)).Msg("message sent")
	return m, nil
}

// sendPhoto posts r's photo with the text as its caption and the buttons
// under it when the text fits a caption. A longer text (a full daily report)
// follows the photo as a message of its own, with the buttons; the photo
// then carries only the text's first line. The message returned is the one
// with the text, which later edits target.
//
// If the photo goes out and the text does not, the error is returned and a
// retry posts the photo again: a second chart is better than a lost report.
func (a *Adapter) sendPhoto(ctx context.Context, chatID any, r chat.Reply, replyTo int) (*models.Message, error) {
	whole := utf16Len(r.Text) <= maxCaption
	p := &tg.SendPhotoParams{ChatID: chatID,
		Photo: &models.InputFileUpload{Filename: photoName(r.Photo.Name), Data: bytes.NewReader(r.Photo.PNG)}}
	if whole {
		p.Caption = r.Text
		if kb := a.keyboard(r.Buttons); kb != nil {
			p.ReplyMarkup = kb
		}
	} else if first, _, _ := strings.Cut(r.Text, "\n"); strings.TrimSpace(first) != "" {
		p.Caption = cut(first, maxCaption)
	}
	if replyTo != 0 {
		p.ReplyParameters = &models.ReplyParameters{MessageID: replyTo, AllowSendingWithoutReply: true}
	}
	m, err := a.api.SendPhoto(ctx, p)
	if err != nil {
		return nil, a.sendError("send photo", chatID, err)
	}
	a.log.Debug().Interface("chat", chatID).Int("message_id", m.ID).Int("photo_bytes", len(r.Photo.PNG)).
		Int("caption_len", len(p.Caption)).Bool("text_follows", !whole).Msg("photo sent")
	if whole {
		return m, nil
	}
	return a.sendText(ctx, chatID, chat.Reply{Text: r.Text, Buttons: r.Buttons}, replyTo)
}

// photoName is the upload's file name; Telegram wants one.
func photoName(name string) string {
	if name = path.Base(strings.ReplaceAll(name, "\\", "/")); name == "." || name == ".." || name == "/" {
		return "chart.png"
	}
	return name
}

func (a *Adapter) edit(ctx context.Context, chatID any, id int, r chat.Reply) error {
	kb := a.keyboard(r.Buttons)
	if kb == nil {
		kb = &inlineKeyboard{InlineKeyboard: [][]inlineButton{}} // removes it
	}
	p := &tg.EditMessageTextParams{ChatID: chatID, MessageID: id, Text: cut(r.Text, maxText), ReplyMarkup: kb,
		LinkPreviewOptions: noPreview()}
	_, err := a.api.EditMessageText(ctx, p)
	switch {
	case err == nil:
		a.log.Debug().Interface("chat", chatID).Int("message_id", id).Int("text_len", len(p.Text)).Msg("message edited")
		return nil
	case isBadRequest(err, "message is not modified"):
		return nil
	case isBadRequest(err, "message to edit not found", "message can't be edited", "message_id_invalid",
		"message not found", "message identifier is not specified"):
		return fmt.Errorf("telegram edit %v/%d: %w: %s", chatID, id, chat.ErrGone, a.clean(err))
	}
	return a.sendError("edit", chatID, err)
}

// answer answers a callback query with a toast.
func (a *Adapter) answer(ctx context.Context, queryID, text string) {
	_, err := a.api.AnswerCallbackQuery(ctx, &tg.AnswerCallbackQueryParams{CallbackQueryID: queryID, Text: cut(text, maxAnswer)})
	if err != nil {
		a.log.Warn().Err(a.clean(err)).Str("callback_id", queryID).Msg("answer callback query failed")
	}
}

// inlineKeyboard and inlineButton are Telegram's inline keyboard with only
// the fields we send. The library's InlineKeyboardButton marshals an empty
// "copy_text" object on every button (a value field under omitempty), which
// the Bot API may take as a second button type and refuse.
type inlineKeyboard struct {
	InlineKeyboard [][]inlineButton `json:"inline_keyboard"`
}

type inlineButton struct {
	Text         string `json:"text"`
	CallbackData string `json:"callback_data"`
}

// keyboard lays buttons out two to a row; nil when there are none.
func (a *Adapter) keyboard(buttons []chat.Button) *inlineKeyboard {
	var rows [][]inlineButton
	for _, b := range buttons {
		if len(b.Data) > maxButtonData || b.Data == "" {
			// Telegram would refuse the whole message; the text still tells.
			a.log.Error().Int("data_len", len(b.Data)).Msg("button dropped: callback data must be 1-64 bytes")
			continue
		}
		label := b.Label
		if label == "" {
			label = b.Data
		}
		btn := inlineButton{Text: label, CallbackData: b.Data}
		if n := len(rows); n == 0 || len(rows[n-1]) == buttonsPerRow {
			rows = append(rows, []inlineButton{btn})
		} else {
			rows[n-1] = append(rows[n-1], btn)
		}
	}
	if len(rows) == 0 {
		return nil
	}
	return &inlineKeyboard{InlineKeyboard: rows}
}

func noPreview() *models.LinkPreviewOptions { return &models.LinkPreviewOptions{IsDisabled: tg.True()} }

// chatID is a decimal chat id as a number, anything else (@channel) as is.
func chatRef(chatID string) any {
	if id, err := strconv.ParseInt(chatID, 10, 64); err == nil {
		return id
	}
	return chatID
}

// utf16Len is the length of s in UTF-16 code units.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += max(utf16.RuneLen(r), 1)
	}
	return n
}

// cut shortens s to at most n UTF-16 code units (how the Bot API counts),
// ending with "…" when it had to, and never splitting a character. An empty
// text, which Telegram refuses, becomes "…".
func cut(s string, n int) string {
	if s == "" {
		return "…"
	}
	units, keep := 0, 0 // keep: bytes of the longest prefix that leaves room for "…"
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		w := utf16.RuneLen(r)
		if w < 0 {
			w = 1
		}
		if units+w > n {
			return s[:keep] + "…"
		}
		units += w
		i += size
		if units <= n-1 {
			keep = i
		}
	}
	return s
}

// sendError maps a failed call: 429 → *chat.RateLimitError, anything else an
// error naming what failed, with the token redacted.
func (a *Adapter) sendError(what string, chatID any, err error) error {
	var tooMany *tg.TooManyRequestsError
	if errors.As(err, &tooMany) {
		return &chat.RateLimitError{RetryAfter: time.Duration(max(tooMany.RetryAfter, 1)) * time.Second}
	}
	return fmt.Errorf("telegram %s to %v: %w", what, chatID, a.clean(err))
}

// isBadRequest reports a 400 whose description contains one of subs.
func isBadRequest(err error, subs ...string) bool {
	if !errors.Is(err, tg.ErrorBadRequest) {
		return false
	}
	msg := strings.ToLower(err.Error())
	for _, s := range subs {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// redactedError is an error with secrets taken out of its text. It still
// unwraps to the original, for errors.Is / As.
type redactedError struct {
	text  string
	cause error
}

func (e *redactedError) Error() string { return e.text }
func (e *redactedError) Unwrap() error { return e.cause }

const redacted = "<redacted>"

func newRedactor(secrets ...string) *strings.Replacer {
	var pairs []string
	for _, s := range secrets {
		if s != "" {
			pairs = append(pairs, s, redacted)
		}
	}
	return strings.NewReplacer(pairs...)
}

// clean redacts the token (and proxy password) from err's text and drops
// response bodies the SDK quotes when it cannot decode them: they may be
// our own message text.
func (a *Adapter) clean(err error) error {
	if err == nil {
		return nil
	}
	text := a.redact.Replace(err.Error())
	for _, marker := range []string{"error decode response body for method ", "error decode request body, "} {
		if i := strings.Index(text, marker); i >= 0 {
			rest := text[i+len(marker):]
			method, _, _ := strings.Cut(rest, ",")
			if strings.HasPrefix(marker, "error decode request") {
				method = "webhook update"
			}
			text = text[:i] + "undecodable body (" + method + ")"
		}
	}
	return &redactedError{text: text, cause: err}
}
