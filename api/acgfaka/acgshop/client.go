// Package acgshop is an acg-faka shop as cardflow sees it from outside: the
// client side of the shared-store protocol, built as acg-faka's own client
// builds its calls (and as mcy-shop's V3 plugin builds a trade), and
// reading answers as they do. Tests and tools use it to buy from cardflow
// the way a real shop would; it speaks only the wire protocol
// (docs/acgfaka.md).
package acgshop

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"cardflow/api/acgfaka"
	"cardflow/internal/outbound"
)

// Timeouts of the two clients in use: acg-faka's, and mcy-shop's V3 plugin.
const (
	DefaultTimeout = 30 * time.Second
	PluginTimeout  = 10 * time.Second
)

// Messages the shop shows when an answer is not one it can read.
const (
	MsgUnreachable = "连接失败, 疑似被对方防火墙拦截" // no answer, or a status other than 2xx or 3xx
	MsgUnreadable  = "连接失败"             // an answer without a code, or a refusal without a message
)

// maxAnswer bounds an answer read; an items tree of many items is the
// largest.
const maxAnswer = 8 << 20

// Client calls one upstream as one shop, the way acg-faka's
// Bind/Shared.php does: a form POST with app_id and app_key appended and
// signed, no redirect followed, one timeout for the whole call.
type Client struct {
	BaseURL string // the upstream's address as the shop's admin typed it; may carry a path
	AppID   string
	AppKey  string
	HTTP    *http.Client
}

// New returns a client with its own HTTP client; timeout 0 means
// DefaultTimeout.
func New(baseURL, appID, appKey string, timeout time.Duration) *Client {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &Client{
		BaseURL: strings.TrimRight(baseURL, "/"),
		AppID:   appID,
		AppKey:  appKey,
		HTTP:    outbound.New(outbound.Options{Timeout: timeout}),
	}
}

// Error is what the shop shows for a failed call: the upstream's message,
// or one of its own when the answer could not be read. Err is the failure
// behind the latter, for tests.
type Error struct {
	Msg string
	Err error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Msg + ": " + e.Err.Error()
	}
	return e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

// Body returns the signed body of a call: fields, then app_id and app_key,
// then sign.
func (c *Client) Body(fields []acgfaka.Field) string {
	data := append(append([]acgfaka.Field(nil), fields...),
		acgfaka.Field{Name: "app_id", Value: c.AppID}, acgfaka.Field{Name: "app_key", Value: c.AppKey})
	data = append(data, acgfaka.Field{Name: "sign", Value: acgfaka.Sign(data, c.AppKey)})
	return BuildQuery(data)
}

// Call posts fields to path and returns the answer's data when its code is
// 200, or an *Error.
func (c *Client) Call(ctx context.Context, path string, fields []acgfaka.Field) (json.RawMessage, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.BaseURL+path, strings.NewReader(c.Body(fields)))
	if err != nil {
		return nil, &Error{Msg: MsgUnreachable, Err: err}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		if outbound.IsRedirect(err) {
			// acg-faka reads the redirect's own body, which is no answer.
			return nil, &Error{Msg: MsgUnreadable, Err: outbound.Clean(err)}
		}
		return nil, &Error{Msg: MsgUnreachable, Err: outbound.Clean(err)}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return nil, &Error{Msg: MsgUnreachable, Err: err}
	}
	if resp.StatusCode >= 400 {
		return nil, &Error{Msg: MsgUnreachable, Err: fmt.Errorf("status %d", resp.StatusCode)}
	}
	return readAnswer(body)
}

// readAnswer reads an answer as acg-faka does: a code other than 200
// (loosely compared, as PHP's != does) is a failure showing the message
// with its tags stripped.
func readAnswer(body []byte) (json.RawMessage, error) {
	var a struct {
		Code json.RawMessage `json:"code"`
		Msg  json.RawMessage `json:"msg"`
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &a); err != nil {
		return nil, &Error{Msg: MsgUnreadable, Err: fmt.Errorf("answer is not JSON: %.80q", body)}
	}
	if !is200(a.Code) {
		msg := stripTags(text(a.Msg))
		if msg == "" {
			msg = MsgUnreadable
		}
		return nil, &Error{Msg: msg}
	}
	return a.Data, nil
}

func is200(raw json.RawMessage) bool {
	s := strings.TrimSpace(text(raw))
	f, err := strconv.ParseFloat(s, 64)
	return err == nil && f == 200
}

// text is a JSON scalar as PHP's (string) cast gives it.
func text(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	if bytes.Equal(raw, []byte("null")) || len(raw) == 0 {
		return ""
	}
	return string(raw)
}

var tag = regexp.MustCompile(`<[^>]*>`)

func stripTags(s string) string { return tag.ReplaceAllString(s, "") }

// decode reads an answer's data into v.
func decode(data json.RawMessage, v any, what string) error {
	if err := json.Unmarshal(data, v); err != nil {
		return &Error{Msg: MsgUnreadable, Err: fmt.Errorf("decode %s: %w", what, err)}
	}
	return nil
}
