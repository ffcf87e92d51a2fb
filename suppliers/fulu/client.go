// Package fulu is the adapter for 福禄开放平台 2.0 (Fulu Open Platform), one
// of the large upstream suppliers of card keys and direct top-ups. It speaks
// the protocol docs/suppliers.md describes: one signed JSON gateway, orders
// keyed by our customer_order_no, card keys AES-encrypted with the
// AppSecret, and callbacks that only hint that an order is final.
//
// The adapter classifies answers and never retries or polls by itself: the
// engine owns retries, polling cadence (see QueryBackoff) and the grace
// window for orders that are not found.
package fulu

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"cardflow/internal/outbound"
	"cardflow/suppliers"
)

// Protocol constants.
const (
	Path            = "/api/getway" // Fulu's spelling
	SandboxHost     = "pre.openapi.fulu.com"
	TimestampLayout = "2006-01-02 15:04:05"
	Version         = "2.0"

	MethodCardAdd   = "fulu.order.card.add"
	MethodDirectAdd = "fulu.order.direct.add"
	MethodOrderInfo = "fulu.order.info.get"
	MethodUserInfo  = "fulu.user.info.get"
)

// Beijing is the zone of Fulu's timestamps (Asia/Shanghai has had no DST
// since 1991, so a fixed +08:00 is exact and needs no tzdata).
var Beijing = time.FixedZone("CST", 8*60*60)

// maxBody bounds a response; a large card order is a few hundred KiB.
const maxBody = 8 << 20

// Options configure a Client. BaseURL, AppKey and AppSecret are required.
type Options struct {
	BaseURL   string // e.g. https://openapi.fulu.com
	AppKey    string
	AppSecret string       // 32 ASCII characters; also the AES key of card fields
	HTTP      *http.Client // nil: 10 s connect and 10 s response header timeouts, as Fulu's SDKs; redirects are never followed
	Now       func() time.Time
	Log       zerolog.Logger
}

// Client talks to one Fulu merchant account. It is safe for concurrent use.
type Client struct {
	endpoint string
	appKey   string
	secret   string
	cards    *CardCipher
	http     *http.Client
	// sandbox is set when base_url is Fulu's sandbox, whose answers may
	// come unsigned; anywhere else an unsigned success is not Fulu's word.
	sandbox bool
	now     func() time.Time
	log     zerolog.Logger
}

var (
	_ suppliers.Supplier = (*Client)(nil)
	_ suppliers.Balancer = (*Client)(nil)
	_ suppliers.Notifier = (*Client)(nil)
)

