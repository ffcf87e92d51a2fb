package qqfake_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"cardflow/bot/qq/qqfake"
)

func TestSignatureMatchesQQTestVector(t *testing.T) {
	// QQ's documented vector: appid 11111111, secret DG5g3B4j9X2KOErG,
	// plain_token Arq0D5A61EgUu4OxUvOp, event_ts 1725442341.
	s := qqfake.New("11111111", "DG5g3B4j9X2KOErG")
	defer s.Close()
	sig := s.Sign("1725442341", []byte("Arq0D5A61EgUu4OxUvOp"))
	if !strings.HasPrefix(sig, "87befc99c42c651b") || !strings.HasSuffix(sig, "c706") || len(sig) != 128 {
		t.Errorf("Sign(1725442341, Arq0D5A61EgUu4OxUvOp) = %s; want 87befc99c42c651b…c706", sig)
	}
	want := hex.EncodeToString(ed25519.Sign(keyFor("DG5g3B4j9X2KOErG"), []byte("1725442341Arq0D5A61EgUu4OxUvOp")))
	if sig != want {
		t.Errorf("Sign = %s, independent derivation = %s", sig, want)
	}
	if !bytes.Equal(s.PublicKey(), keyFor("DG5g3B4j9X2KOErG").Public().(ed25519.PublicKey)) {
		t.Error("PublicKey differs from the key derived from the secret")
	}
}

// verify checks a recorded callback's signature with the key derived from
// the secret, and its timestamp against the fake's clock.
func verify(t *testing.T, r recorded, now time.Time) {
	t.Helper()
	ts := r.Header.Get("X-Signature-Timestamp")
	if ts != strconv.FormatInt(now.Unix(), 10) {
		t.Errorf("X-Signature-Timestamp = %q; want %d", ts, now.Unix())
	}
	sig, err := hex.DecodeString(r.Header.Get("X-Signature-Ed25519"))
	if err != nil || !ed25519.Verify(keyFor(secret).Public().(ed25519.PublicKey), append([]byte(ts), r.Body...), sig) {
		t.Errorf("X-Signature-Ed25519 %q does not verify over timestamp+body", r.Header.Get("X-Signature-Ed25519"))
	}
	if got := r.Header.Get("X-Bot-Appid"); got != appID {
		t.Errorf("X-Bot-Appid = %q", got)
	}
}

