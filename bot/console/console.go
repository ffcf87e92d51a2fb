// Package console is the terminal operator channel: the person at the
// keyboard is an admin, commands are typed, buttons are shown as the
// commands they stand for, and alerts and the live order feed are printed.
package console

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"cardflow/bot"
)

// Platform is the identity platform of console users.
const Platform = "console"

// Console reads commands from in and writes everything to out.
type Console struct {
	bot  *bot.Bot
	in   io.Reader
	out  io.Writer
	user string
	mu   sync.Mutex // one message at a time on the terminal
	sent atomic.Uint64
}

// New returns a console channel for the local user.
func New(b *bot.Bot, in io.Reader, out io.Writer, user string) *Console {
	return &Console{bot: b, in: in, out: out, user: user}
}

// Authorizer makes the local console user an admin: whoever can type here
// can already read the data directory.
type Authorizer struct{ Name string }

// Operator implements bot.Authorizer.
func (a Authorizer) Operator(id bot.Identity) (bot.Operator, bool) {
	if id.Platform != Platform {
		return bot.Operator{}, false
	}
	return bot.Operator{Name: a.Name, Role: bot.RoleAdmin}, true
}

// Run reads lines until in ends or ctx is done.
func (c *Console) Run(ctx context.Context) error {
	lines := make(chan string)
	errc := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(c.in)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
		errc <- sc.Err()
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-errc:
			return err
		case line := <-lines:
			line = strings.TrimSpace(line)
			if line == "" {
				continue
			}
			if !strings.HasPrefix(line, "/") {
				line = "/" + line // typing "order 12" works too
			}
			r, ok := c.bot.Handle(ctx, bot.Message{From: bot.Identity{Platform: Platform, UserID: c.user, Name: c.user}, Text: line})
			if ok {
				c.write(r)
			}
		}
	}
}

// Dest is the console's queue name for the operator layer's senders.
const Dest = "console"

// Send prints a message. It implements bot.Channel; the terminal has one
// chat, so chat is ignored.
func (c *Console) Send(_ string, r bot.Reply) (string, error) {
	c.write(r)
	return strconv.FormatUint(c.sent.Add(1), 10), nil
}

// Edit prints the new text of an earlier message (a terminal cannot change
// what it printed).
func (c *Console) Edit(_, messageID string, r bot.Reply) error {
	r.Text = "↪ " + r.Text
	c.write(r)
	return nil
}

// Println prints one line of the live feed.
func (c *Console) Println(line string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprintln(c.out, line)
}

func (c *Console) write(r bot.Reply) {
	var b strings.Builder
	b.WriteString(r.Text)
	b.WriteByte('\n')
	if len(r.Buttons) > 0 {
		for i, btn := range r.Buttons {
			if i > 0 {
				b.WriteString("  ")
			}
			fmt.Fprintf(&b, "[%s: %s]", btn.Label, bot.ButtonCommand(btn.Data))
		}
		b.WriteByte('\n')
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	io.WriteString(c.out, b.String())
}
