// Package dujiao is the Dujiao-Next docking protocols cardflow serves as an
// upstream (docs/docking.md). Its wire layer is the request and callback
// signature, the JSON a Dujiao-Next shop reads and writes, the decoding of
// its order request, and the generic-webhook variant; it knows nothing of
// orders or storage. Upstream (upstream.go, handlers_*.go, render.go,
// deliver.go) translates between that layer and the engine: the HTTP API a
// shop calls and the sender of its callbacks.
package dujiao

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Header names of every signed request and callback.
const (
	HeaderAPIKey    = "Dujiao-Next-Api-Key"
	HeaderTimestamp = "Dujiao-Next-Timestamp"
	HeaderSignature = "Dujiao-Next-Signature"
)

// Prefix starts every path the API serves and every path a shop signs, with
// or without a mount prefix in front of it on the server.
const Prefix = "/api/v1/upstream"

// CallbackPath is the path a callback is signed over, whatever the URL it is
// posted to: a shop verifies against this constant even when its callback
// route is elsewhere.
const CallbackPath = Prefix + "/callback"

// Window is how far a signed timestamp may be from the receiver's clock, in
// either direction.
const Window = 60 * time.Second

// Sign returns the lowercase hex HMAC-SHA256, under secret, of
// METHOD "\n" PATH "\n" TIMESTAMP "\n" md5hex(body). path is the path from
// /api/v1/upstream on, without query; an empty body hashes as md5 of nothing.
func Sign(secret []byte, method, path string, ts int64, body []byte) string {
	sum := md5.Sum(body)
	var hexSum [2 * md5.Size]byte
	hex.Encode(hexSum[:], sum[:])
	mac := hmac.New(sha256.New, secret)
	b := make([]byte, 0, len(method)+len(path)+len(hexSum)+24)
	b = append(b, method...)
	b = append(b, '\n')
	b = append(b, path...)
	b = append(b, '\n')
	b = strconv.AppendInt(b, ts, 10)
	b = append(b, '\n')
	b = append(b, hexSum[:]...)
	mac.Write(b)
	return hex.EncodeToString(mac.Sum(nil))
}

// SignedPath is the part of a request's URL path a shop signs: from the
// first /api/v1/upstream segment on, so cardflow mounted under a prefix
// ("/cf/api/v1/upstream/ping") verifies what the shop signed
// ("/api/v1/upstream/ping"). It reports false for a path outside the API.
// Pass the path without its query.
func SignedPath(urlPath string) (string, bool) {
	for from := 0; ; {
		i := strings.Index(urlPath[from:], Prefix)
		if i < 0 {
			return "", false
		}
		i += from
		end := i + len(Prefix)
		if end == len(urlPath) || urlPath[end] == '/' {
			return urlPath[i:], true
		}
		from = end
	}
}

// SetHeaders signs a request or callback and sets the three headers on h.
// path is what is signed: the API path for a request, CallbackPath for a
// callback.
func SetHeaders(h http.Header, apiKey string, secret []byte, method, path string, now time.Time, body []byte) {
	ts := now.Unix()
	h.Set(HeaderAPIKey, apiKey)
	h.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	h.Set(HeaderSignature, Sign(secret, method, path, ts, body))
}

// NewRequest is a request as a shop's client sends it to an upstream at
// baseURL (which may carry a path prefix): pathAndQuery from
// /api/v1/upstream on, signed without its query; a body goes as JSON, and
// nil sends none and no Content-Type.
func NewRequest(ctx context.Context, baseURL, apiKey string, secret []byte, method, pathAndQuery string, now time.Time, body []byte) (*http.Request, error) {
	signPath, _, _ := strings.Cut(pathAndQuery, "?")
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(baseURL, "/")+pathAndQuery, rd)
	if err != nil {
		return nil, fmt.Errorf("build %s %s: %w", method, signPath, err)
	}
	SetHeaders(req.Header, apiKey, secret, method, signPath, now, body)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

// Signed is what a receiver checks of a signed request: the method, the URL
// path as received (without query; a mount prefix is allowed), the three
// headers and the raw body exactly as read.
type Signed struct {
	Method    string
	Path      string
	APIKey    string
	Timestamp string
	Signature string
	Body      []byte
}

// FromHeaders fills the headers' part of Signed.
func FromHeaders(method, urlPath string, h http.Header, body []byte) Signed {
	return Signed{Method: method, Path: urlPath, APIKey: h.Get(HeaderAPIKey),
		Timestamp: h.Get(HeaderTimestamp), Signature: h.Get(HeaderSignature), Body: body}
}

// SecretOf returns the api secret of an api key, or false for a key that is
// unknown or not allowed to call.
type SecretOf func(apiKey string) ([]byte, bool)

// Verify checks a signed request and returns its api key, or one of the
// authentication errors (ErrMissingAuthHeaders, ErrInvalidTimestamp,
// ErrTimestampExpired, ErrInvalidAPIKey, ErrInvalidSignature), checked in
// that order: a stale request is refused before its key is looked up.
func Verify(s Signed, now time.Time, secretOf SecretOf) (string, error) {
	if s.APIKey == "" || s.Timestamp == "" || s.Signature == "" {
		return "", ErrMissingAuthHeaders
	}
	ts, err := strconv.ParseInt(s.Timestamp, 10, 64)
	// Only the canonical decimal a shop writes: "+1709625600" would verify
	// against another string than the header it came in.
	if err != nil || strconv.FormatInt(ts, 10) != s.Timestamp {
		return "", ErrInvalidTimestamp
	}
	if d := now.Unix() - ts; d > int64(Window/time.Second) || d < -int64(Window/time.Second) {
		return "", ErrTimestampExpired
	}
	secret, ok := secretOf(s.APIKey)
	if !ok {
		return "", ErrInvalidAPIKey
	}
	path, ok := SignedPath(s.Path)
	if !ok {
		return "", ErrInvalidSignature
	}
	want := Sign(secret, s.Method, path, ts, s.Body)
	if !hmac.Equal([]byte(want), []byte(s.Signature)) {
		return "", ErrInvalidSignature
	}
	return s.APIKey, nil
}

// VerifyCallback checks a callback as a shop does: POST, signed over
// CallbackPath whatever URL it was posted to.
func VerifyCallback(apiKey, timestamp, signature string, body []byte, now time.Time, secretOf SecretOf) (string, error) {
	return Verify(Signed{Method: http.MethodPost, Path: CallbackPath, APIKey: apiKey,
		Timestamp: timestamp, Signature: signature, Body: body}, now, secretOf)
}
