package api

import (
	"crypto/subtle"
	"errors"
	"io"
	"net/http"
	"strings"

	"cardflow/internal/signing"
)

// maxBody is the storefront API's body limit (DESIGN §4).
const maxBody = 64 << 10

type replayGuard = signing.Guard

func newReplayGuard() *replayGuard { return signing.NewGuard() }

// signedHandler is a storefront handler that runs after the signature check,
// with the caller's storefront id and the body it signed.
type signedHandler func(w http.ResponseWriter, r *http.Request, storefront string, body []byte)

// signed reads the body (at most 64 KiB), checks the storefront's signature,
// its timestamp window and that it was not used before.
func (s *Server) signed(next signedHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > maxBody {
			writeError(w, http.StatusRequestEntityTooLarge, codeTooLarge, "body is larger than 64 KiB", "")
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
		id := r.Header.Get(signing.HeaderStorefront)
		secret, ok := s.storefronts[id]
		if !ok {
			writeError(w, http.StatusUnauthorized, codeUnauthorized, "unknown or missing "+signing.HeaderStorefront, "")
			return
		}
		now := s.now()
		ts, err := signing.Check(secret, now, r.Header.Get(signing.HeaderTimestamp), r.Header.Get(signing.HeaderSignature),
			r.Method, signedTarget(r), body)
		if err == nil {
			err = s.replays.Seen(now, ts, r.Header.Get(signing.HeaderSignature))
		}
		if err != nil {
			writeError(w, http.StatusUnauthorized, codeUnauthorized, authMessage(err), "")
			return
		}
		next(w, r, id, body)
	})
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
		return "missing " + signing.HeaderTimestamp + " or " + signing.HeaderSignature
	case errors.Is(err, signing.ErrBadTime):
		return signing.HeaderTimestamp + " must be the current unix time in seconds"
	case errors.Is(err, signing.ErrTimestamp):
		return "timestamp is more than 300 s away from the server clock"
	case errors.Is(err, signing.ErrReplay):
		return "this signature was already used; sign every request afresh"
	}
	return "signature does not match"
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
			writeError(w, http.StatusUnauthorized, codeUnauthorized, "missing or wrong bearer token", "")
			return
		}
		next.ServeHTTP(w, r)
	})
}
