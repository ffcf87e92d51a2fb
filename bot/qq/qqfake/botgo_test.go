package qqfake_test

// These tests point the real SDK (botgo v0.2.1) at the fake: if the fake's
// wire format drifted from what botgo sends and expects, they fail.

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tencent-connect/botgo"
	"github.com/tencent-connect/botgo/constant"
	"github.com/tencent-connect/botgo/dto"
	"github.com/tencent-connect/botgo/dto/keyboard"
	"github.com/tencent-connect/botgo/event"
	"github.com/tencent-connect/botgo/interaction/signature"
	"github.com/tencent-connect/botgo/interaction/webhook"
	"github.com/tencent-connect/botgo/openapi"
	"github.com/tencent-connect/botgo/token"

	"cardflow/bot/qq/qqfake"
)

// botgoClient is botgo's OpenAPI client aimed at the fake. botgo's domains
// are globals: these tests must not run in parallel.
func botgoClient(t *testing.T, s *qqfake.Server) openapi.OpenAPI {
	t.Helper()
	api, tok := constant.APIDomain, constant.TokenDomain
	constant.APIDomain, constant.TokenDomain = s.URL(), s.URL()
	t.Cleanup(func() { constant.APIDomain, constant.TokenDomain = api, tok })
	ts := token.NewQQBotTokenSource(&token.QQBotCredentials{AppID: appID, AppSecret: secret})
	return botgo.NewOpenAPI(appID, ts).WithTimeout(5 * time.Second)
}

func TestBotgoTokenSourceReadsTheFakesToken(t *testing.T) {
	s, _ := newServer(t)
	botgoClient(t, s)
	tk, err := token.NewQQBotTokenSource(&token.QQBotCredentials{AppID: appID, AppSecret: secret}).Token()
	if err != nil || tk.AccessToken == "" || tk.TokenType != "QQBot" || tk.ExpiresIn != 7200 {
		t.Fatalf("botgo token = %+v, %v", tk, err)
	}
	if _, err := token.NewQQBotTokenSource(&token.QQBotCredentials{AppID: appID, AppSecret: "wrong"}).Token(); err == nil {
		t.Error("botgo got a token with a wrong secret")
	}
}

