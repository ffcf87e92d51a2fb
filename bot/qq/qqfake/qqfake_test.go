package qqfake_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"cardflow/bot/qq/qqfake"
	"cardflow/internal/testkit"
)

const (
	appID  = "102000001"
	secret = "naOC0ocQE3shWLAfffVLB1rhYPG7"
)

func newServer(t *testing.T) (*qqfake.Server, *testkit.Clock) {
	t.Helper()
	s := qqfake.New(appID, secret)
	t.Cleanup(s.Close)
	c := testkit.NewClock(time.Date(2026, 11, 25, 9, 0, 0, 0, time.FixedZone("CST", 8*3600)))
	s.SetNow(c.Now)
	return s, c
}

// apiAnswer is an OpenAPI answer: a send result or the error shape.
type apiAnswer struct {
	ID        string `json:"id"`
	Timestamp string `json:"timestamp"`
	Message   string `json:"message"`
	Code      int    `json:"code"`
	ErrCode   int    `json:"err_code"`
	TraceID   string `json:"trace_id"`
}

// do calls the fake with a JSON body (a string is sent as is) and the
// Authorization header auth ("" for none).
func do(t *testing.T, s *qqfake.Server, method, path, auth string, body any) (int, apiAnswer, []byte) {
	t.Helper()
	var b []byte
	switch v := body.(type) {
	case string:
		b = []byte(v)
	case nil:
	default:
		var err error
		if b, err = json.Marshal(v); err != nil {
			t.Fatal(err)
		}
	}
	req, err := http.NewRequest(method, s.URL()+path, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var a apiAnswer
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &a); err != nil {
			t.Fatalf("%s %s: answer %q is not JSON: %v", method, path, raw, err)
		}
	}
	return resp.StatusCode, a, raw
}

// authHeader fetches an access token from the fake: "QQBot <token>".
// connected is a fake platform with a webhook receiver behind it and a
// token to call its OpenAPI with: what most of these tests start from.
func connected(t *testing.T) (*qqfake.Server, *testkit.Clock, string) {
	t.Helper()
	s, c := newServer(t)
	newHook(t, s)
	return s, c, authHeader(t, s)
}

func authHeader(t *testing.T, s *qqfake.Server) string {
	t.Helper()
	status, _, raw := do(t, s, http.MethodPost, qqfake.TokenPath, "",
		map[string]string{"appId": appID, "clientSecret": secret})
	var a struct {
		AccessToken string `json:"access_token"`
	}
	if status != http.StatusOK || json.Unmarshal(raw, &a) != nil || a.AccessToken == "" {
		t.Fatalf("token: %d %s", status, raw)
	}
	return "QQBot " + a.AccessToken
}

func groupPath(group string) string { return "/v2/groups/" + group + "/messages" }
func userPath(user string) string   { return "/v2/users/" + user + "/messages" }

func text(content, msgID string, seq int) map[string]any {
	m := map[string]any{"content": content, "msg_type": 0}
	if msgID != "" {
		m["msg_id"] = msgID
	}
	if seq != 0 {
		m["msg_seq"] = seq
	}
	return m
}

// hook is a webhook that records callbacks and answers dispatches with
// {"op":12,"d":0} and handshakes with a correct signature, computed here
// independently of the fake.
type hook struct {
	srv    *httptest.Server
	mu     sync.Mutex
	reqs   []recorded
	answer func(body []byte) (int, string) // nil: the default answers
}

type recorded struct {
	Header        http.Header
	Body          []byte
	ContentLength int64
	Chunked       bool
}

