package telegram

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	ops "cardflow/bot"
)

// dispatch handles one update. The SDK runs it in a goroutine of its own, so
// a panic here would end the process: it is recovered and logged.
func (a *Adapter) dispatch(ctx context.Context, _ *tg.Bot, u *models.Update) {
	if !a.enter() {
		a.log.Warn().Msg("update arrived while stopping; dropped")
		return
	}
	defer a.leave()
	defer func() {
		if p := recover(); p != nil {
			a.log.Error().Str("panic", a.redact.Replace(fmt.Sprint(p))).Str("stack", string(debug.Stack())).
				Msg("update handler panicked; the update is dropped")
		}
	}()
	if u == nil {
		return
	}
	// Replies go out even when shutdown begins mid-update: the action they
	// report has happened.
	ctx = context.WithoutCancel(ctx)
	switch {
	case u.CallbackQuery != nil:
		a.onPress(ctx, u.CallbackQuery)
	case u.Message != nil:
		a.onMessage(ctx, u.Message)
	}
}

func (a *Adapter) enter() bool {
	a.flight.Lock()
	defer a.flight.Unlock()
	if a.flight.closing {
		return false
	}
	a.flight.wg.Add(1)
	return true
}

func (a *Adapter) leave() {
	a.handled.Add(1)
	a.flight.wg.Done()
}

// identity is how the operator layer knows a Telegram user: by id; the name
// is only for replies.
func identity(u *models.User) ops.Identity {
	name := strings.TrimSpace(u.FirstName)
	if name == "" {
		name = u.Username
	}
	return ops.Identity{Platform: Platform, UserID: strconv.FormatInt(u.ID, 10), Name: name}
}

func (a *Adapter) onMessage(ctx context.Context, m *models.Message) {
	if m.From == nil || m.From.IsBot {
		return // a channel post or an anonymous admin: nobody to authorize
	}
	if m.Document != nil {
		a.onDocument(ctx, m)
		return
	}
	text, ok := a.forUs(ctx, m.Text)
	if !ok {
		return
	}
	from := identity(m.From)
	r, ok := a.ops.Handle(ctx, ops.Message{From: from, Text: text, Private: m.Chat.Type == models.ChatTypePrivate})
	if !ok {
		return
	}
	a.reply(ctx, m.Chat.ID, m.ID, r, "command")
}

// forUs reports whether text is a command for this bot, and returns it
// without a leading mention. "/cmd", "/cmd@ourbot" and "@ourbot /cmd" are;
// "/cmd@otherbot" (a group with several bots) and plain text are not. The
// bot_command entity is not needed: a command pasted as plain text counts.
func (a *Adapter) forUs(ctx context.Context, text string) (string, bool) {
	fields := strings.Fields(text)
	for len(fields) > 0 && strings.HasPrefix(fields[0], "@") {
		if !a.isUs(ctx, fields[0][1:]) {
			return "", false
		}
		fields = fields[1:]
	}
	if len(fields) == 0 || !strings.HasPrefix(fields[0], "/") {
		return "", false
	}
	if _, suffix, ok := strings.Cut(fields[0], "@"); ok && !a.isUs(ctx, suffix) {
		return "", false
	}
	return text, true // bot.ParseCommand drops the mention and the suffix itself
}

// isUs compares a @name with the bot's username; while that is unknown
// (getMe failed), every name is taken to be ours.
func (a *Adapter) isUs(ctx context.Context, name string) bool {
	me := a.learnName(ctx)
	return me == "" || strings.EqualFold(name, me)
}

// onPress answers a button press. It always answers the callback query
// (Telegram shows a spinner until then) with the reply's first line; a reply
// meant to replace the pressed message is edited in, a long one (details) is
// posted, and a short one (a refusal) is only the toast.
func (a *Adapter) onPress(ctx context.Context, q *models.CallbackQuery) {
	answered := false
	defer func() {
		if !answered { // a panic below: still stop the spinner
			a.answer(ctx, q.ID, ops.T(a.ops.Lang(), "internal"))
		}
	}()
	r := a.ops.HandlePress(ctx, ops.Press{From: identity(&q.From), Data: q.Data})
	first, _, _ := strings.Cut(r.Text, "\n")
	a.answer(ctx, q.ID, first)
	answered = true

	chat, msgID := pressedMessage(q)
	switch {
	case chat == 0:
		// An inline message or one Telegram no longer tells us about.
		a.log.Info().Str("callback_id", q.ID).Msg("pressed message unknown; answered only")
	case r.Replace:
		err := a.edit(ctx, chat, msgID, r)
		if errors.Is(err, ops.ErrGone) {
			// The prompt is gone: say what was done in a new message.
			a.reply(ctx, chat, 0, r, "press result")
			return
		}
		if err != nil {
			a.log.Warn().Err(err).Int64("chat", chat).Int("message_id", msgID).Msg("edit pressed message failed")
		}
	case strings.Contains(r.Text, "\n"):
		a.reply(ctx, chat, msgID, r, "press details")
	}
}

// pressedMessage is where the pressed button is: an accessible message, or
// the ids of an inaccessible one (0 when there are none).
func pressedMessage(q *models.CallbackQuery) (int64, int) {
	switch {
	case q.Message.Message != nil:
		return q.Message.Message.Chat.ID, q.Message.Message.ID
	case q.Message.InaccessibleMessage != nil:
		return q.Message.InaccessibleMessage.Chat.ID, q.Message.InaccessibleMessage.MessageID
	}
	return 0, 0
}

// maxReplyWait is the longest 429 a reply waits out before giving up.
const maxReplyWait = 10 * time.Second

// reply sends r to a chat, waiting out one short 429 (a command's answer is
// not queued like alerts are). It logs ids and lengths, never the text.
func (a *Adapter) reply(ctx context.Context, chat int64, replyTo int, r ops.Reply, what string) {
	for attempt := 0; ; attempt++ {
		sctx, cancel := context.WithTimeout(ctx, sendTimeout)
		_, err := a.send(sctx, chat, r, replyTo)
		cancel()
		var rl *ops.RateLimitError
		if errors.As(err, &rl) && attempt == 0 && rl.RetryAfter <= maxReplyWait {
			a.log.Warn().Int64("chat", chat).Dur("retry_after", rl.RetryAfter).Msg("reply rate limited; waiting")
			t := time.NewTimer(rl.RetryAfter)
			<-t.C
			continue
		}
		if err != nil {
			a.log.Error().Err(err).Int64("chat", chat).Int("reply_to", replyTo).Int("text_len", len(r.Text)).
				Str("what", what).Msg("reply not sent")
		}
		return
	}
}
