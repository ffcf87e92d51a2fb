package mail

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	gomail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"
	"golang.org/x/time/rate"

	"cardflow/config"
)

// Options tune a Sender.
type Options struct {
	// Connections is how many SMTP connections are kept open at most; as
	// many letters go out at once. Default 4.
	Connections int
	// IdleFor is how long an unused connection is kept: servers close idle
	// ones (often after a minute), so older ones are dialled afresh.
	// Default 30s.
	IdleFor time.Duration
	// Rate caps the letters sent per second, so that a burst of mails (a
	// sale, a mail server back after an outage) never takes the CPU that
	// orders need: mail can wait, orders cannot. Default 300 (10,000
	// letters in about half a minute); below 0, no cap.
	Rate float64
	// Timeout bounds dialling and each SMTP command. Default 15s.
	Timeout time.Duration
	// RootCAs, when set, is the only roots a server certificate is checked
	// against (tests trust their own certificate so); nil means the
	// system's.
	RootCAs *x509.CertPool
	// HELO is the name said in EHLO; default "localhost".
	HELO string
	Log  zerolog.Logger
}

// Sender sends letters through one mail server over a pool of reused
// connections. It is safe for concurrent use; at most Connections letters
// are in flight, the others wait their turn.
type Sender struct {
	client  *gomail.Client // settings only: connections are dialled one by one
	from    *mail.Address
	letters *templates
	addr    string
	idleFor time.Duration
	log     zerolog.Logger

	pace  *rate.Limiter // nil: no cap
	slots chan struct{} // one per connection that may be in use
	mu    sync.Mutex
	idle  []*conn // most recently used last
	shut  bool
}

type conn struct {
	c    *smtp.Client
	raw  net.Conn // closed to cut a send short when its context ends
	used time.Time
}

// connSlot carries, in a dial's context, where the dialled connection is
// put: go-mail leaves a connection open when the greeting, STARTTLS or the
// login fails after it connected, and its commands heed deadlines, not
// contexts; the sender closes it in both cases.
type connSlot struct{}

type slot struct {
	mu     sync.Mutex
	c      net.Conn
	closed bool
}

func (s *slot) set(c net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		_ = c.Close()
	}
	s.c = c
}

func (s *slot) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	if s.c != nil {
		_ = s.c.Close()
	}
}