func newHook(t *testing.T, s *qqfake.Server) *hook {
	t.Helper()
	h := &hook{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		h.mu.Lock()
		h.reqs = append(h.reqs, recorded{Header: r.Header.Clone(), Body: body, ContentLength: r.ContentLength,
			Chunked: len(r.TransferEncoding) > 0 && r.TransferEncoding[0] == "chunked"})
		answer := h.answer
		h.mu.Unlock()
		if answer != nil {
			status, out := answer(body)
			w.WriteHeader(status)
			_, _ = io.WriteString(w, out)
			return
		}
		var p struct {
			Op int `json:"op"`
			D  struct {
				PlainToken string `json:"plain_token"`
				EventTs    string `json:"event_ts"`
			} `json:"d"`
		}
		_ = json.Unmarshal(body, &p)
		if p.Op == 13 {
			sig := ed25519.Sign(keyFor(secret), []byte(p.D.EventTs+p.D.PlainToken))
			_ = json.NewEncoder(w).Encode(map[string]string{"plain_token": p.D.PlainToken, "signature": hex.EncodeToString(sig)})
			return
		}
		_, _ = io.WriteString(w, `{"op":12,"d":0}`)
	}))
	t.Cleanup(h.srv.Close)
	s.SetWebhook(h.srv.URL)
	return h
}

func (h *hook) last(t *testing.T) recorded {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.reqs) == 0 {
		t.Fatal("the webhook got nothing")
	}
	return h.reqs[len(h.reqs)-1]
}

// keyFor derives the signing key as docs/qq.md says, independently of the
// fake: the secret repeated to 32 bytes is the seed.
func keyFor(secret string) ed25519.PrivateKey {
	seed := strings.Repeat(secret, 32/len(secret)+1)[:32]
	return ed25519.NewKeyFromSeed([]byte(seed))
}

func TestTokenEndpointAnswersExpiresInAsString(t *testing.T) {
	s, _ := newServer(t)
	status, _, raw := do(t, s, http.MethodPost, qqfake.TokenPath, "", map[string]string{"appId": appID, "clientSecret": secret})
	var a map[string]any
	if err := json.Unmarshal(raw, &a); err != nil || status != http.StatusOK {
		t.Fatalf("token with right credentials: %d %s", status, raw)
	}
	if _, ok := a["expires_in"].(string); !ok || a["expires_in"] != "7200" {
		t.Errorf("expires_in = %#v; want the string \"7200\"", a["expires_in"])
	}
	if tok, _ := a["access_token"].(string); tok == "" {
		t.Errorf("no access_token in %s", raw)
	}

	for _, creds := range []map[string]string{
		{"appId": appID, "clientSecret": "wrong"},
		{"appId": "999", "clientSecret": secret},
		{},
	} {
		_, _, raw := do(t, s, http.MethodPost, qqfake.TokenPath, "", creds)
		var e struct {
			Code        int    `json:"code"`
			AccessToken string `json:"access_token"`
		}
		if err := json.Unmarshal(raw, &e); err != nil || e.Code != qqfake.CodeCredentials || e.AccessToken != "" {
			t.Errorf("token with %v = %s; want code %d and no token", creds, raw, qqfake.CodeCredentials)
		}
	}
}

func TestAPIRequiresIssuedQQBotToken(t *testing.T) {
	s, _ := newServer(t)
	s.AllowActive("G1")
	old := authHeader(t, s)
	s.ExpireTokens()
	fresh := authHeader(t, s)
	bare := strings.TrimPrefix(fresh, "QQBot ")
	for _, auth := range []string{"", "Bearer " + bare, "QQBot nope", "Bot " + appID + "." + bare, old} {
		status, a, raw := do(t, s, http.MethodPost, groupPath("G1"), auth, text("hi", "", 0))
		if status != http.StatusUnauthorized || a.ErrCode != qqfake.CodeTokenInvalid || a.Code != qqfake.CodeTokenInvalid || a.TraceID == "" || a.Message == "" {
			t.Errorf("send with Authorization %q = %d %s; want 401 with err_code %d", auth, status, raw, qqfake.CodeTokenInvalid)
		}
	}
	if n := len(s.Messages("G1")); n != 0 {
		t.Fatalf("%d unauthorized sends were recorded", n)
	}
	if status, _, raw := do(t, s, http.MethodPost, groupPath("G1"), fresh, text("hi", "", 0)); status != http.StatusOK {
		t.Errorf("send with a fresh token = %d %s", status, raw)
	}
	if got := s.Calls(groupPath("G1")); got != 6 {
		t.Errorf("Calls = %d; want 6 (refused ones count)", got)
	}
}

