package outbound

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestARedirectIsAnErrorNamingBothEndsWithoutSecrets: each redirect status
// (301, 302, 303, 307, 308) is answered to a POST carrying a body; the
// client neither follows it with a GET nor re-posts the body, and the error
// names the URL asked and the one pointed at without user, password or
// query (a callback URL's token, a Location's).
func TestARedirectIsAnErrorNamingBothEndsWithoutSecrets(t *testing.T) {
	var elsewhere atomic.Int32
	thief := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
	}))
	defer thief.Close()
	for _, code := range []int{301, 302, 303, 307, 308} {
		origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, thief.URL+"/steal?token=loc-secret", code)
		}))
		c := New(Options{Timeout: 5 * time.Second})
		target := strings.Replace(origin.URL, "http://", "http://user:pass-secret@", 1) + "/cb?token=cb-secret"
		resp, err := c.Post(target, "application/json", strings.NewReader(`{"cards":"KEY"}`))
		origin.Close()
		if resp != nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		var re *RedirectError
		if !errors.As(err, &re) || !IsRedirect(err) {
			t.Fatalf("%d: err = %v, want a RedirectError", code, err)
		}
		if re.Status != code || re.From != origin.URL+"/cb" || re.To != thief.URL+"/steal" {
			t.Errorf("%d: %+v, want status %d from %s/cb to %s/steal", code, re, code, origin.URL, thief.URL)
		}
		msg := Clean(err).Error()
		for _, secret := range []string{"loc-secret", "cb-secret", "pass-secret", "user:"} {
			if strings.Contains(msg, secret) {
				t.Errorf("%d: error %q shows %q", code, msg, secret)
			}
		}
		if !strings.Contains(msg, thief.URL+"/steal") || !strings.Contains(msg, origin.URL+"/cb") {
			t.Errorf("%d: error %q does not name both ends", code, msg)
		}
	}
	if n := elsewhere.Load(); n != 0 {
		t.Errorf("the redirect target got %d requests", n)
	}
}

// TestGuardKeepsTheClientButRefusesRedirects: a client handed in by a caller
// keeps its timeout and transport and no longer follows redirects; the
// caller's own client is left as it was.
func TestGuardKeepsTheClientButRefusesRedirects(t *testing.T) {
	srv := httptest.NewServer(http.RedirectHandler("/elsewhere", http.StatusFound))
	defer srv.Close()
	given := srv.Client()
	given.Timeout = 3 * time.Second
	g := Guard(given)
	if g.Timeout != given.Timeout || g.Transport != given.Transport || given.CheckRedirect != nil {
		t.Fatalf("guard changed the client: %+v from %+v", g, given)
	}
	if _, err := g.Get(srv.URL); !IsRedirect(err) {
		t.Errorf("guarded client: err = %v, want a refused redirect", err)
	}
	if Guard(nil) != nil {
		t.Error("Guard(nil) is not nil")
	}
}

// TestCleanLeavesOtherErrorsAlone: only the URL of the top *url.Error is
// rewritten; the chain still answers errors.Is.
func TestCleanLeavesOtherErrorsAlone(t *testing.T) {
	plain := errors.New("boom")
	if Clean(plain) != plain || Clean(nil) != nil {
		t.Error("Clean changed an error without a URL")
	}
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-release }))
	defer slow.Close()
	defer close(release)
	c := New(Options{Timeout: 50 * time.Millisecond})
	_, err := c.Get(slow.URL + "/x?token=t-secret")
	cleaned := Clean(err)
	if strings.Contains(cleaned.Error(), "t-secret") {
		t.Errorf("cleaned error %q shows the query", cleaned)
	}
	var ne interface{ Timeout() bool }
	if !errors.As(cleaned, &ne) || !ne.Timeout() {
		t.Errorf("cleaned error %v lost its timeout", cleaned)
	}
}