// New builds a Sender for a configured mail server. Nothing is dialled
// before the first letter.
func New(e config.Email, opts Options) (*Sender, error) {
	if opts.Connections <= 0 {
		opts.Connections = 4
	}
	if opts.IdleFor <= 0 {
		opts.IdleFor = 30 * time.Second
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 15 * time.Second
	}
	if opts.Rate == 0 {
		opts.Rate = 300
	}
	if opts.HELO == "" {
		opts.HELO = "localhost"
	}
	from, err := mail.ParseAddress(e.From)
	if err != nil {
		return nil, fmt.Errorf("mail sender address: %w", err)
	}
	letters, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	port := e.Port
	if port == 0 {
		port = config.DefaultPort(e.Security)
	}
	tlsConfig := &tls.Config{ServerName: e.Host, RootCAs: opts.RootCAs, MinVersion: tls.VersionTLS12}
	implicit := e.Security == config.SecurityTLS || e.Security == ""
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		d := &net.Dialer{Timeout: opts.Timeout}
		var c net.Conn
		var err error
		if implicit {
			c, err = (&tls.Dialer{NetDialer: d, Config: tlsConfig}).DialContext(ctx, network, addr)
		} else {
			c, err = d.DialContext(ctx, network, addr)
		}
		if sl, ok := ctx.Value(connSlot{}).(*slot); ok && err == nil {
			sl.set(c)
		}
		return c, err
	}
	// No NOOP before and no RSET after each letter: two round trips of
	// six. A connection the server dropped meanwhile fails at MAIL FROM,
	// before the letter is offered, and is dialled again (Send).
	clientOpts := []gomail.Option{gomail.WithPort(port), gomail.WithTimeout(opts.Timeout), gomail.WithHELO(opts.HELO),
		gomail.WithTLSConfig(tlsConfig), gomail.WithDialContextFunc(dial), gomail.WithoutNoop(), gomail.WithoutRset()}
	switch e.Security {
	case config.SecurityStartTLS:
		clientOpts = append(clientOpts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	default: // TLS from the first byte is the dialler's; none is none
		clientOpts = append(clientOpts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if e.Username != "" {
		auth := []gomail.SMTPAuthType{gomail.SMTPAuthPlain, gomail.SMTPAuthLogin}
		if e.Security == config.SecurityNone { // allowed only to a private relay (config)
			auth = []gomail.SMTPAuthType{gomail.SMTPAuthPlainNoEnc, gomail.SMTPAuthLoginNoEnc}
		}
		clientOpts = append(clientOpts, gomail.WithOpportunisticSMTPAuth(auth...),
			gomail.WithUsername(e.Username), gomail.WithPassword(e.Password.Reveal()))
	}
	client, err := gomail.NewClient(e.Host, clientOpts...)
	if err != nil {
		return nil, fmt.Errorf("mail client: %w", err)
	}
	s := &Sender{client: client, from: from, letters: letters, addr: net.JoinHostPort(e.Host, strconv.Itoa(port)),
		idleFor: opts.IdleFor, log: opts.Log.With().Str("component", "mail").Logger(),
		slots: make(chan struct{}, opts.Connections)}
	if opts.Rate > 0 {
		s.pace = rate.NewLimiter(rate.Limit(opts.Rate), opts.Connections)
	}
	return s, nil
}

// Connections is how many letters go out at once.
func (s *Sender) Connections() int { return cap(s.slots) }

// Server is the mail server's host:port, for alerts and logs.
func (s *Sender) Server() string { return s.addr }

// Render writes a letter without sending it.
func (s *Sender) Render(l Letter) (Rendered, error) { return s.letters.render(l) }

// Send writes and sends one letter. A *RejectedError means the server
// refused it for good; any other error is worth another try later. The
// error says what the server or the network said, never a key.
func (s *Sender) Send(ctx context.Context, l Letter) error {
	r, err := s.letters.render(l)
	if err != nil {
		return err
	}
	msg, err := message(l, r, s.from)
	if err != nil {
		return err
	}
	if s.pace != nil {
		if err := s.pace.Wait(ctx); err != nil {
			return fmt.Errorf("wait for a mail's turn: %w", err)
		}
	}
	select {
	case s.slots <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("wait for a mail connection: %w", ctx.Err())
	}
	defer func() { <-s.slots }()
	for {
		c, reused, err := s.take(ctx)
		if err != nil {
			return err
		}
		stop := context.AfterFunc(ctx, func() { _ = c.raw.Close() })
		err = s.client.SendWithSMTPClient(c.c, msg)
		if !stop() { // cut short: the connection is closed
			if err == nil || msg.IsDelivered() {
				return nil
			}
			return fmt.Errorf("send mail: %w", ctx.Err())
		}
		if err == nil || msg.IsDelivered() { // a failed RSET after the server took the letter is no failure
			s.put(c, err == nil)
			return nil
		}
		var se *gomail.SendError
		isSend := errors.As(err, &se)
		// A reused connection the server closed meanwhile (silently, or
		// saying 421 as it went) fails before the letter was offered: try
		// once more on a new one.
		if reused && isSend && (se.ErrorCode() == 0 || se.ErrorCode() == 421) &&
			(se.Reason == gomail.ErrConnCheck || se.Reason == gomail.ErrSMTPMailFrom) {
			s.drop(c)
			continue
		}
		s.put(c, isSend && se.ErrorCode() != 0 && se.Reason != gomail.ErrConnCheck)
		return classify(err)
	}
}

// take returns an idle connection, or dials one; reused says which.
func (s *Sender) take(ctx context.Context) (*conn, bool, error) {
	now := time.Now()
	s.mu.Lock()
	for len(s.idle) > 0 {
		c := s.idle[len(s.idle)-1]
		s.idle = s.idle[:len(s.idle)-1]
		if now.Sub(c.used) < s.idleFor {
			s.mu.Unlock()
			return c, true, nil
		}
		go s.quit(c) // stale: the server may have closed it already
	}
	s.mu.Unlock()
	sl := &slot{}
	stop := context.AfterFunc(ctx, sl.close)
	c, err := s.client.DialToSMTPClientWithContext(context.WithValue(ctx, connSlot{}, sl))
	cut := !stop()
	switch {
	case err != nil:
		sl.close()
		return nil, false, fmt.Errorf("mail server %s: %s", s.addr, clean(err))
	case cut:
		return nil, false, fmt.Errorf("mail server %s: %w", s.addr, ctx.Err())
	}
	return &conn{c: c, raw: sl.c}, false, nil
}

// put gives a connection back to the pool, or closes it when it may be in
// a state of the protocol the next letter cannot start from.
func (s *Sender) put(c *conn, keep bool) {
	if !keep {
		s.drop(c)
		return
	}
	c.used = time.Now()
	s.mu.Lock()
	if s.shut {
		s.mu.Unlock()
		s.quit(c)
		return
	}
	s.idle = append(s.idle, c)
	s.mu.Unlock()
}

func (s *Sender) drop(c *conn) { _ = c.c.Close() }

func (s *Sender) quit(c *conn) {
	if err := c.c.Quit(); err != nil {
		_ = c.c.Close()
	}
}

// Close says goodbye on every idle connection. Letters still in flight
// close theirs when they end.
func (s *Sender) Close() {
	s.mu.Lock()
	idle := s.idle
	s.idle, s.shut = nil, true
	s.mu.Unlock()
	for _, c := range idle {
		s.quit(c)
	}
}

// classify turns a failed send into a *RejectedError when the server
// refused the letter for good, or a plain error worth another try.
func classify(err error) error {
	var se *gomail.SendError
	if !errors.As(err, &se) {
		return fmt.Errorf("send mail: %s", clean(err))
	}
	text := clean(se)
	permanent := se.ErrorCode() >= 500 && se.ErrorCode() <= 599
	switch {
	case permanent && (se.Reason == gomail.ErrSMTPRcptTo || se.Reason == gomail.ErrSMTPData ||
		se.Reason == gomail.ErrSMTPDataClose || se.Reason == gomail.ErrWriteContent):
		return &RejectedError{Code: se.ErrorCode(), Text: text}
	case se.Reason == gomail.ErrNoUnencoded:
		return &RejectedError{Text: text}
	}
	// A 5xx to MAIL FROM refuses the sender, not the letter: the
	// operator's to fix (from, or the login's rights), so it is retried.
	return fmt.Errorf("send mail: %s", text)
}

// clean is an error's text without go-mail's trailer naming the message
// and without line breaks a server may have put in its reply.
func clean(err error) string {
	s := err.Error()
	if i := strings.Index(s, ", affected message ID:"); i >= 0 {
		s = s[:i]
	}
	return strings.Join(strings.Fields(s), " ")
}