func TestActivePushRefusedUnlessAllowed(t *testing.T) {
	s, _ := newServer(t)
	auth := authHeader(t, s)
	s.AllowActive("G-ok")
	cases := []struct {
		path   string
		status int
		code   int
	}{
		{groupPath("G-closed"), http.StatusBadRequest, qqfake.CodeActiveRefused},
		{userPath("U1"), http.StatusBadRequest, qqfake.CodeActiveRefused},
		{groupPath("G-ok"), http.StatusOK, 0},
	}
	for _, c := range cases {
		status, a, raw := do(t, s, http.MethodPost, c.path, auth, text("alert", "", 0))
		if status != c.status || a.ErrCode != c.code {
			t.Errorf("active send (no msg_id/event_id) to %s = %d %s; want %d err_code %d", c.path, status, raw, c.status, c.code)
		}
	}
	msgs := s.Messages("G-ok")
	if len(msgs) != 1 || !msgs[0].Active || msgs[0].Seq != 0 || msgs[0].Content != "alert" {
		t.Errorf("allowed active send recorded as %+v", msgs)
	}
	s.DenyActive("G-ok")
	if status, a, _ := do(t, s, http.MethodPost, groupPath("G-ok"), auth, text("again", "", 0)); status == http.StatusOK || a.ErrCode != qqfake.CodeActiveRefused {
		t.Errorf("active send after DenyActive = %d err_code %d", status, a.ErrCode)
	}
}

func TestGroupEventsToggleActivePush(t *testing.T) {
	s, _, auth := connected(t)
	if _, err := s.GroupEvent("GROUP_MSG_RECEIVE", "G1", "M-owner"); err != nil {
		t.Fatal(err)
	}
	if status, _, raw := do(t, s, http.MethodPost, groupPath("G1"), auth, text("x", "", 0)); status != http.StatusOK {
		t.Errorf("active send after GROUP_MSG_RECEIVE = %d %s", status, raw)
	}
	if _, err := s.GroupEvent("GROUP_MSG_REJECT", "G1", "M-owner"); err != nil {
		t.Fatal(err)
	}
	if _, a, _ := do(t, s, http.MethodPost, groupPath("G1"), auth, text("x", "", 0)); a.ErrCode != qqfake.CodeActiveRefused {
		t.Errorf("active send after GROUP_MSG_REJECT: err_code %d; want %d", a.ErrCode, qqfake.CodeActiveRefused)
	}
}

func TestReplyWindowExpiresByInjectedClock(t *testing.T) {
	cases := []struct {
		name  string
		c2c   bool
		click bool
		after time.Duration
		code  int
	}{
		{"group message at 4m59s", false, false, 4*time.Minute + 59*time.Second, 0},
		{"group message at 5m01s", false, false, 5*time.Minute + time.Second, qqfake.CodeReplyExpired},
		{"group click at 4m59s", false, true, 4*time.Minute + 59*time.Second, 0},
		{"group click at 5m01s", false, true, 5*time.Minute + time.Second, qqfake.CodeReplyExpired},
		{"c2c message at 59m", true, false, 59 * time.Minute, 0},
		{"c2c message at 61m", true, false, 61 * time.Minute, qqfake.CodeReplyExpired},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, clk, auth := connected(t)
			var d qqfake.Delivery
			var err error
			path := groupPath("G1")
			switch {
			case c.c2c:
				d, err = s.C2C("U1", "hello")
				path = userPath("U1")
			case c.click:
				d, err = s.Click("G1", "M1", "o:ap:1", "")
			default:
				d, err = s.GroupAt("G1", "M1", "hello")
			}
			if err != nil {
				t.Fatal(err)
			}
			body := map[string]any{"content": "reply", "msg_type": 0, "msg_seq": 1}
			if c.click {
				body["event_id"] = d.EventID
			} else {
				body["msg_id"] = d.MsgID
			}
			clk.Advance(c.after)
			status, a, raw := do(t, s, http.MethodPost, path, auth, body)
			if a.ErrCode != c.code || (c.code == 0) != (status == http.StatusOK) {
				t.Errorf("reply %v after %s = %d %s; want err_code %d", body, c.after, status, raw, c.code)
			}
		})
	}
}

