package api

import (
	"crypto/subtle"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"cardflow/internal/signing"
)

// maxBody is the storefront API's body limit (docs/api.md).
const maxBody = 64 << 10

// startGrace is how long before its start a server still takes a request's
// timestamp. A storefront signs, then connects: one that signed just before
// a restart and reached the new process just after it (its goroutine
// descheduled for the new process's start, on a busy machine) was refused
// with a 401 it cannot tell from a wrong secret, though nothing had seen
// its signature. What the grace lets in is a replay of a request answered
// in the old process's last two seconds.
const startGrace = 2 * time.Second

type replayGuard = signing.Guard

func newReplayGuard() *replayGuard { return signing.NewGuard() }

// signedHandler is a storefront handler that runs after the signature check,
// with the caller's storefront id and the body it signed.
type signedHandler func(w http.ResponseWriter, r *http.Request, storefront string, body []byte)

// signed checks a storefront request and hands it on with its body. What
// the headers alone can refuse is refused before the body is read, and the
// connection closed: an unauthenticated client must not hold a connection
// by sending its body slowly. Then the body (at most 64 KiB) is read and
// the signature and replay are checked.
//
// An unknown storefront and a wrong signature get one message, so that
// answers do not tell a prober which ids exist. (Whether the body was read
// still tells it; ids are not secrets, and reading every unauthenticated
// body is what let slow clients hold connections.)
func (s *Server) signed(next signedHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > maxBody {
			refuseEarly(w, http.StatusRequestEntityTooLarge, codeTooLarge, "body is larger than 64 KiB")
			return
		}
		id := r.Header.Get(signing.HeaderStorefront)
		stamp, sig := r.Header.Get(signing.HeaderTimestamp), r.Header.Get(signing.HeaderSignature)
		now := s.now()
		ts, err := signing.CheckTime(now, stamp)
		if err == nil && (id == "" || sig == "") {
			err = signing.ErrMissing
		}
		if err == nil && ts < s.signedSince {
			// The replay guard is in memory and starts empty: a request
			// signed before this process started may have been answered,
			// keys and all, by the one before it. Refusing those costs a
			// storefront whose clock is d behind at most d-startGrace of
			// 401s after a start (its fresh signatures carry its clock's
			// time), and nothing once the server has run for a window,
			// when the window itself refuses them.
			err = signing.ErrBeforeStart
		}
		secret, known := s.storefronts[id]
		if err == nil && !known {
			err = signing.ErrSignature
		}
		if err != nil {
			refuseEarly(w, http.StatusUnauthorized, codeUnauthorized, authMessage(err))
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, codeTooLarge, "body is larger than 64 KiB", "")
			return
		}
		if err != nil {
			writeError(w, http.StatusBadRequest, codeInvalidRequest, "could not read the body", "")
			return
		}
		_, err = signing.Check(secret, now, stamp, sig, r.Method, signedTarget(r), body)
		var key uint64
		if err == nil {
			key, err = signing.Key(sig)
		}
		if err == nil {
			err = s.replays.SeenKey(now, ts, key)
		}
		if err == nil && s.share != nil {
			s.share.seen(ts, key)
		}
		if err != nil {
			writeError(w, http.StatusUnauthorized, codeUnauthorized, authMessage(err), "")
			return
		}
		next(w, r, id, body)
	})
}

// refuseEarly answers without reading the body and closes the connection:
// net/http would otherwise read up to 256 KiB of the unread body before
// answering, at whatever pace the client sends it.
func refuseEarly(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Connection", "close")
	writeError(w, status, code, msg, "")
}

// signedTarget is the path and query the client signed: the request target
// exactly as it arrived. url.URL.RequestURI re-escapes what a client may send
// unescaped (non-ASCII, '{', '|', ...), so checking against it refused
// correctly signed requests as "signature does not match" (found by
// FuzzStorefrontRequest). A proxy's absolute form ("http://host/path") has
// no origin-form target to take; its parsed path and query are used.
func signedTarget(r *http.Request) string {
	if strings.HasPrefix(r.RequestURI, "/") {
		return r.RequestURI
	}
	return r.URL.RequestURI()
}

func authMessage(err error) string {
	switch {
	case errors.Is(err, signing.ErrMissing):
		return "missing " + signing.HeaderStorefront + ", " + signing.HeaderTimestamp + " or " + signing.HeaderSignature
	case errors.Is(err, signing.ErrBadTime):
		return signing.HeaderTimestamp + " must be the current unix time in seconds"
	case errors.Is(err, signing.ErrTimestamp):
		return "timestamp is more than 300 s away from the server clock"
	case errors.Is(err, signing.ErrBeforeStart):
		return "timestamp is older than the server's start; sign the request afresh"
	case errors.Is(err, signing.ErrReplay):
		return "this signature was already used; sign every request afresh"
	}
	return "unknown storefront or wrong signature; sign with the secret configured for " + signing.HeaderStorefront
}

// bearer guards the admin API with its token, compared in constant time.
func (s *Server) bearer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			next.ServeHTTP(w, r)
			return
		}
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || len(s.adminToken) == 0 || subtle.ConstantTimeCompare([]byte(token), s.adminToken) != 1 {
			refuseEarly(w, http.StatusUnauthorized, codeUnauthorized, "missing or wrong bearer token")
			return
		}
		next.ServeHTTP(w, r)
	})
}
