package pgtest

import (
	"fmt"
	"io"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// Proxy passes TCP connections on loopback through to the PostgreSQL server
// a URL names, until the test cuts them: an outage the client meets as
// real broken and refused connections, with the server left running.
type Proxy struct {
	ln              net.Listener
	network, server string
	url             string

	mu      sync.Mutex
	cut     bool
	refused int
	conns   map[net.Conn]struct{}
}

// NewProxy starts a proxy to the database dbURL points at; its URL is
// p.URL(). It stops when the test ends.
func NewProxy(t testing.TB, dbURL string) *Proxy {
	t.Helper()
	cfg, err := pgconn.ParseConfig(dbURL)
	if err != nil {
		t.Fatalf("parse the database URL: %v", err)
	}
	p := &Proxy{network: "tcp", server: net.JoinHostPort(cfg.Host, fmt.Sprint(cfg.Port)), conns: map[net.Conn]struct{}{}}
	if strings.HasPrefix(cfg.Host, "/") {
		p.network, p.server = "unix", filepath.Join(cfg.Host, fmt.Sprintf(".s.PGSQL.%d", cfg.Port))
	}
	p.ln, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatalf("parse the database URL: %v", err)
	}
	q := u.Query()
	q.Del("host")
	q.Del("port")
	q.Set("sslmode", "disable")
	u.Host, u.RawQuery = p.ln.Addr().String(), q.Encode()
	p.url = u.String()
	go p.serve()
	t.Cleanup(func() {
		p.ln.Close()
		p.Cut()
	})
	return p
}

// URL is the database's URL through the proxy.
func (p *Proxy) URL() string { return p.url }

// Cut closes every connection through the proxy, both ways, and closes new
// ones as soon as they arrive until Restore.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut, p.refused = true, 0
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

// Restore lets connections through again.
func (p *Proxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = false
}

// Refused is how many connections the proxy closed on arrival since the
// last Cut.
func (p *Proxy) Refused() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.refused
}

func (p *Proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.pass(c)
	}
}

// pass joins a client's connection to a new one to the server.
func (p *Proxy) pass(c net.Conn) {
	if !p.track(c) {
		return
	}
	s, err := net.Dial(p.network, p.server)
	if err != nil {
		c.Close()
		return
	}
	if !p.track(s) {
		c.Close()
		return
	}
	go func() {
		_, _ = io.Copy(s, c)
		s.Close()
	}()
	_, _ = io.Copy(c, s)
	c.Close()
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, s)
	p.mu.Unlock()
}

// track records a connection for Cut, or closes it if the proxy is cut.
func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cut {
		p.refused++
		c.Close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}