func TestReplyHandleMustBeIssuedForThatChat(t *testing.T) {
	s, _, auth := connected(t)
	g, err := s.GroupAt("G1", "M1", "hi")
	if err != nil {
		t.Fatal(err)
	}
	u, err := s.C2C("U1", "hi")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		path string
		body map[string]any
	}{
		{"made-up msg_id", groupPath("G1"), map[string]any{"content": "x", "msg_id": "ROBOT1.0_nope"}},
		{"msg_id of another group", groupPath("G2"), map[string]any{"content": "x", "msg_id": g.MsgID}},
		{"group msg_id in c2c", userPath("U1"), map[string]any{"content": "x", "msg_id": g.MsgID}},
		{"c2c msg_id in a group", groupPath("G1"), map[string]any{"content": "x", "msg_id": u.MsgID}},
		{"msg_id given as event_id", groupPath("G1"), map[string]any{"content": "x", "event_id": g.MsgID}},
	}
	for _, c := range cases {
		status, a, raw := do(t, s, http.MethodPost, c.path, auth, c.body)
		if status != http.StatusBadRequest || a.ErrCode != qqfake.CodeReplyUnknown {
			t.Errorf("%s: %v to %s = %d %s; want err_code %d", c.name, c.body, c.path, status, raw, qqfake.CodeReplyUnknown)
		}
	}
	// The group message's own event id is a handle too.
	if status, _, raw := do(t, s, http.MethodPost, groupPath("G1"), auth, map[string]any{"content": "x", "event_id": g.EventID}); status != http.StatusOK {
		t.Errorf("reply with the GROUP_AT event id = %d %s", status, raw)
	}
}

func TestFiveRepliesPerHandleWithUniqueSeq(t *testing.T) {
	s, _, auth := connected(t)
	d, err := s.GroupAt("G1", "M1", "hi")
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		seq  int // 0: omitted, which the platform takes as 1
		code int
	}{
		{0, 0},
		{1, qqfake.CodeSeqDuplicate},
		{2, 0},
		{2, qqfake.CodeSeqDuplicate},
		{6, qqfake.CodeReplyLimit},
		{3, 0},
		{4, 0},
		{5, 0},
		{5, qqfake.CodeReplyLimit}, // all five spent: the limit answers first
		{6, qqfake.CodeReplyLimit},
	}
	for i, st := range steps {
		status, a, raw := do(t, s, http.MethodPost, groupPath("G1"), auth, text(fmt.Sprint("r", i), d.MsgID, st.seq))
		if a.ErrCode != st.code || (st.code == 0) != (status == http.StatusOK) {
			t.Errorf("step %d: reply with msg_seq %d = %d %s; want err_code %d", i, st.seq, status, raw, st.code)
		}
	}
	var seqs []int
	for _, m := range s.Messages("G1") {
		seqs = append(seqs, m.Seq)
	}
	if fmt.Sprint(seqs) != "[1 2 3 4 5]" {
		t.Errorf("recorded msg_seq %v; want [1 2 3 4 5]", seqs)
	}
	if n := s.RepliesLeft(d.MsgID); n != 0 {
		t.Errorf("RepliesLeft after 5 = %d", n)
	}
	// The event id of the same message has its own budget.
	if status, _, raw := do(t, s, http.MethodPost, groupPath("G1"), auth, map[string]any{"content": "x", "event_id": d.EventID, "msg_seq": 1}); status != http.StatusOK {
		t.Errorf("reply by event_id after msg_id is spent = %d %s", status, raw)
	}
}

