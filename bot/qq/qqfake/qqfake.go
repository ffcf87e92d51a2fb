// Package qqfake is a fake QQ official bot platform for tests: an OpenAPI
// (token endpoint, group and C2C messages, interaction acks) on loopback that
// speaks the real wire format and enforces the platform's rules — no active
// push unless a group allows it, reply handles that expire after 5 minutes
// (group) or 60 minutes (C2C), at most 5 replies per handle with unique
// msg_seq, custom markdown and buttons that some bots may not send — and a
// webhook driver that posts ed25519-signed callbacks the way QQ does.
//
// Point botgo at it by setting constant.APIDomain and constant.TokenDomain to
// URL(), or give our own client URL() as its base URL. Time comes from the
// clock set with SetNow, so reply windows expire without sleeping.
package qqfake

import (
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"cardflow/internal/outbound"
)

// Error codes the fake answers with, in err_code (and code). Where each comes
// from matters to an adapter that branches on them; see the comments.
const (
	// CodeTokenInvalid: a missing, unknown or expired access token
	// (botgo errs.APICodeTokenExpireOrNotExist; botgo refreshes on it).
	CodeTokenInvalid = 11244
	// CodeActiveRefused: a send without msg_id/event_id where active push is
	// not allowed (docs/qq.md; the platform also uses 40034105).
	CodeActiveRefused = 40034102
	// CodeReplyLimit: a 6th reply to one msg_id/event_id, or msg_seq outside
	// 1..5 (docs/qq.md).
	CodeReplyLimit = 22009
	// CodeSeqDuplicate: a msg_seq already used with this msg_id/event_id; the
	// platform deduplicates rather than sending twice ("消息被去重，请检查请求
	// msgseq", as reported by platform users; botgo does not know it).
	CodeSeqDuplicate = 40054005
	// CodeMarkdownRefused: custom markdown or keyboard not allowed for this
	// bot (docs/qq.md; the platform also uses 40034012).
	CodeMarkdownRefused = 304057
	// CodeReplyUnknown: msg_id/event_id the platform never issued, or issued
	// for another chat (QQ's documented MSG_ID error "回复的消息 id 错误").
	CodeReplyUnknown = 304026
	// CodeReplyExpired: msg_id/event_id past its reply window (QQ's documented
	// MSG_EXPIRE error "回复的消息过期").
	CodeReplyExpired = 304027
	// CodeInvalidRequest is the fake's own code for a malformed request (bad
	// JSON, empty content, keyboard without markdown, more than 5×5 buttons,
	// unknown interaction). The platform's codes for these differ; do not
	// branch on it.
	CodeInvalidRequest = 400
	// CodeCredentials is the token endpoint's "code" for a wrong appId or
	// clientSecret (answered with HTTP 200, as the token endpoint does; check
	// the body, not the status). From memory of the platform, not verified.
	CodeCredentials = 100016
)

// Message kinds.
const (
	KindGroup = "group"
	KindC2C   = "c2c"
)

// Reply windows of the platform.
const (
	GroupReplyWindow = 5 * time.Minute
	C2CReplyWindow   = 60 * time.Minute
	// MaxReplies is how many replies one msg_id or event_id allows.
	MaxReplies = 5
)

// TokenPath is the token endpoint's path.
const TokenPath = "/app/getAppAccessToken"

// cst is China Standard Time, the zone of the platform's timestamps; fixed so
// that tests need no time zone database.
var cst = time.FixedZone("CST", 8*3600)

// Markdown capability levels (RefuseKeyboard, RefuseMarkdown).
const (
	mdAllowed = iota
	mdNoKeyboard
	mdRefused
)

type failure struct {
	status  int // 0: drop the connection
	errCode int
}

// handle is a msg_id or event_id the bot may reply to.
type handle struct {
	kind, target string
	issued       time.Time
	seqs         map[int]bool
}

// Server is the fake QQ platform.
type Server struct {
	appID, secret string
	key           ed25519.PrivateKey
	srv           *httptest.Server

	mu           sync.Mutex
	now          func() time.Time
	tokens       map[string]bool
	active       map[string]bool // openids where active push works
	mdLevel      int
	fails        []pathFailure
	calls        map[string]int
	sent         []Message
	msgHandles   map[string]*handle
	eventHandles map[string]*handle
	interactions map[string]bool // issued interaction ids
	acks         map[string]int
	hookURL      string
	seq          int               // payload "s"
	next         int               // id counter
	handshakes   map[string]string // plain_token -> event_ts
	client       *http.Client
}

type pathFailure struct {
	path string
	failure
}

// New starts a fake platform for the bot with this app id and secret.
func New(appID, secret string) *Server {
	s := &Server{
		appID:        appID,
		secret:       secret,
		key:          signingKey(secret),
		now:          time.Now,
		tokens:       map[string]bool{},
		active:       map[string]bool{},
		calls:        map[string]int{},
		msgHandles:   map[string]*handle{},
		eventHandles: map[string]*handle{},
		interactions: map[string]bool{},
		acks:         map[string]int{},
		handshakes:   map[string]string{},
		client:       outbound.New(outbound.Options{Timeout: 10 * time.Second}),
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL is the base URL of both the OpenAPI and the token endpoint.
func (s *Server) URL() string { return s.srv.URL }

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// SetNow sets the clock that reply windows, timestamps of events and answers,
// and X-Signature-Timestamp are read from.
func (s *Server) SetNow(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// AllowActive lets sends without msg_id/event_id through to this group
// openid (the owner switched on active speech), or to this user openid.
func (s *Server) AllowActive(openid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.active[openid] = true
}

// DenyActive refuses active sends to this openid again (the default).
func (s *Server) DenyActive(openid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.active, openid)
}

// RefuseKeyboard refuses messages with a keyboard (304057); markdown without
// buttons still goes through.
func (s *Server) RefuseKeyboard() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mdLevel = max(s.mdLevel, mdNoKeyboard)
}

// RefuseMarkdown refuses markdown messages (msg_type 2) and keyboards
// (304057): only plain text goes through.
func (s *Server) RefuseMarkdown() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mdLevel = mdRefused
}