func TestBotgoRepliesWithMarkdownAndButtonsAndAcks(t *testing.T) {
	s, _ := newServer(t)
	h := newHook(t, s)
	api := botgoClient(t, s)
	ctx := context.Background()

	at, err := s.GroupAt("G1", "M1", "/pending")
	if err != nil {
		t.Fatal(err)
	}
	// botgo reads the callback: signature, payload and message data.
	r := h.last(t)
	if ok, err := signature.Verify(secret, r.Header, r.Body); !ok || err != nil {
		t.Errorf("botgo signature.Verify = %v, %v", ok, err)
	}
	var p dto.WSPayload
	if err := json.Unmarshal(r.Body, &p); err != nil || p.EventID != at.EventID || p.Type != dto.EventGroupAtMessageCreate || p.OPCode != dto.WSDispatchEvent {
		t.Errorf("botgo payload = %+v, %v", p.WSPayloadBase, err)
	}
	var m dto.WSGroupATMessageData
	if err := event.ParseData(r.Body, &m); err != nil || m.ID != at.MsgID || m.GroupID != "G1" || m.Author == nil || m.Author.ID != "M1" || m.Content != " /pending" {
		t.Errorf("botgo message data = %+v, %v", m, err)
	}
	if _, err := m.Timestamp.Time(); err != nil {
		t.Errorf("botgo cannot parse the message timestamp %q: %v", m.Timestamp, err)
	}

	kb := &keyboard.MessageKeyboard{Content: &keyboard.CustomKeyboard{Rows: []*keyboard.Row{{Buttons: []*keyboard.Button{{
		ID:         "1",
		RenderData: &keyboard.RenderData{Label: "通过", VisitedLabel: "已通过", Style: 1},
		Action:     &keyboard.Action{Type: keyboard.ActionTypeCallback, Permission: &keyboard.Permission{Type: keyboard.PermissionTypAll}, Data: "o:ap:42"},
	}}}}}}
	sent, err := api.PostGroupMessage(ctx, "G1", &dto.MessageToCreate{MsgType: dto.MarkdownMsg,
		Markdown: &dto.Markdown{Content: "**待审核**"}, Keyboard: kb, MsgID: at.MsgID, MsgSeq: 1})
	if err != nil || sent.ID == "" {
		t.Fatalf("botgo PostGroupMessage = %+v, %v", sent, err)
	}
	if _, err := sent.Timestamp.Time(); err != nil {
		t.Errorf("answer timestamp %q: %v", sent.Timestamp, err)
	}
	got := s.Messages("G1")
	if len(got) != 1 || got[0].Markdown != "**待审核**" || len(got[0].Buttons()) != 1 || got[0].Buttons()[0].Data != "o:ap:42" ||
		got[0].Buttons()[0].Type != 1 || got[0].Buttons()[0].Permission != 2 || got[0].Seq != 1 {
		t.Errorf("recorded %+v", got)
	}

	// A refused send reaches botgo as an error whose text holds err_code.
	_, err = api.PostGroupMessage(ctx, "G2", &dto.MessageToCreate{Content: "alert"})
	if err == nil || !strings.Contains(err.Error(), `"err_code":40034102`) {
		t.Errorf("botgo active send = %v; want an error with err_code 40034102", err)
	}

	c, err := s.Click("G1", "M1", "o:ap:42", sent.ID)
	if err != nil {
		t.Fatal(err)
	}
	var in dto.WSInteractionData
	if err := event.ParseData(h.last(t).Body, &in); err != nil || in.ID != c.InteractionID || in.GroupOpenID != "G1" ||
		in.GroupMemberOpenID != "M1" || in.Data == nil || in.Data.Type != dto.InteractionDataTypeInlineKeyboardClick {
		t.Fatalf("botgo interaction = %+v, %v", in, err)
	}
	var res struct {
		ButtonData string `json:"button_data"`
		ButtonID   string `json:"button_id"`
	}
	if err := json.Unmarshal(in.Data.Resolved, &res); err != nil || res.ButtonData != "o:ap:42" || res.ButtonID != "1" {
		t.Errorf("resolved = %s, %v", in.Data.Resolved, err)
	}
	if err := api.PutInteraction(ctx, c.InteractionID, `{"code":0}`); err != nil {
		t.Errorf("botgo PutInteraction = %v", err)
	}
	if acks := s.Acks(); acks[c.InteractionID] != 0 || len(acks) != 1 {
		t.Errorf("Acks = %v", acks)
	}
	if _, err := api.PostGroupMessage(ctx, "G1", &dto.MessageToCreate{Content: "已通过", EventID: c.EventID, MsgSeq: 1}); err != nil {
		t.Errorf("botgo reply by event_id = %v", err)
	}

	u, err := s.C2C("U1", "hi")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := api.PostC2CMessage(ctx, "U1", &dto.MessageToCreate{Content: "hello", MsgID: u.MsgID, MsgSeq: 1}); err != nil {
		t.Errorf("botgo PostC2CMessage = %v", err)
	}
}

func TestBotgoKeepsItsCachedTokenAfterExpiry(t *testing.T) {
	s, _ := newServer(t)
	s.AllowActive("G1")
	api := botgoClient(t, s)
	ctx := context.Background()
	if _, err := api.PostGroupMessage(ctx, "G1", &dto.MessageToCreate{Content: "1"}); err != nil {
		t.Fatal(err)
	}
	s.ExpireTokens()
	// botgo caches the token by its own expiry: the fake's 401 reaches the caller.
	_, err := api.PostGroupMessage(ctx, "G1", &dto.MessageToCreate{Content: "2"})
	if err == nil || !strings.Contains(err.Error(), "11244") {
		t.Errorf("send with an expired token = %v; want an error with 11244", err)
	}
	if n := s.Calls(qqfake.TokenPath); n != 1 {
		t.Errorf("token fetched %d times; botgo fetches once and caches", n)
	}
}

func TestBotgoHandshakeAnswerVerifies(t *testing.T) {
	s, _ := newServer(t)
	h := newHook(t, s)
	h.mu.Lock()
	h.answer = func(body []byte) (int, string) {
		var p struct {
			D dto.WHValidationReq `json:"d"`
		}
		if err := json.Unmarshal(body, &p); err != nil {
			return http.StatusBadRequest, err.Error()
		}
		return http.StatusOK, string(webhook.GenValidationACK(&p.D, http.Header{}, secret))
	}
	h.mu.Unlock()
	d, err := s.Handshake("Arq0D5A61EgUu4OxUvOp", "1725442341")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.VerifyHandshake(d.Answer); err != nil {
		t.Errorf("VerifyHandshake(botgo's answer %s) = %v", d.Answer, err)
	}
}