func markdownBody(msgID string, seq int, withKeyboard bool) map[string]any {
	m := map[string]any{"msg_type": 2, "msg_id": msgID, "msg_seq": seq, "markdown": map[string]any{"content": "**待审核** 订单 42"}}
	if withKeyboard {
		m["keyboard"] = map[string]any{"content": map[string]any{"rows": []any{
			map[string]any{"buttons": []any{
				button("1", "通过", "o:ap:42"),
				button("2", "退款", "o:rf:42"),
			}},
		}}}
	}
	return m
}

func button(id, label, data string) map[string]any {
	return map[string]any{
		"id":          id,
		"render_data": map[string]any{"label": label, "visited_label": label + "✓", "style": 1},
		"action": map[string]any{"type": 1, "permission": map[string]any{"type": 2}, "data": data,
			"unsupport_tips": "请升级QQ", "enter": false},
	}
}

func TestMarkdownAndKeyboardRefusalLevels(t *testing.T) {
	levels := []struct {
		name   string
		refuse func(*qqfake.Server)
		// want err_code for text, markdown, markdown+keyboard
		want [3]int
	}{
		{"all allowed", func(*qqfake.Server) {}, [3]int{0, 0, 0}},
		{"keyboard refused", (*qqfake.Server).RefuseKeyboard, [3]int{0, 0, qqfake.CodeMarkdownRefused}},
		{"markdown refused", (*qqfake.Server).RefuseMarkdown, [3]int{0, qqfake.CodeMarkdownRefused, qqfake.CodeMarkdownRefused}},
		{"keyboard then markdown refused", func(s *qqfake.Server) { s.RefuseKeyboard(); s.RefuseMarkdown() }, [3]int{0, qqfake.CodeMarkdownRefused, qqfake.CodeMarkdownRefused}},
		{"markdown then keyboard refused", func(s *qqfake.Server) { s.RefuseMarkdown(); s.RefuseKeyboard() }, [3]int{0, qqfake.CodeMarkdownRefused, qqfake.CodeMarkdownRefused}},
	}
	for _, l := range levels {
		t.Run(l.name, func(t *testing.T) {
			s, _, auth := connected(t)
			l.refuse(s)
			d, err := s.GroupAt("G1", "M1", "/pending")
			if err != nil {
				t.Fatal(err)
			}
			bodies := []map[string]any{text("纯文本", d.MsgID, 1), markdownBody(d.MsgID, 2, false), markdownBody(d.MsgID, 3, true)}
			for i, b := range bodies {
				status, a, raw := do(t, s, http.MethodPost, groupPath("G1"), auth, b)
				if a.ErrCode != l.want[i] || (l.want[i] == 0) != (status == http.StatusOK) {
					t.Errorf("%s: send #%d (%v) = %d %s; want err_code %d", l.name, i, b, status, raw, l.want[i])
				}
			}
		})
	}
}