// ExpireTokens forgets every access token issued so far: API calls with them
// get 401 with CodeTokenInvalid until the client fetches a new one.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.tokens)
}

// FailNext makes the next request to path fail with HTTP status and err_code
// (status 0 drops the connection instead). path is a request path such as
// "/v2/groups/G1/messages", or a pattern where "*" stands for one segment
// ("/v2/groups/*/messages", "/interactions/*"). Each call fails one more
// request; TokenPath works too.
func (s *Server) FailNext(path string, status, errCode int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fails = append(s.fails, pathFailure{path: path, failure: failure{status: status, errCode: errCode}})
}

// Calls is how many requests went to path (or a pattern, as in FailNext),
// refused and failed ones included.
func (s *Server) Calls(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for p, c := range s.calls {
		if pathMatch(path, p) {
			n += c
		}
	}
	return n
}

// pathMatch reports whether path p matches pattern, where a "*" segment of
// pattern matches any one segment.
func pathMatch(pattern, p string) bool {
	if pattern == p {
		return true
	}
	ps, qs := strings.Split(pattern, "/"), strings.Split(p, "/")
	if len(ps) != len(qs) {
		return false
	}
	for i := range ps {
		if ps[i] != "*" && ps[i] != qs[i] {
			return false
		}
	}
	return true
}

// takeFail pops the first failure queued for path. Callers hold s.mu.
func (s *Server) takeFail(path string) (failure, bool) {
	for i, f := range s.fails {
		if pathMatch(f.path, path) {
			s.fails = append(s.fails[:i], s.fails[i+1:]...)
			return f.failure, true
		}
	}
	return failure{}, false
}

// newID is a fresh id with a prefix. Callers hold s.mu.
func (s *Server) newID(prefix string) string {
	s.next++
	return fmt.Sprintf("%s%06d", prefix, s.next)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	s.mu.Lock()
	s.calls[path]++
	f, failing := s.takeFail(path)
	s.mu.Unlock()
	if failing {
		s.fail(w, f)
		return
	}
	if path == TokenPath {
		if r.Method != http.MethodPost {
			s.writeError(w, http.StatusMethodNotAllowed, CodeInvalidRequest, "method not allowed")
			return
		}
		s.issueToken(w, r)
		return
	}
	if !s.authorized(r) {
		s.writeError(w, http.StatusUnauthorized, CodeTokenInvalid, "token not exist or expire")
		return
	}
	seg := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case r.Method == http.MethodPost && len(seg) == 4 && seg[0] == "v2" && seg[1] == "groups" && seg[3] == "messages":
		s.postMessage(w, r, KindGroup, seg[2])
	case r.Method == http.MethodPost && len(seg) == 4 && seg[0] == "v2" && seg[1] == "users" && seg[3] == "messages":
		s.postMessage(w, r, KindC2C, seg[2])
	case r.Method == http.MethodPut && len(seg) == 2 && seg[0] == "interactions":
		s.putInteraction(w, r, seg[1])
	default:
		s.writeError(w, http.StatusNotFound, CodeInvalidRequest, "no such API in the fake: "+r.Method+" "+path)
	}
}

// authorized reports whether the request carries "Authorization: QQBot <t>"
// with a token the fake issued.
func (s *Server) authorized(r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "QQBot ")
	if !ok {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokens[tok]
}

// apiError is the platform's error body.
type apiError struct {
	Message string `json:"message"`
	Code    int    `json:"code"`
	ErrCode int    `json:"err_code"`
	TraceID string `json:"trace_id"`
}

func (s *Server) writeError(w http.ResponseWriter, status, code int, message string) {
	s.mu.Lock()
	trace := s.newID("trace-")
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Tps-trace-ID", trace)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(apiError{Message: message, Code: code, ErrCode: code, TraceID: trace})
}

func (s *Server) writeJSON(w http.ResponseWriter, status int, v any) {
	s.mu.Lock()
	trace := s.newID("trace-")
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Tps-trace-ID", trace)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// fail answers a request the test told to fail.
func (s *Server) fail(w http.ResponseWriter, f failure) {
	if f.status == 0 {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	}
	s.writeError(w, f.status, f.errCode, messageFor(f.errCode, f.status))
}

// messageFor is the error message the fake writes for a code.
func messageFor(code, status int) string {
	switch code {
	case CodeTokenInvalid:
		return "token not exist or expire"
	case CodeActiveRefused:
		return "主动消息失败, 无权限"
	case CodeReplyLimit:
		return "msg limit exceed"
	case CodeSeqDuplicate:
		return "消息被去重，请检查请求msgseq"
	case CodeMarkdownRefused:
		return "不允许发送原生 markdown"
	case CodeReplyUnknown:
		return "回复的消息 id 错误"
	case CodeReplyExpired:
		return "回复的消息过期"
	}
	return http.StatusText(status)
}
