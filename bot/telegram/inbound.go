package telegram

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"cardflow/bot/chat"
	"cardflow/bot/operator"
)

// dispatch handles one update, if it comes from a chat the operators use
// (see from). The SDK runs it in a goroutine of its own, so a panic here
// would end the process: it is recovered, logged and audited (operator.Recover),
// and the sender is told 出错了 — a press by its answer, a message by a
// reply. The update counts as consumed either way: Telegram does not send
// it again.
func (a *Adapter) dispatch(ctx context.Context, _ *tg.Bot, u *models.Update) {
	if !a.enter() {
		a.log.Warn().Msg("update arrived while stopping; dropped")
		return
	}
	defer a.leave()
	if u == nil {
		return
	}
	in := &operator.Inbound{From: chat.Identity{Platform: Platform}, Ref: "telegram:update:" + strconv.FormatInt(u.ID, 10),
		Clean: a.redact.Replace}
	var answer func() // how to tell the sender, once the update is known to count
	defer a.handler.Recover(in, func() {
		if answer != nil {
			answer()
		}
	})
	// Replies go out even when shutdown begins mid-update: the action they
	// report has happened.
	ctx = context.WithoutCancel(ctx)
	switch {
	case u.CallbackQuery != nil:
		q := u.CallbackQuery
		in.From = identity(&q.From)
		chatID, _ := pressedMessage(q)
		if !a.from(chatID, &q.From) {
			return
		}
		a.onPress(ctx, q) // answers the press itself, also on a panic
	case u.Message != nil:
		m := u.Message
		if m.From == nil || m.From.IsBot {
			return // a channel post or an anonymous admin: nobody to authorize
		}
		in.From = identity(m.From)
		if !a.from(m.Chat, m.From) {
			return
		}
		answer = func() {
			a.reply(ctx, m.Chat.ID, m.ID, chat.Reply{Text: chat.T(a.handler.Lang(), "internal")}, "internal error")
		}
		a.onMessage(ctx, m)
	}
}

// from reports whether an update from user in chat counts: in a configured
// group (where strangers are refused and audited by the operator layer),
// or in a configured operator's private chat. Anything else — another
// group the bot was added to, a stranger writing to the bot — is ignored
// without an answer or an audit entry.
func (a *Adapter) from(in models.Chat, user *models.User) bool {
	var ok bool
	if in.Type == models.ChatTypePrivate {
		ok = in.ID == user.ID && a.handler.IsOperator(identity(user))
	} else {
		ok = in.ID != 0 && slices.Contains(a.groups, in.ID)
	}
	if !ok {
		a.log.Debug().Int64("chat", in.ID).Str("chat_type", string(in.Type)).Msg("update from a chat that is not the operators' ignored")
	}
	return ok
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
func identity(u *models.User) chat.Identity {
	name := strings.TrimSpace(u.FirstName)
	if name == "" {
		name = u.Username
	}
	return chat.Identity{Platform: Platform, UserID: strconv.FormatInt(u.ID, 10), Name: name}
}

func (a *Adapter) onMessage(ctx context.Context, m *models.Message) {
	if m.Document != nil {
		a.onDocument(ctx, m)
		return
	}
	text, ok := a.forUs(ctx, m.Text)
	if !ok {
		return
	}
	from := identity(m.From)
	r, ok := a.handler.Handle(ctx, chat.Message{From: from, Text: text, Private: m.Chat.Type == models.ChatTypePrivate})
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
	return text, true // operator.ParseCommand drops the mention and the suffix itself
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
			a.answer(ctx, q.ID, chat.T(a.handler.Lang(), "internal"))
		}
	}()
	r := a.handler.HandlePress(ctx, chat.Press{From: identity(&q.From), Data: q.Data})
	first, _, _ := strings.Cut(r.Text, "\n")
	a.answer(ctx, q.ID, first)
	answered = true

	pressed, msgID := pressedMessage(q)
	chatID := pressed.ID
	switch {
	case chatID == 0:
		// An inline message or one Telegram no longer tells us about.
		a.log.Info().Str("callback_id", q.ID).Msg("pressed message unknown; answered only")
	case r.Replace:
		err := a.edit(ctx, chatID, msgID, r)
		if errors.Is(err, chat.ErrGone) {
			// The prompt is gone: say what was done in a new message.
			a.reply(ctx, chatID, 0, r, "press result")
			return
		}
		if err != nil {
			a.log.Warn().Err(err).Int64("chat", chatID).Int("message_id", msgID).Msg("edit pressed message failed")
		}
	case strings.Contains(r.Text, "\n"):
		a.reply(ctx, chatID, msgID, r, "press details")
	}
}

// pressedMessage is where the pressed button is: an accessible message, or
// the chat and id of an inaccessible one (a zero chat when there are none).
func pressedMessage(q *models.CallbackQuery) (models.Chat, int) {
	switch {
	case q.Message.Message != nil:
		return q.Message.Message.Chat, q.Message.Message.ID
	case q.Message.InaccessibleMessage != nil:
		return q.Message.InaccessibleMessage.Chat, q.Message.InaccessibleMessage.MessageID
	}
	return models.Chat{}, 0
}

// maxReplyWait is the longest 429 a reply waits out before giving up.
const maxReplyWait = 10 * time.Second

// reply sends r to a chat, waiting out one short 429 (a command's answer is
// not queued like alerts are). It logs ids and lengths, never the text.
func (a *Adapter) reply(ctx context.Context, chatID int64, replyTo int, r chat.Reply, what string) {
	for attempt := 0; ; attempt++ {
		sctx, cancel := context.WithTimeout(ctx, sendTimeout)
		_, err := a.send(sctx, chatID, r, replyTo)
		cancel()
		var rl *chat.RateLimitError
		if errors.As(err, &rl) && attempt == 0 && rl.RetryAfter <= maxReplyWait {
			a.log.Warn().Int64("chat", chatID).Dur("retry_after", rl.RetryAfter).Msg("reply rate limited; waiting")
			t := time.NewTimer(rl.RetryAfter)
			<-t.C
			continue
		}
		if err != nil {
			a.log.Error().Err(err).Int64("chat", chatID).Int("reply_to", replyTo).Int("text_len", len(r.Text)).
				Str("what", what).Msg("reply not sent")
		}
		return
	}
}