// New checks the options and returns a client.
func New(o Options) (*Client, error) {
	u, err := url.Parse(o.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("fulu: base_url: must be an absolute http(s) URL such as https://openapi.fulu.com")
	}
	if strings.TrimSpace(o.AppKey) == "" {
		return nil, errors.New("fulu: app_key: must be set to the AppKey from the Fulu console")
	}
	cards, err := NewCardCipher(o.AppSecret)
	if err != nil {
		return nil, fmt.Errorf("fulu: %w", err)
	}
	c := &Client{
		endpoint: strings.TrimRight(u.String(), "/") + Path,
		appKey:   o.AppKey,
		secret:   o.AppSecret,
		cards:    cards,
		http:     outbound.Guard(o.HTTP), // a redirect would re-post the signed envelope elsewhere
		sandbox:  strings.EqualFold(u.Hostname(), SandboxHost),
		now:      o.Now,
		log:      o.Log.With().Str("component", "fulu").Logger(),
	}
	if c.http == nil {
		c.http = outbound.New(outbound.Options{Timeout: 30 * time.Second, DialTimeout: 10 * time.Second, ResponseHeaderTimeout: 10 * time.Second})
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

// envelope is the request: every field a string. Sign stays empty (and so
// absent) while the envelope is being signed.
type envelope struct {
	AppKey       string `json:"app_key"`
	Method       string `json:"method"`
	Timestamp    string `json:"timestamp"`
	Version      string `json:"version"`
	Format       string `json:"format"`
	Charset      string `json:"charset"`
	SignType     string `json:"sign_type"`
	AppAuthToken string `json:"app_auth_token"`
	BizContent   string `json:"biz_content"`
	Sign         string `json:"sign,omitempty"`
}

// answer is a decoded, sign-checked response.
type answer struct {
	Code    int
	Message string
	Result  string // raw, exactly as received
}

// callError is a call that got no usable answer; the outcome is unknown.
type callError struct {
	method string
	what   string
	err    error
}

func (e *callError) Error() string {
	if e.err != nil {
		return e.method + ": " + e.what + ": " + e.err.Error()
	}
	return e.method + ": " + e.what
}

func (e *callError) Unwrap() error { return e.err }

// request builds the signed body of a call.
func (c *Client) request(method string, biz any) ([]byte, error) {
	bizText, err := CompactJSON(biz)
	if err != nil {
		return nil, fmt.Errorf("%s: biz_content: %w", method, err)
	}
	env := envelope{
		AppKey:     c.appKey,
		Method:     method,
		Timestamp:  c.now().In(Beijing).Format(TimestampLayout),
		Version:    Version,
		Format:     "json",
		Charset:    "utf-8",
		SignType:   "md5",
		BizContent: string(bizText),
	}
	if env.Sign, err = Sign(env, c.secret); err != nil {
		return nil, fmt.Errorf("%s: %w", method, err)
	}
	body, err := CompactJSON(env)
	if err != nil {
		return nil, fmt.Errorf("%s: envelope: %w", method, err)
	}
	return body, nil
}

// call sends one request and returns the gateway's answer. Any error means
// no trustworthy answer arrived (transport, HTTP status, body, sign).
func (c *Client) call(ctx context.Context, method string, biz any) (answer, error) {
	body, err := c.request(method, biz)
	if err != nil {
		return answer{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return answer{}, &callError{method, "build request", err}
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		err = outbound.Clean(err)
		c.log.Warn().Str("method", method).Err(c.redactErr(err)).Dur("elapsed", time.Since(start)).Msg("fulu_call_failed")
		return answer{}, &callError{method, "send", err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return answer{}, &callError{method, "read answer", err}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return answer{}, &callError{method: method, what: fmt.Sprintf("http %d", resp.StatusCode)}
	}
	if len(raw) > maxBody {
		return answer{}, &callError{method: method, what: "answer larger than 8 MiB"}
	}
	a, err := c.decode(raw)
	if err != nil {
		return answer{}, &callError{method, "answer", err}
	}
	c.log.Debug().Str("method", method).Int("code", a.Code).Dur("elapsed", time.Since(start)).Msg("fulu_call")
	return a, nil
}

// decode parses a response and checks its sign over the raw result string.
func (c *Client) decode(raw []byte) (answer, error) {
	var r struct {
		Code    *json.Number    `json:"code"`
		Message string          `json:"message"`
		Result  json.RawMessage `json:"result"`
		Sign    string          `json:"sign"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&r); err != nil {
		return answer{}, errors.New("not a Fulu JSON response")
	}
	if r.Code == nil {
		return answer{}, errors.New("no code in the response")
	}
	code, err := r.Code.Int64()
	if err != nil || code < -1<<31 || code > 1<<31-1 {
		return answer{}, fmt.Errorf("code %q is not an integer", r.Code.String())
	}
	a := answer{Code: int(code), Message: r.Message}
	switch {
	case len(r.Result) == 0 || string(r.Result) == "null":
	case r.Result[0] == '"':
		if err := json.Unmarshal(r.Result, &a.Result); err != nil {
			return answer{}, errors.New("result is not a JSON string")
		}
	case a.Code == CodeOK:
		return answer{}, errors.New("result is not a JSON string")
	}
	switch {
	case a.Code != CodeOK:
		// Refusals and errors come unsigned: the protocol signs successes.
	case r.Sign != "" && !SignEqual(r.Sign, SignText(a.Result, c.secret)):
		return answer{}, errors.New("bad response sign (wrong app_secret, or the answer was altered)")
	case r.Sign == "" && !c.sandbox:
		// Fulu signs its successes; an unsigned one could come from anyone
		// on the path. Unknown: the purchase is queried until a signed
		// answer says what happened.
		return answer{}, errors.New("success answer without a sign (only Fulu's sandbox answers unsigned)")
	case r.Sign == "":
		c.log.Debug().Msg("fulu_sandbox_response_unsigned")
	}
	return a, nil
}

// redact removes the AppKey and AppSecret from text meant for logs, errors
// and Details, whoever wrote it (an upstream message could echo them).
func (c *Client) redact(s string) string {
	for _, secret := range []string{c.secret, c.appKey} {
		if secret != "" {
			s = strings.ReplaceAll(s, secret, "<redacted>")
		}
	}
	return s
}

func (c *Client) redactErr(err error) error {
	if err == nil {
		return nil
	}
	return errors.New(c.redact(err.Error()))
}
