// Package outbound builds every HTTP client cardflow sends requests with:
// storefront callbacks, suppliers, the chat platforms, the admin CLI and the
// demo and bench tools. None of them follows a redirect. A 302 would turn a
// callback's POST into a GET whose 200 passes for an acknowledgement (the
// delivery silently lost); a 307 would post the body, card keys and
// signature included, to whatever host the redirect names. A redirect is a
// failed call whose error says where it pointed.
//
// A test in this package fails on any client built elsewhere.
package outbound

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"
)

// Options shape a client. The zero value is net/http's default transport
// with no overall timeout.
type Options struct {
	// Timeout bounds a whole exchange, body included; 0 means none.
	Timeout time.Duration
	// IdleConnsPerHost is how many idle connections are kept per host; 0
	// keeps net/http's default of 2.
	IdleConnsPerHost int
	// DialTimeout bounds connecting; 0 keeps net/http's 30 s.
	DialTimeout time.Duration
	// ResponseHeaderTimeout bounds the wait for the answer's headers once
	// the request is written; 0 means none.
	ResponseHeaderTimeout time.Duration
	// Proxy, when set, carries every request; nil uses the environment's
	// HTTP_PROXY and friends, as net/http does.
	Proxy *url.URL
}

// New returns a client that refuses redirects.
func New(o Options) *http.Client {
	return &http.Client{Transport: Transport(o), Timeout: o.Timeout, CheckRedirect: refuse}
}

// Transport returns a fresh transport shaped by o, for callers that wrap it.
// A client still has to come from New or Guard.
func Transport(o Options) *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if o.IdleConnsPerHost > 0 {
		tr.MaxIdleConnsPerHost = o.IdleConnsPerHost
		tr.MaxIdleConns = max(tr.MaxIdleConns, o.IdleConnsPerHost)
	}
	if o.DialTimeout > 0 {
		tr.DialContext = (&net.Dialer{Timeout: o.DialTimeout, KeepAlive: 30 * time.Second}).DialContext
	}
	tr.ResponseHeaderTimeout = o.ResponseHeaderTimeout
	if o.Proxy != nil {
		tr.Proxy = http.ProxyURL(o.Proxy)
	}
	return tr
}

// Guard returns a copy of c that refuses redirects, keeping its transport,
// timeout and cookie jar. Packages that accept a client from their caller
// (tests pass httptest's) guard it; nil stays nil.
func Guard(c *http.Client) *http.Client {
	if c == nil {
		return nil
	}
	g := *c
	g.CheckRedirect = refuse
	return &g
}

// RedirectError is a call answered with a redirect, which was not followed.
// Both URLs are shown without credentials, query or fragment: a callback
// URL may carry a token in its query.
type RedirectError struct {
	Status int    // 301, 302, 303, 307 or 308
	From   string // the URL that answered
	To     string // where it pointed
}

func (e *RedirectError) Error() string {
	return fmt.Sprintf("%s answered %d %s, a redirect to %s, which is not followed; configure the final URL",
		e.From, e.Status, http.StatusText(e.Status), e.To)
}

func refuse(req *http.Request, via []*http.Request) error {
	e := &RedirectError{To: Redact(req.URL)}
	if len(via) > 0 {
		e.From = Redact(via[len(via)-1].URL)
	}
	if req.Response != nil {
		e.Status = req.Response.StatusCode
	}
	return e
}

// IsRedirect reports whether err is, or wraps, a refused redirect.
func IsRedirect(err error) bool {
	var re *RedirectError
	return errors.As(err, &re)
}

// Redact writes u as scheme://host/path: no user, password, query or
// fragment.
func Redact(u *url.URL) string {
	if u == nil {
		return ""
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}).String()
}

// Clean returns err with the URL of a *url.Error (what http.Client.Do
// returns) redacted, keeping the chain for errors.Is and errors.As. For a
// refused redirect net/http puts the raw Location header there.
func Clean(err error) error {
	var ue *url.Error
	if !errors.As(err, &ue) || ue != err {
		return err
	}
	c := *ue
	if u, perr := url.Parse(ue.URL); perr == nil {
		c.URL = Redact(u)
	} else {
		c.URL = "(unparsable URL)"
	}
	return &c
}