func TestSuccessfulSendIsRecordedWithButtons(t *testing.T) {
	s, clk, auth := connected(t)
	d, err := s.GroupAt("G1", "M1", "/pending")
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(30 * time.Second)
	status, a, raw := do(t, s, http.MethodPost, groupPath("G1"), auth, markdownBody(d.MsgID, 1, true))
	if status != http.StatusOK || a.ID == "" {
		t.Fatalf("markdown send = %d %s", status, raw)
	}
	var ts map[string]any
	_ = json.Unmarshal(raw, &ts)
	if got, ok := ts["timestamp"].(string); !ok || got != "2026-11-25T09:00:30+08:00" {
		t.Errorf("answer timestamp = %#v; want the string 2026-11-25T09:00:30+08:00", ts["timestamp"])
	}
	msgs := s.Messages("G1")
	if len(msgs) != 1 {
		t.Fatalf("Messages(G1) = %+v", msgs)
	}
	m := msgs[0]
	if m.ID != a.ID || m.Kind != qqfake.KindGroup || m.Target != "G1" || m.MsgType != 2 || m.Markdown != "**待审核** 订单 42" ||
		m.MsgID != d.MsgID || m.Seq != 1 || m.Active || !m.Time.Equal(clk.Now()) || len(m.Raw) == 0 {
		t.Errorf("recorded %+v", m)
	}
	want := []qqfake.Button{
		{ID: "1", Label: "通过", VisitedLabel: "通过✓", Style: 1, Type: 1, Permission: 2, Data: "o:ap:42", UnsupportTips: "请升级QQ"},
		{ID: "2", Label: "退款", VisitedLabel: "退款✓", Style: 1, Type: 1, Permission: 2, Data: "o:rf:42", UnsupportTips: "请升级QQ"},
	}
	if got := m.Buttons(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("buttons = %+v; want %+v", got, want)
	}
	if len(s.Sent()) != 1 || len(s.Messages("G2")) != 0 {
		t.Errorf("Sent = %d, Messages(G2) = %d", len(s.Sent()), len(s.Messages("G2")))
	}
}

func TestMalformedSendsAreRefused(t *testing.T) {
	s, _, auth := connected(t)
	d, err := s.GroupAt("G1", "M1", "hi")
	if err != nil {
		t.Fatal(err)
	}
	row := func(n int) map[string]any {
		var bs []any
		for i := range n {
			bs = append(bs, button(fmt.Sprint(i), "b", "d"))
		}
		return map[string]any{"buttons": bs}
	}
	kb := func(rows ...any) map[string]any { return map[string]any{"content": map[string]any{"rows": rows}} }
	cases := []struct {
		name string
		body any
	}{
		{"not JSON", "{"},
		{"empty text", map[string]any{"msg_type": 0, "content": " ", "msg_id": d.MsgID}},
		{"markdown without content", map[string]any{"msg_type": 2, "msg_id": d.MsgID}},
		{"keyboard on text", map[string]any{"msg_type": 0, "content": "x", "msg_id": d.MsgID, "keyboard": kb(row(1))}},
		{"six rows", map[string]any{"msg_type": 2, "markdown": map[string]any{"content": "x"}, "msg_id": d.MsgID,
			"keyboard": kb(row(1), row(1), row(1), row(1), row(1), row(1))}},
		{"six buttons in a row", map[string]any{"msg_type": 2, "markdown": map[string]any{"content": "x"}, "msg_id": d.MsgID, "keyboard": kb(row(6))}},
		{"button without label", map[string]any{"msg_type": 2, "markdown": map[string]any{"content": "x"}, "msg_id": d.MsgID,
			"keyboard": kb(map[string]any{"buttons": []any{map[string]any{"action": map[string]any{"type": 1}}}})}},
		{"msg_seq as a string", map[string]any{"msg_type": 0, "content": "x", "msg_id": d.MsgID, "msg_seq": "1"}},
	}
	for _, c := range cases {
		status, a, raw := do(t, s, http.MethodPost, groupPath("G1"), auth, c.body)
		if status != http.StatusBadRequest || a.ErrCode != qqfake.CodeInvalidRequest {
			t.Errorf("%s: %v = %d %s; want 400 err_code %d", c.name, c.body, status, raw, qqfake.CodeInvalidRequest)
		}
	}
	// 5 rows of 5 is the most allowed, and spends no reply by failing.
	five := map[string]any{"msg_type": 2, "markdown": map[string]any{"content": "x"}, "msg_id": d.MsgID, "msg_seq": 1,
		"keyboard": kb(row(5), row(5), row(5), row(5), row(5))}
	if status, _, raw := do(t, s, http.MethodPost, groupPath("G1"), auth, five); status != http.StatusOK {
		t.Errorf("5×5 keyboard = %d %s", status, raw)
	}
}

