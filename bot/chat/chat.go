// Package chat is the vocabulary the chat adapters and the operator layer
// share: who wrote (Identity), what they sent (Message, Press), what is
// answered (Reply, Button, Photo), a platform as the layer sends to it
// (Channel), and the text of operators' chats — the zh/en catalogue (T),
// status and action names, and the escaping of values someone else
// controls (Untrusted, Clean).
package chat

import (
	"fmt"
	"time"
)

// Identity is who wrote a message or pressed a button, as the platform says.
type Identity struct {
	Platform string // console, telegram, qq
	UserID   string
	Name     string // display name, for replies only
}

// Message is a text an operator sent.
type Message struct {
	From Identity
	Text string
	// Private: the chat is one to one with the bot (a Telegram private
	// chat, QQ C2C, the console), so an answer is read by the sender
	// alone. Bind codes are only issued there.
	Private bool
}

// Press is a button an operator pressed; Data is the button's Data.
type Press struct {
	From Identity
	Data string
}

// Reply is what the bot answers or announces.
type Reply struct {
	Text    string
	Buttons []Button
	// Replace: the answer to a button press belongs in place of the pressed
	// message (it records what was done and by whom). Otherwise a press's
	// answer is a notice to the presser (a refusal) or, when long, a new
	// message (details).
	Replace bool
	// Photo, if set, goes with the text: the daily report's chart.
	Photo *Photo
}

// Photo is an image sent with a reply.
type Photo struct {
	Name string // file name, e.g. report-2026-11-24.png
	PNG  []byte
}

// Button is an inline button. Data is short (Telegram allows 64 bytes):
// "o:ap:12" approves order 12.
type Button struct {
	Label string
	Data  string
}

// Shanghai is the shop's default time zone; a fixed +08:00 stands in when the
// system has no zone data (Go's embedded tzdata is linked by cmd/cardflow).
func Shanghai() *time.Location {
	if loc, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return loc
	}
	return time.FixedZone("CST", 8*3600)
}

// Short writes a duration the way a phone screen wants it: 850ms, 8.5s,
// 4.2min, 3.1h.
func Short(d time.Duration) string {
	switch {
	case d <= 0:
		return "-"
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%.1fmin", d.Minutes())
	}
	return fmt.Sprintf("%.1fh", d.Hours())
}