func TestWebhookCallbacksAreSignedAndShapedAsQQ(t *testing.T) {
	s, clk := newServer(t)
	h := newHook(t, s)

	at, err := s.GroupAt("G1", "M1", "/bind 123456")
	if err != nil || !at.Acked() {
		t.Fatalf("GroupAt = %+v, %v", at, err)
	}
	r := h.last(t)
	verify(t, r, clk.Now())
	var p struct {
		ID string `json:"id"`
		Op int    `json:"op"`
		S  int    `json:"s"`
		T  string `json:"t"`
		D  struct {
			ID          string `json:"id"`
			Content     string `json:"content"`
			Timestamp   string `json:"timestamp"`
			GroupID     string `json:"group_id"`
			GroupOpenID string `json:"group_openid"`
			Author      struct {
				ID           string `json:"id"`
				MemberOpenID string `json:"member_openid"`
				UserOpenID   string `json:"user_openid"`
			} `json:"author"`
		} `json:"d"`
	}
	if err := json.Unmarshal(r.Body, &p); err != nil {
		t.Fatal(err)
	}
	if p.ID != at.EventID || p.Op != 0 || p.S == 0 || p.T != "GROUP_AT_MESSAGE_CREATE" || p.D.ID != at.MsgID ||
		p.D.Content != " /bind 123456" || p.D.GroupOpenID != "G1" || p.D.GroupID != "G1" ||
		p.D.Author.MemberOpenID != "M1" || p.D.Author.ID != "M1" || p.D.Timestamp != "2026-11-25T09:00:00+08:00" {
		t.Errorf("GROUP_AT_MESSAGE_CREATE = %s", r.Body)
	}
	s1 := p.S

	clk.Advance(time.Minute)
	u, err := s.C2C("U1", "/help")
	if err != nil || !u.Acked() {
		t.Fatalf("C2C = %+v, %v", u, err)
	}
	r = h.last(t)
	verify(t, r, clk.Now())
	p.D.Author.MemberOpenID = ""
	if err := json.Unmarshal(r.Body, &p); err != nil {
		t.Fatal(err)
	}
	if p.T != "C2C_MESSAGE_CREATE" || p.ID != u.EventID || p.D.ID != u.MsgID || p.D.Content != "/help" ||
		p.D.Author.UserOpenID != "U1" || p.D.Author.MemberOpenID != "" || p.S <= s1 {
		t.Errorf("C2C_MESSAGE_CREATE = %s", r.Body)
	}

	// A click on a button of a message the bot sent carries that button's id.
	auth := authHeader(t, s)
	if status, _, raw := do(t, s, http.MethodPost, groupPath("G1"), auth, markdownBody(at.MsgID, 1, true)); status != http.StatusOK {
		t.Fatalf("send = %d %s", status, raw)
	}
	sent := s.Messages("G1")[0]
	c, err := s.Click("G1", "M1", "o:rf:42", sent.ID)
	if err != nil || !c.Acked() {
		t.Fatalf("Click = %+v, %v", c, err)
	}
	r = h.last(t)
	verify(t, r, clk.Now())
	var ip struct {
		ID string `json:"id"`
		T  string `json:"t"`
		D  struct {
			ID                string `json:"id"`
			ApplicationID     string `json:"application_id"`
			Type              int    `json:"type"`
			Scene             string `json:"scene"`
			ChatType          int    `json:"chat_type"`
			GroupOpenID       string `json:"group_openid"`
			GroupMemberOpenID string `json:"group_member_openid"`
			Timestamp         string `json:"timestamp"`
			Data              struct {
				Type     int `json:"type"`
				Resolved struct {
					ButtonData string `json:"button_data"`
					ButtonID   string `json:"button_id"`
					MessageID  string `json:"message_id"`
				} `json:"resolved"`
			} `json:"data"`
		} `json:"d"`
	}
	if err := json.Unmarshal(r.Body, &ip); err != nil {
		t.Fatal(err)
	}
	if ip.T != "INTERACTION_CREATE" || ip.ID != c.EventID || ip.D.ID != c.InteractionID || ip.D.Type != 11 ||
		ip.D.Scene != "group" || ip.D.ChatType != 1 || ip.D.GroupOpenID != "G1" || ip.D.GroupMemberOpenID != "M1" ||
		ip.D.ApplicationID != appID || ip.D.Data.Type != 11 || ip.D.Data.Resolved.ButtonData != "o:rf:42" ||
		ip.D.Data.Resolved.ButtonID != "2" || ip.D.Data.Resolved.MessageID != sent.ID || ip.D.Timestamp == "" {
		t.Errorf("INTERACTION_CREATE = %s", r.Body)
	}
}

func TestDeliveryAckedReadsTheWebhookAnswer(t *testing.T) {
	s, _ := newServer(t)
	h := newHook(t, s)
	for _, c := range []struct {
		status int
		body   string
		acked  bool
	}{
		{200, `{"op":12,"d":0}`, true},
		{200, `{"op":12,"d":1}`, false},
		{200, `{"op":12}`, false},
		{401, `{"op":12,"d":0}`, false},
		{200, ``, false},
	} {
		h.mu.Lock()
		h.answer = func([]byte) (int, string) { return c.status, c.body }
		h.mu.Unlock()
		d, err := s.GroupAt("G1", "M1", "x")
		if err != nil {
			t.Fatal(err)
		}
		if d.Status != c.status || string(d.Answer) != c.body || d.Acked() != c.acked {
			t.Errorf("webhook answering %d %q: Delivery %d %q Acked=%v; want Acked=%v", c.status, c.body, d.Status, d.Answer, d.Acked(), c.acked)
		}
	}
}

func TestHandshakeAnswerIsVerified(t *testing.T) {
	s, clk := newServer(t)
	h := newHook(t, s)
	d, err := s.Handshake("Arq0D5A61EgUu4OxUvOp", "1725442341")
	if err != nil {
		t.Fatal(err)
	}
	r := h.last(t)
	verify(t, r, clk.Now())
	var p struct {
		Op int               `json:"op"`
		D  map[string]string `json:"d"`
	}
	if err := json.Unmarshal(r.Body, &p); err != nil || p.Op != 13 || p.D["plain_token"] != "Arq0D5A61EgUu4OxUvOp" || p.D["event_ts"] != "1725442341" {
		t.Errorf("handshake request = %s", r.Body)
	}
	if err := s.VerifyHandshake(d.Answer); err != nil {
		t.Errorf("VerifyHandshake(correct answer %s) = %v", d.Answer, err)
	}
	wrongOrder := hex.EncodeToString(ed25519.Sign(keyFor(secret), []byte("Arq0D5A61EgUu4OxUvOp1725442341")))
	otherKey := hex.EncodeToString(ed25519.Sign(keyFor("another-secret"), []byte("1725442341Arq0D5A61EgUu4OxUvOp")))
	for _, bad := range []string{
		`{"plain_token":"Arq0D5A61EgUu4OxUvOp","signature":"` + wrongOrder + `"}`,
		`{"plain_token":"Arq0D5A61EgUu4OxUvOp","signature":"` + otherKey + `"}`,
		`{"plain_token":"never-sent","signature":"` + wrongOrder + `"}`,
		`{"plain_token":"Arq0D5A61EgUu4OxUvOp","signature":"zz"}`,
		`{"op":12,"d":0}`,
		`not json`,
	} {
		if err := s.VerifyHandshake([]byte(bad)); err == nil {
			t.Errorf("VerifyHandshake(%s) = nil; want an error", bad)
		}
	}
}

