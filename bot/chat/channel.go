package chat

import (
	"errors"
	"fmt"
	"time"
)

// Channel is a chat platform as the operator layer sends to it. Adapters
// (bot/telegram, bot/console) implement it; the layer's senders call it.
type Channel interface {
	// Send posts r to a chat and returns the new message's id there.
	Send(chat string, r Reply) (messageID string, err error)
	// Edit replaces the text and buttons of a message sent before.
	Edit(chat, messageID string, r Reply) error
}

// RateLimitError is a platform asking us to wait before sending again
// (Telegram's 429 with retry_after).
type RateLimitError struct {
	RetryAfter time.Duration
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("rate limited: retry after %s", e.RetryAfter)
}

// ErrGone is a message that cannot be edited any more (deleted, too old):
// the sender posts a new one instead.
var ErrGone = errors.New("message cannot be edited")

// ErrNoWindow is a platform that cannot take a message now but will later
// without being asked again: QQ sends only in reply to an operator, within
// a few minutes of their message. The sender keeps the messages queued and
// tries again when kicked (an operator spoke) or after a while.
var ErrNoWindow = errors.New("no reply window open")