func TestInteractionAckIsRecorded(t *testing.T) {
	s, _, auth := connected(t)
	d, err := s.Click("G1", "M1", "o:ap:42", "")
	if err != nil {
		t.Fatal(err)
	}
	if d.InteractionID == "" || d.EventID == "" || d.InteractionID == d.EventID {
		t.Fatalf("Click ids: interaction %q, event %q", d.InteractionID, d.EventID)
	}
	path := "/interactions/" + d.InteractionID
	if status, _, raw := do(t, s, http.MethodPut, path, "", `{"code":0}`); status != http.StatusUnauthorized {
		t.Errorf("ack without token = %d %s", status, raw)
	}
	if len(s.Acks()) != 0 {
		t.Errorf("an unauthorized ack was recorded: %v", s.Acks())
	}
	if status, _, raw := do(t, s, http.MethodPut, path, auth, `{"code":4}`); status != http.StatusNoContent || len(raw) != 0 {
		t.Errorf("ack {code:4} = %d %q; want 204 without body", status, raw)
	}
	if got := s.Acks(); len(got) != 1 || got[d.InteractionID] != 4 {
		t.Errorf("Acks = %v; want %s:4", got, d.InteractionID)
	}
	for _, c := range []struct{ path, body string }{
		{"/interactions/interaction-unknown", `{"code":0}`},
		{path, `{}`},
		{path, `{"code":9}`},
	} {
		status, a, raw := do(t, s, http.MethodPut, c.path, auth, c.body)
		if status/100 != 4 || a.ErrCode != qqfake.CodeInvalidRequest {
			t.Errorf("PUT %s %s = %d %s; want a 4xx error", c.path, c.body, status, raw)
		}
	}
	if got := s.Acks()[d.InteractionID]; got != 4 {
		t.Errorf("a refused ack changed the recorded code to %d", got)
	}
	if n := s.Calls("/interactions/*"); n != 5 {
		t.Errorf("Calls(/interactions/*) = %d; want 5", n)
	}
}

func TestFailNextInjectsErrorsThenRecovers(t *testing.T) {
	s, _ := newServer(t)
	auth := authHeader(t, s)
	s.AllowActive("G1")
	s.FailNext("/v2/groups/*/messages", http.StatusInternalServerError, 12345)
	s.FailNext(groupPath("G1"), 0, 0)
	status, a, raw := do(t, s, http.MethodPost, groupPath("G1"), auth, text("1", "", 0))
	if status != http.StatusInternalServerError || a.ErrCode != 12345 || a.Code != 12345 || a.TraceID == "" {
		t.Errorf("first send = %d %s; want 500 err_code 12345", status, raw)
	}
	b, _ := json.Marshal(text("2", "", 0))
	req, _ := http.NewRequest(http.MethodPost, s.URL()+groupPath("G1"), bytes.NewReader(b))
	req.Header.Set("Authorization", auth)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Errorf("second send = %d; want the connection dropped", resp.StatusCode)
	}
	if status, _, raw := do(t, s, http.MethodPost, groupPath("G1"), auth, text("3", "", 0)); status != http.StatusOK {
		t.Errorf("third send = %d %s", status, raw)
	}
	if msgs := s.Messages("G1"); len(msgs) != 1 || msgs[0].Content != "3" {
		t.Errorf("recorded %+v; want only the third", msgs)
	}
	if n := s.Calls(groupPath("G1")); n != 3 {
		t.Errorf("Calls = %d; want 3", n)
	}
	s.FailNext(qqfake.TokenPath, http.StatusServiceUnavailable, 0)
	if status, _, _ := do(t, s, http.MethodPost, qqfake.TokenPath, "", map[string]string{"appId": appID, "clientSecret": secret}); status != http.StatusServiceUnavailable {
		t.Errorf("token after FailNext = %d", status)
	}
}
