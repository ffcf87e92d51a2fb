// Package smtpfake is a real SMTP server on loopback for tests and the
// bench: it takes mail over plain SMTP, STARTTLS or TLS from the first byte,
// with or without a login, keeps what it received, and refuses on request
// (a 4xx or 5xx to the next recipients) or goes down and comes back. It is
// github.com/emersion/go-smtp underneath; cardflow's binary never links it.
package smtpfake

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Security modes, as in config.
const (
	TLS      = "tls"
	StartTLS = "starttls"
	None     = "none"
)

// Options shape a Server.
type Options struct {
	Security string      // tls | starttls | none (default)
	TLS      *tls.Config // the certificate for tls and starttls
	// Username and Password, when set, are the only login accepted, and
	// mail is refused before it.
	Username, Password string
	// Discard keeps only the Message-IDs of what arrives, not the mails
	// (the bench's volumes).
	Discard bool
}

// Mail is one message as the server received it.
type Mail struct {
	From string
	To   []string
	Data []byte
}

// Server is a running fake mail server.
type Server struct {
	opts Options

	mu       sync.Mutex
	addr     string
	srv      *smtp.Server
	lis      net.Listener
	mails    []Mail
	ids      map[string]int // Message-ID → times received
	received int
	sessions int
	logins   int
	refusals []refusal
	done     chan struct{}
}

type refusal struct {
	code int
	n    int // letters left to refuse
}

// Start listens on a free loopback port and serves until Close.
func Start(opts Options) (*Server, error) {
	s := &Server{opts: opts, ids: map[string]int{}}
	if err := s.listen("127.0.0.1:0"); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Server) listen(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := smtp.NewServer(smtp.BackendFunc(s.newSession))
	srv.Domain = "localhost"
	srv.ErrorLog = log.New(io.Discard, "", 0) // cut connections are the tests' own doing
	srv.AllowInsecureAuth = s.opts.Security == None || s.opts.Security == ""
	srv.ReadTimeout, srv.WriteTimeout = time.Minute, time.Minute
	srv.MaxMessageBytes = 1 << 20
	switch s.opts.Security {
	case TLS:
		l = tls.NewListener(l, s.opts.TLS)
	case StartTLS:
		srv.TLSConfig = s.opts.TLS
	}
	done := make(chan struct{})
	s.mu.Lock()
	s.addr, s.srv, s.lis, s.done = l.Addr().String(), srv, l, done
	s.mu.Unlock()
	go func() {
		defer close(done)
		_ = srv.Serve(l)
	}()
	return nil
}

// Addr is the server's host:port.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// Host and Port are Addr's parts, for a config.
func (s *Server) Host() string { h, _, _ := net.SplitHostPort(s.Addr()); return h }

// Port is the port the server listens on.
func (s *Server) Port() int { return s.listenPort() }

func (s *Server) listenPort() int {
	_, p, _ := net.SplitHostPort(s.Addr())
	var n int
	_, _ = fmt.Sscan(p, &n)
	return n
}

// Down stops listening and cuts every connection: the mail server is
// unreachable until Up.
func (s *Server) Down() {
	s.mu.Lock()
	srv, lis, done := s.srv, s.lis, s.done
	s.srv, s.lis = nil, nil
	s.mu.Unlock()
	if srv != nil {
		_ = lis.Close() // Serve may not have registered it with srv yet
		_ = srv.Close()
		<-done
	}
}

// Up listens again on the same address.
func (s *Server) Up() error { return s.listen(s.Addr()) }

// Close stops the server for good.
func (s *Server) Close() { s.Down() }

// Refuse answers the next n recipients with code (a 4xx for "try later",
// a 5xx for "never"); refusals queue in the order given.
func (s *Server) Refuse(code, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refusals = append(s.refusals, refusal{code: code, n: n})
}

// Mails is a copy of what arrived, in order (empty with Discard).
func (s *Server) Mails() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.mails...)
}

// Received counts the mails taken, repeats included.
func (s *Server) Received() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.received
}

// Distinct counts the different Message-IDs taken.
func (s *Server) Distinct() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.ids)
}

// Sessions counts the connections that said EHLO.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions
}

// Logins counts the successful logins.
func (s *Server) Logins() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logins
}

func (s *Server) newSession(*smtp.Conn) (smtp.Session, error) {
	s.mu.Lock()
	s.sessions++
	s.mu.Unlock()
	return &session{s: s}, nil
}

type session struct {
	s      *Server
	authed bool
	from   string
	to     []string
}

func (x *session) AuthMechanisms() []string {
	if x.s.opts.Username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (x *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != x.s.opts.Username || pass != x.s.opts.Password {
			return smtp.ErrAuthFailed
		}
		x.authed = true
		x.s.mu.Lock()
		x.s.logins++
		x.s.mu.Unlock()
		return nil
	}), nil
}

func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	if x.s.opts.Username != "" && !x.authed {
		return smtp.ErrAuthRequired
	}
	x.from = from
	return nil
}

func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.s.mu.Lock()
	defer x.s.mu.Unlock()
	if len(x.s.refusals) > 0 {
		r := &x.s.refusals[0]
		code := r.code
		if r.n--; r.n <= 0 {
			x.s.refusals = x.s.refusals[1:]
		}
		return &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{code / 100, 0, 0}, Message: "refused by the test"}
	}
	x.to = append(x.to, to)
	return nil
}

func (x *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	id := messageID(b)
	x.s.mu.Lock()
	defer x.s.mu.Unlock()
	x.s.received++
	x.s.ids[id]++
	if !x.s.opts.Discard {
		x.s.mails = append(x.s.mails, Mail{From: x.from, To: x.to, Data: b})
	}
	return nil
}

func (x *session) Reset()        { x.from, x.to = "", nil }
func (x *session) Logout() error { return nil }

// messageID finds the Message-ID header of a raw message cheaply.
func messageID(b []byte) string {
	const h = "\nMessage-ID:"
	i := bytes.Index(b, []byte(h))
	if i < 0 {
		return ""
	}
	rest := b[i+len(h):]
	if j := bytes.IndexByte(rest, '\n'); j >= 0 {
		rest = rest[:j]
	}
	return string(bytes.TrimSpace(rest))
}

// SelfSigned makes a certificate for 127.0.0.1 and localhost: the server's
// TLS config, and the pool a client trusts it through.
func SelfSigned() (*tls.Config, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "smtpfake"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, IsCA: true, BasicConstraintsValid: true,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}, pool, nil
}

// ErrNoPart is returned by Parse for a message without a text part.
var ErrNoPart = errors.New("no text/plain part")
