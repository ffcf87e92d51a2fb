// Package tgfake is a fake Telegram Bot API server for tests: it answers the
// methods cardflow uses with real result shapes, keeps the chats' messages as
// the bot left them (after edits), long-polls getUpdates or pushes to a
// webhook, and can be told to fail (429 with retry_after, 400, 403, a dropped
// connection).
//
// It parses multipart/form-data (what go-telegram/bot sends), urlencoded
// forms and JSON bodies alike.
package tgfake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"

	"github.com/go-telegram/bot/models"
)

// BotUsername is the fake bot's username, what getMe answers.
const BotUsername = "cardflow_test_bot"

// Message is a message the bot sent, as it is now.
type Message struct {
	ID       int
	ChatID   int64
	Text     string
	Keyboard [][]Button // rows of inline buttons
	ReplyTo  int        // the message it replied to, if any
	Edits    int        // how many times it was edited
	// ParseMode is the parse_mode of its last send or edit ("": plain text).
	ParseMode string

	// A photo (sendPhoto) has no Text: its bytes as uploaded, the upload's
	// file name (Telegram keeps none; tests check it) and the caption.
	Photo     []byte
	PhotoName string
	Caption   string
	photo     models.PhotoSize // what the API shows of it
}

// Buttons are the message's buttons, row after row.
func (m Message) Buttons() []Button {
	var out []Button
	for _, row := range m.Keyboard {
		out = append(out, row...)
	}
	return out
}

// Button is an inline button.
type Button struct {
	Text string
	Data string // callback_data
}

// CallbackAnswer is an answerCallbackQuery the bot made.
type CallbackAnswer struct {
	ID        string
	Text      string
	ShowAlert bool
}

// Request is one call the bot made, with its parameters as sent (JSON
// values such as reply_markup as JSON text).
type Request struct {
	Method string
	Params map[string]string
}

type failure struct {
	status      int // 0: drop the connection
	description string
	retryAfter  int
}

// upload is a file part of a multipart call.
type upload struct {
	name    string
	content []byte
}

type file struct {
	id, name, path string
	content        []byte
}

type msgKey struct {
	chat int64
	id   int
}

// Server is the fake Bot API.
type Server struct {
	token string
	srv   *httptest.Server
	me    models.User

	mu       sync.Mutex
	pending  []models.Update // injected, not yet confirmed
	nextUpd  int64
	nextMsg  int
	nextCB   int
	nextFile int
	changed  chan struct{} // closed and replaced when pending or the webhook change
	chats    map[int64][]*Message
	byKey    map[msgKey]*Message
	userMsgs map[msgKey]*models.Message
	answers  []CallbackAnswer
	openCBs  map[string]bool
	calls    map[string]int
	requests map[string][]Request
	fails    map[string][]failure
	files    map[string]*file // by file id
	paths    map[string]*file // by file path
	users    map[int64]models.User
	hookURL  string
	hookKey  string
	pushed   int

	closed    chan struct{}
	closeOnce sync.Once
	pusher    sync.WaitGroup
}

// New starts a fake Bot API server for the bot with this token.
func New(token string) *Server {
	id, _ := strconv.ParseInt(strings.Split(token, ":")[0], 10, 64)
	s := &Server{
		token:    token,
		me:       models.User{ID: id, IsBot: true, FirstName: "Cardflow Test", Username: BotUsername, CanJoinGroups: true},
		changed:  make(chan struct{}),
		chats:    map[int64][]*Message{},
		byKey:    map[msgKey]*Message{},
		userMsgs: map[msgKey]*models.Message{},
		openCBs:  map[string]bool{},
		calls:    map[string]int{},
		requests: map[string][]Request{},
		fails:    map[string][]failure{},
		files:    map[string]*file{},
		paths:    map[string]*file{},
		users:    map[int64]models.User{},
		nextMsg:  1000,
		closed:   make(chan struct{}),
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.pusher.Add(1)
	go s.push()
	return s
}

// URL is the server's base URL, for bot.WithServerURL / telegram.server_url.
func (s *Server) URL() string { return s.srv.URL }

// Client is an http.Client for the server.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// Me is the bot user getMe answers.
func (s *Server) Me() models.User { return s.me }

// Close stops the server, ending long polls.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.closed)
		s.pusher.Wait()
		s.srv.Close()
	})
}

// notify wakes long polls and the webhook pusher. Callers hold s.mu.
func (s *Server) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if rest, ok := strings.CutPrefix(r.URL.Path, "/file/bot"); ok {
		s.serveFile(w, r, rest)
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/bot")
	if !ok {
		writeError(w, http.StatusNotFound, "Not Found", 0)
		return
	}
	token, method, _ := strings.Cut(rest, "/")
	if token != s.token {
		writeError(w, http.StatusUnauthorized, "Unauthorized", 0)
		return
	}
	method = strings.ToLower(method)
	p, uploads, err := parseParams(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, "Bad Request: "+err.Error(), 0)
		return
	}
	s.mu.Lock()
	s.calls[method]++
	s.requests[method] = append(s.requests[method], Request{Method: method, Params: p})
	f, failing := s.takeFail(method)
	s.mu.Unlock()
	if failing {
		fail(w, f)
		return
	}
	switch method {
	case "getme":
		writeResult(w, s.me)
	case "getupdates":
		s.getUpdates(w, r, p)
	case "sendmessage":
		s.sendMessage(w, p)
	case "sendphoto":
		s.sendPhoto(w, p, uploads)
	case "editmessagetext":
		s.editMessageText(w, p)
	case "answercallbackquery":
		s.answerCallbackQuery(w, p)
	case "getfile":
		s.getFile(w, p)
	case "setwebhook":
		s.setWebhook(w, p)
	case "deletewebhook":
		s.mu.Lock()
		s.hookURL, s.hookKey = "", ""
		s.notify()
		s.mu.Unlock()
		writeResult(w, true)
	case "getwebhookinfo":
		s.mu.Lock()
		info := models.WebhookInfo{URL: s.hookURL, PendingUpdateCount: len(s.pending)}
		s.mu.Unlock()
		writeResult(w, info)
	default:
		writeError(w, http.StatusNotFound, "Not Found: method not found", 0)
	}
}

