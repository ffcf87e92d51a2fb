// Package console is the terminal operator channel: the person at the
// keyboard is an admin, commands are typed, buttons are shown as the
// commands they stand for, and alerts and the live order feed are printed.
package console

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"cardflow/bot/chat"
	"cardflow/bot/operator"
)

// Platform is the identity platform of console users.
const Platform = "console"

// Console reads commands from in and writes everything to out.
type Console struct {
	handler  *operator.Handler
	in       io.Reader
	out      io.Writer
	user     string
	chartDir string
	mu       sync.Mutex // one message at a time on the terminal
	sent     atomic.Uint64
}

// Option adjusts a Console.
type Option func(*Console)

// WithChartDir is where charts (a reply's Photo: the daily report's) are
// written, since a terminal cannot show images; the console prints their
// path. Empty, the default, is a cardflow-charts directory in os.TempDir():
// not the shared temp directory itself, so that the charts sit in a
// directory only this user can read.
func WithChartDir(dir string) Option {
	return func(c *Console) { c.chartDir = dir }
}

// New returns a console channel for the local user.
func New(b *operator.Handler, in io.Reader, out io.Writer, user string, opts ...Option) *Console {
	c := &Console{handler: b, in: in, out: out, user: user}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Authorizer makes the local console user an admin: whoever can type here
// can already read the data directory.
type Authorizer struct{ Name string }

// Operator implements operator.Authorizer.
func (a Authorizer) Operator(id chat.Identity) (operator.Operator, bool) {
	if id.Platform != Platform {
		return operator.Operator{}, false
	}
	return operator.Operator{Name: a.Name, Role: operator.RoleAdmin}, true
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
			c.handle(ctx, line)
		}
	}
}

// handle answers one typed line. A panic below is recovered, logged and
// audited (operator.Recover) and answered 出错了: the next line is read as usual.
func (c *Console) handle(ctx context.Context, line string) {
	line = strings.TrimSpace(line)
	if line == "" {
		return
	}
	if !strings.HasPrefix(line, "/") {
		line = "/" + line // typing "order 12" works too
	}
	from := chat.Identity{Platform: Platform, UserID: c.user, Name: c.user}
	defer c.handler.Recover(&operator.Inbound{From: from, Ref: Platform}, func() {
		c.write(chat.Reply{Text: chat.T(c.handler.Lang(), "internal")})
	})
	if r, ok := c.handler.Handle(ctx, chat.Message{From: from, Text: line, Private: true}); ok {
		c.write(r)
	}
}

// Dest is the console's queue name for the operator layer's senders.
const Dest = "console"

// PerMinute is the console sender's budget of messages a minute, as on
// Telegram: a storm of alerts or review prompts piles up between two
// messages and is printed as one digest rather than scrolled past one by
// one.
const PerMinute = 20

// Send prints a message. It implements chat.Channel; the terminal has one
// chat, so chat is ignored.
func (c *Console) Send(_ string, r chat.Reply) (string, error) {
	c.write(r)
	return strconv.FormatUint(c.sent.Add(1), 10), nil
}

// Edit prints the new text of an earlier message (a terminal cannot change
// what it printed).
func (c *Console) Edit(_, messageID string, r chat.Reply) error {
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

func (c *Console) write(r chat.Reply) {
	var b strings.Builder
	b.WriteString(r.Text)
	b.WriteByte('\n')
	if r.Photo != nil {
		if path, err := c.saveChart(r.Photo); err != nil {
			fmt.Fprintf(&b, "📈 chart not saved: %v\n", err)
		} else {
			fmt.Fprintf(&b, "📈 %s\n", path)
		}
	}
	if len(r.Buttons) > 0 {
		for i, btn := range r.Buttons {
			if i > 0 {
				b.WriteString("  ")
			}
			fmt.Fprintf(&b, "[%s: %s]", btn.Label, operator.ButtonCommand(btn.Data))
		}
		b.WriteByte('\n')
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	io.WriteString(c.out, b.String())
}

// saveChart writes a photo into the chart directory (created 0700 when
// missing) as a 0600 file named by the photo's base name, and returns its
// path. The file is written under a random name and renamed into place, so
// a half-written chart is never seen and a planted symlink of the same name
// is replaced, not followed.
func (c *Console) saveChart(p *chat.Photo) (string, error) {
	dir := c.chartDir
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "cardflow-charts")
	}
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	name := filepath.Base(p.Name)
	if name == "." || name == ".." || name == string(filepath.Separator) {
		name = "chart.png"
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("create chart directory: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".chart-*") // 0600
	if err != nil {
		return "", fmt.Errorf("create chart file: %w", err)
	}
	_, werr := tmp.Write(p.PNG)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		_ = os.Remove(tmp.Name())
		return "", fmt.Errorf("write chart %s: %w", tmp.Name(), err)
	}
	path := filepath.Join(dir, name)
	if err := os.Rename(tmp.Name(), path); err != nil {
		_ = os.Remove(tmp.Name())
		return "", fmt.Errorf("save chart: %w", err)
	}
	return path, nil
}