func TestRawReplayedAndRedeliveredCallbacks(t *testing.T) {
	s, clk := newServer(t)
	h := newHook(t, s)

	// Unsigned and stale: exactly the headers asked for.
	body := []byte(`{"op":0,"id":"E1","t":"C2C_MESSAGE_CREATE","d":{}}`)
	if _, err := s.SendRaw(body, "1000", false); err != nil {
		t.Fatal(err)
	}
	r := h.last(t)
	if r.Header.Get("X-Signature-Ed25519") != "" || r.Header.Get("X-Signature-Timestamp") != "1000" || !bytes.Equal(r.Body, body) {
		t.Errorf("unsigned SendRaw arrived as %v %s", r.Header, r.Body)
	}

	// Tampered: signed for one body, carrying another.
	ts := strconv.FormatInt(clk.Now().Unix(), 10)
	if _, err := s.Send(qqfake.Callback{Body: []byte(`{"op":0,"d":{"content":"evil"}}`), Timestamp: ts, Signature: s.Sign(ts, body)}); err != nil {
		t.Fatal(err)
	}
	r = h.last(t)
	if sig, _ := hex.DecodeString(r.Header.Get("X-Signature-Ed25519")); ed25519.Verify(s.PublicKey(), append([]byte(ts), r.Body...), sig) {
		t.Error("a tampered callback verifies")
	}

	// Over 4 KB, and chunked, arrive whole.
	big := []byte(`{"op":0,"t":"GROUP_AT_MESSAGE_CREATE","d":{"content":" ` + strings.Repeat("长", 3000) + `"}}`)
	for _, chunked := range []bool{false, true} {
		if _, err := s.Send(qqfake.Callback{Body: big, Timestamp: ts, Sign: true, Chunked: chunked}); err != nil {
			t.Fatal(err)
		}
		r = h.last(t)
		if !bytes.Equal(r.Body, big) || r.Chunked != chunked || (r.ContentLength == -1) != chunked {
			t.Errorf("%d-byte body (chunked %v) arrived as %d bytes, chunked %v, Content-Length %d", len(big), chunked, len(r.Body), r.Chunked, r.ContentLength)
		}
		verify(t, r, clk.Now())
	}

	// Replay: the same bytes and headers again.
	at, err := s.GroupAt("G1", "M1", "hi")
	if err != nil {
		t.Fatal(err)
	}
	first := h.last(t)
	clk.Advance(10 * time.Minute)
	rp, err := s.Replay(at)
	if err != nil {
		t.Fatal(err)
	}
	again := h.last(t)
	if !bytes.Equal(again.Body, first.Body) || again.Header.Get("X-Signature-Timestamp") != first.Header.Get("X-Signature-Timestamp") ||
		again.Header.Get("X-Signature-Ed25519") != first.Header.Get("X-Signature-Ed25519") || rp.EventID != at.EventID {
		t.Errorf("Replay differs from the original: %v vs %v", again.Header, first.Header)
	}

	// Redeliver: the same body with a fresh timestamp and signature.
	rd, err := s.Redeliver(at)
	if err != nil {
		t.Fatal(err)
	}
	re := h.last(t)
	if !bytes.Equal(re.Body, first.Body) || re.Header.Get("X-Signature-Timestamp") == first.Header.Get("X-Signature-Timestamp") || rd.MsgID != at.MsgID {
		t.Errorf("Redeliver = %v %s", re.Header, re.Body)
	}
	verify(t, re, clk.Now())
}

func TestSendWithoutWebhookFails(t *testing.T) {
	s, _ := newServer(t)
	if _, err := s.GroupAt("G1", "M1", "x"); err == nil {
		t.Error("GroupAt without SetWebhook succeeded")
	}
}
