package qq

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tencent-connect/botgo/dto"

	"cardflow/internal/outbound"
)

// QQ's own endpoints; tests point the adapter at a fake.
const (
	defaultAPIURL   = "https://api.sgroup.qq.com"
	defaultTokenURL = "https://bots.qq.com"
)

// Error codes the adapter acts on (docs/qq.md).
const (
	codeActiveRefused   = 40034102 // a send without msg_id/event_id: no active push for this bot
	codeActiveRefused2  = 40034105
	codeReplyLimit      = 22009    // more than 5 replies to one inbound message
	codeMarkdownRefused = 304057   // custom markdown or buttons not allowed for this bot
	codeKeyboardRefused = 40034012 // buttons not allowed
	codeDuplicateSeq    = 40054005 // this msg_seq went out already on this handle
	codeHandleUnknown   = 304026   // msg_id / event_id not valid here
	codeHandleExpired   = 304027   // its reply window has closed
)

// apiError is a non-2xx answer of the OpenAPI.
type apiError struct {
	Status  int
	Code    int    `json:"code"`
	ErrCode int    `json:"err_code"`
	Message string `json:"message"`
	TraceID string `json:"trace_id"`
}

func (e *apiError) Error() string {
	return fmt.Sprintf("qq api: %d err_code %d: %s", e.Status, e.ErrCode, e.Message)
}

// errCode is the platform's error code of err, or 0.
func errCode(err error) int {
	var ae *apiError
	if errors.As(err, &ae) {
		return max(ae.ErrCode, ae.Code)
	}
	return 0
}

// client is the part of QQ's OpenAPI the adapter uses, over its own HTTP
// client: botgo's resty-based client reads shared state without locks,
// and the adapter sends from several goroutines. The wire
// types are botgo's dto.
type client struct {
	appID, secret    string
	apiURL, tokenURL string
	http             *http.Client

	mu      sync.Mutex
	token   string
	expires time.Time
}

func newClient(appID, secret, apiURL, tokenURL string, hc *http.Client) *client {
	if apiURL == "" {
		apiURL = defaultAPIURL
	}
	if tokenURL == "" {
		tokenURL = defaultTokenURL
	}
	hc = outbound.Guard(hc) // never follow a redirect with the access token
	if hc == nil {
		hc = outbound.New(outbound.Options{Timeout: 10 * time.Second})
	}
	return &client{appID: appID, secret: secret, apiURL: strings.TrimSuffix(apiURL, "/"),
		tokenURL: strings.TrimSuffix(tokenURL, "/"), http: hc}
}

// accessToken returns a valid token, fetching a new one a minute before
// the old one expires.
func (c *client) accessToken(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token != "" && time.Now().Before(c.expires.Add(-time.Minute)) {
		return c.token, nil
	}
	body, _ := json.Marshal(map[string]string{"appId": c.appID, "clientSecret": c.secret})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.tokenURL+"/app/getAppAccessToken", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("qq token: %w", err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var tok struct {
		AccessToken string          `json:"access_token"`
		ExpiresIn   json.RawMessage `json:"expires_in"` // a string, "7200"
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(data, &tok) != nil || tok.AccessToken == "" {
		return "", fmt.Errorf("qq token: status %d", resp.StatusCode) // the body may echo the secret: not shown
	}
	secs, err := strconv.Atoi(strings.Trim(string(tok.ExpiresIn), `"`))
	if err != nil || secs <= 0 {
		secs = 7200
	}
	c.token, c.expires = tok.AccessToken, time.Now().Add(time.Duration(secs)*time.Second)
	return c.token, nil
}

// do sends one API call; a 2xx answer is decoded into out when out is not
// nil and the body decodes (a send that went out is never retried because
// its answer looked odd).
func (c *client) do(ctx context.Context, method, path string, in, out any) error {
	token, err := c.accessToken(ctx)
	if err != nil {
		return err
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode %s: %w", path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.apiURL+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "QQBot "+token)
	req.Header.Set("X-Union-Appid", c.appID)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("qq %s: %w", path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 {
		ae := &apiError{Status: resp.StatusCode}
		_ = json.Unmarshal(data, ae)
		if resp.StatusCode == http.StatusUnauthorized {
			c.mu.Lock()
			c.token = "" // fetch a new one next time
			c.mu.Unlock()
		}
		return ae
	}
	if out != nil {
		_ = json.Unmarshal(data, out)
	}
	return nil
}

// sent is what QQ answers a send with (its timestamp is a string).
type sent struct {
	ID string `json:"id"`
}

// send posts a message to a group ("group:OPENID") or a user
// ("c2c:OPENID").
func (c *client) send(ctx context.Context, chat string, m *dto.MessageToCreate) (string, error) {
	kind, openid, _ := strings.Cut(chat, ":")
	path := "/v2/groups/" + openid + "/messages"
	if kind == "c2c" {
		path = "/v2/users/" + openid + "/messages"
	}
	var s sent
	err := c.do(ctx, http.MethodPost, path, m, &s)
	return s.ID, err
}

// ackInteraction answers a button click so the client stops spinning.
func (c *client) ackInteraction(ctx context.Context, id string, code int) error {
	return c.do(ctx, http.MethodPut, "/interactions/"+id, map[string]int{"code": code}, nil)
}