// parseParams reads a Bot API call's parameters from the query string and a
// multipart, urlencoded or JSON body. A multipart file part shows in the
// parameters as "attach://<file name>"; its content is in the uploads.
func parseParams(r *http.Request) (map[string]string, map[string]upload, error) {
	p := map[string]string{}
	for k, v := range r.URL.Query() {
		p[k] = v[0]
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	if err != nil {
		return nil, nil, fmt.Errorf("read body: %w", err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return p, nil, nil
	}
	var uploads map[string]upload
	ct, ctParams, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "multipart/form-data":
		r.Body = io.NopCloser(bytes.NewReader(body))
		if err := r.ParseMultipartForm(32 << 20); err != nil {
			return nil, nil, fmt.Errorf("bad multipart body (boundary %q): %w", ctParams["boundary"], err)
		}
		defer r.MultipartForm.RemoveAll()
		for k, v := range r.MultipartForm.Value {
			p[k] = v[0]
		}
		uploads = map[string]upload{}
		for k, fh := range r.MultipartForm.File {
			p[k] = "attach://" + fh[0].Filename
			content, err := readPart(fh[0])
			if err != nil {
				return nil, nil, fmt.Errorf("bad file part %q: %w", k, err)
			}
			uploads[k] = upload{name: fh[0].Filename, content: content}
		}
	case "application/json":
		var m map[string]json.RawMessage
		if err := json.Unmarshal(body, &m); err != nil {
			return nil, nil, fmt.Errorf("bad JSON body: %w", err)
		}
		for k, raw := range m {
			var str string
			if json.Unmarshal(raw, &str) == nil {
				p[k] = str
			} else {
				p[k] = string(raw)
			}
		}
	default: // application/x-www-form-urlencoded, or unlabelled
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if err := r.ParseForm(); err != nil {
			return nil, nil, fmt.Errorf("bad form body: %w", err)
		}
		for k, v := range r.PostForm {
			p[k] = v[0]
		}
	}
	return p, uploads, nil
}

func readPart(fh *multipart.FileHeader) ([]byte, error) {
	f, err := fh.Open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

type response struct {
	OK          bool        `json:"ok"`
	Result      any         `json:"result,omitempty"`
	ErrorCode   int         `json:"error_code,omitempty"`
	Description string      `json:"description,omitempty"`
	Parameters  *parameters `json:"parameters,omitempty"`
}

type parameters struct {
	RetryAfter int `json:"retry_after,omitempty"`
}

func writeResult(w http.ResponseWriter, result any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(response{OK: true, Result: result})
}

func writeError(w http.ResponseWriter, status int, description string, retryAfter int) {
	resp := response{ErrorCode: status, Description: description}
	if retryAfter > 0 {
		resp.Parameters = &parameters{RetryAfter: retryAfter}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(resp)
}

func badRequest(w http.ResponseWriter, what string) {
	writeError(w, http.StatusBadRequest, "Bad Request: "+what, 0)
}

// fail answers a call the test told to fail.
func fail(w http.ResponseWriter, f failure) {
	if f.status == 0 {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	}
	writeError(w, f.status, f.description, f.retryAfter)
}

// FailNext makes the next call of method fail with status (0: the connection
// is dropped) and description; retryAfter goes into parameters.retry_after.
// Each FailNext fails one more call. Method "file" is the file download.
func (s *Server) FailNext(method string, status int, description string, retryAfter int) {
	if description == "" {
		description = defaultDescription(status, retryAfter)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := strings.ToLower(method)
	s.fails[m] = append(s.fails[m], failure{status: status, description: description, retryAfter: retryAfter})
}

// RateLimit answers the next n calls of method with 429 and retry_after.
func (s *Server) RateLimit(method string, n int, retryAfter int) {
	for range n {
		s.FailNext(method, http.StatusTooManyRequests, "", retryAfter)
	}
}

func defaultDescription(status, retryAfter int) string {
	switch status {
	case http.StatusTooManyRequests:
		return fmt.Sprintf("Too Many Requests: retry after %d", retryAfter)
	case http.StatusBadRequest:
		return "Bad Request: chat not found"
	case http.StatusForbidden:
		return "Forbidden: bot was kicked from the group chat"
	case http.StatusUnauthorized:
		return "Unauthorized"
	}
	return http.StatusText(status)
}

// takeFail pops the next failure of method. Callers hold s.mu.
func (s *Server) takeFail(method string) (failure, bool) {
	q := s.fails[method]
	if len(q) == 0 {
		return failure{}, false
	}
	s.fails[method] = q[1:]
	return q[0], true
}
