package qqfake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Message is a message the bot sent successfully.
type Message struct {
	ID       string // the id the fake answered with
	Kind     string // KindGroup or KindC2C
	Target   string // group openid or user openid
	MsgType  int    // 0 text, 2 markdown, 7 media, ...
	Content  string
	Markdown string     // markdown.content
	Keyboard [][]Button // keyboard.content rows
	MsgID    string     // the msg_id replied to, if any
	EventID  string     // the event_id replied to, if any
	Seq      int        // msg_seq as counted (an omitted msg_seq on a reply is 1); 0 for active sends
	Active   bool       // sent without msg_id/event_id
	Time     time.Time  // by the fake's clock
	Raw      []byte     // the request body as sent
}

// Buttons are the message's buttons, row after row.
func (m Message) Buttons() []Button {
	var out []Button
	for _, row := range m.Keyboard {
		out = append(out, row...)
	}
	return out
}

// Button is a keyboard button as sent.
type Button struct {
	ID            string
	Label         string // render_data.label
	VisitedLabel  string // render_data.visited_label
	Style         int    // render_data.style
	Type          int    // action.type: 0 link, 1 callback, 2 command
	Permission    int    // action.permission.type (2: everyone)
	Data          string // action.data
	UnsupportTips string // action.unsupport_tips
	Enter         bool   // action.enter
}

// wireMessage is the body of POST /v2/{groups,users}/{openid}/messages, as
// botgo's dto.MessageToCreate and the platform's docs have it.
type wireMessage struct {
	Content  string          `json:"content"`
	MsgType  int             `json:"msg_type"`
	Markdown *wireMarkdown   `json:"markdown"`
	Keyboard *wireKeyboard   `json:"keyboard"`
	Ark      json.RawMessage `json:"ark"`
	Embed    json.RawMessage `json:"embed"`
	Media    json.RawMessage `json:"media"`
	MsgID    string          `json:"msg_id"`
	EventID  string          `json:"event_id"`
	MsgSeq   int             `json:"msg_seq"`
}

type wireMarkdown struct {
	Content          string `json:"content"`
	CustomTemplateID string `json:"custom_template_id"`
	TemplateID       int    `json:"template_id"`
}

type wireKeyboard struct {
	ID      string `json:"id"` // a keyboard template
	Content *struct {
		Rows []struct {
			Buttons []wireButton `json:"buttons"`
		} `json:"rows"`
	} `json:"content"`
}

type wireButton struct {
	ID         string `json:"id"`
	RenderData *struct {
		Label        string `json:"label"`
		VisitedLabel string `json:"visited_label"`
		Style        int    `json:"style"`
	} `json:"render_data"`
	Action *struct {
		Type       int `json:"type"`
		Permission *struct {
			Type int `json:"type"`
		} `json:"permission"`
		Data          string `json:"data"`
		UnsupportTips string `json:"unsupport_tips"`
		Enter         bool   `json:"enter"`
	} `json:"action"`
}

// sendResult is a successful send's answer: timestamp is a string.
type sendResult struct {
	ID        string `json:"id"`
	Timestamp string `json:"timestamp"`
}

// tokenRequest and tokenAnswer are the token endpoint's bodies; expires_in is
// a string.
type tokenRequest struct {
	AppID        string `json:"appId"`
	ClientSecret string `json:"clientSecret"`
}

type tokenAnswer struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   string `json:"expires_in"`
}

type tokenError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func (s *Server) issueToken(w http.ResponseWriter, r *http.Request) {
	var req tokenRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
		s.writeJSON(w, http.StatusBadRequest, tokenError{Code: CodeInvalidRequest, Message: "bad request body: " + err.Error()})
		return
	}
	if req.AppID != s.appID || req.ClientSecret != s.secret {
		s.writeJSON(w, http.StatusOK, tokenError{Code: CodeCredentials, Message: "invalid appid or secret"})
		return
	}
	s.mu.Lock()
	tok := s.newID("fake-token-")
	s.tokens[tok] = true
	s.mu.Unlock()
	s.writeJSON(w, http.StatusOK, tokenAnswer{AccessToken: tok, ExpiresIn: "7200"})
}

// refusal is a send the platform refuses.
type refusal struct {
	status, code int
	message      string
}

func refuse(code int, format string, args ...any) *refusal {
	return &refusal{status: http.StatusBadRequest, code: code, message: fmt.Sprintf(format, args...)}
}

func (s *Server) postMessage(w http.ResponseWriter, r *http.Request, kind, target string) {
	raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		s.writeError(w, http.StatusBadRequest, CodeInvalidRequest, "read body: "+err.Error())
		return
	}
	var wm wireMessage
	if err := json.Unmarshal(raw, &wm); err != nil {
		s.writeError(w, http.StatusBadRequest, CodeInvalidRequest, "bad message body: "+err.Error())
		return
	}
	keyboard, rf := checkShape(&wm)
	if rf != nil {
		s.writeError(w, rf.status, rf.code, rf.message)
		return
	}
	s.mu.Lock()
	m, rf := s.accept(kind, target, &wm)
	if rf == nil {
		m.Keyboard = keyboard
		m.Raw = raw
		s.sent = append(s.sent, m)
	}
	s.mu.Unlock()
	if rf != nil {
		s.writeError(w, rf.status, rf.code, rf.message)
		return
	}
	s.writeJSON(w, http.StatusOK, sendResult{ID: m.ID, Timestamp: stamp(m.Time)})
}

// checkShape validates the message's form and returns its buttons.
func checkShape(wm *wireMessage) ([][]Button, *refusal) {
	switch wm.MsgType {
	case 0:
		if strings.TrimSpace(wm.Content) == "" {
			return nil, refuse(CodeInvalidRequest, "content must not be empty for msg_type 0")
		}
	case 2:
		if wm.Markdown == nil || (wm.Markdown.Content == "" && wm.Markdown.CustomTemplateID == "" && wm.Markdown.TemplateID == 0) {
			return nil, refuse(CodeInvalidRequest, "msg_type 2 needs markdown.content or a markdown template")
		}
	}
	if wm.Keyboard == nil {
		return nil, nil
	}
	if wm.MsgType != 2 {
		return nil, refuse(CodeInvalidRequest, "keyboard needs msg_type 2 (markdown), got msg_type %d", wm.MsgType)
	}
	if wm.Keyboard.Content == nil {
		if wm.Keyboard.ID == "" {
			return nil, refuse(CodeInvalidRequest, "keyboard needs id or content")
		}
		return nil, nil
	}
	rows := wm.Keyboard.Content.Rows
	if len(rows) == 0 || len(rows) > 5 {
		return nil, refuse(CodeInvalidRequest, "keyboard has %d rows; 1 to 5 allowed", len(rows))
	}
	out := make([][]Button, len(rows))
	for i, row := range rows {
		if len(row.Buttons) == 0 || len(row.Buttons) > 5 {
			return nil, refuse(CodeInvalidRequest, "keyboard row %d has %d buttons; 1 to 5 allowed", i+1, len(row.Buttons))
		}
		for j, b := range row.Buttons {
			if b.RenderData == nil || b.RenderData.Label == "" || b.Action == nil {
				return nil, refuse(CodeInvalidRequest, "keyboard button %d.%d needs render_data.label and action", i+1, j+1)
			}
			btn := Button{ID: b.ID, Label: b.RenderData.Label, VisitedLabel: b.RenderData.VisitedLabel,
				Style: b.RenderData.Style, Type: b.Action.Type, Data: b.Action.Data,
				UnsupportTips: b.Action.UnsupportTips, Enter: b.Action.Enter}
			if b.Action.Permission != nil {
				btn.Permission = b.Action.Permission.Type
			}
			out[i] = append(out[i], btn)
		}
	}
	return out, nil
}

// accept applies the platform's rules to a well-formed send and, when it
// passes, spends the reply and returns the message. Callers hold s.mu.
func (s *Server) accept(kind, target string, wm *wireMessage) (Message, *refusal) {
	now := s.now()
	m := Message{Kind: kind, Target: target, MsgType: wm.MsgType, Content: wm.Content,
		MsgID: wm.MsgID, EventID: wm.EventID, Time: now}
	if wm.Markdown != nil {
		m.Markdown = wm.Markdown.Content
	}
	var h *handle
	var hid string
	switch {
	case wm.MsgID != "":
		h, hid = s.msgHandles[wm.MsgID], "msg_id "+wm.MsgID
	case wm.EventID != "":
		h, hid = s.eventHandles[wm.EventID], "event_id "+wm.EventID
	default:
		if !s.active[target] {
			return m, refuse(CodeActiveRefused, "主动消息失败, 无权限 (no msg_id or event_id, and %s does not allow active messages)", target)
		}
		m.Active = true
	}
	if !m.Active {
		if h == nil || h.kind != kind || h.target != target {
			return m, refuse(CodeReplyUnknown, "回复的消息 id 错误 (%s was not issued for %s %s)", hid, kind, target)
		}
		window := GroupReplyWindow
		if kind == KindC2C {
			window = C2CReplyWindow
		}
		if age := now.Sub(h.issued); age > window {
			return m, refuse(CodeReplyExpired, "回复的消息过期 (%s is %s old; replies allowed for %s)", hid, age, window)
		}
	}
	if wm.Keyboard != nil && s.mdLevel >= mdNoKeyboard {
		return m, refuse(CodeMarkdownRefused, "不允许发送消息按钮 (keyboard refused for this bot)")
	}
	if wm.MsgType == 2 && s.mdLevel >= mdRefused {
		return m, refuse(CodeMarkdownRefused, "不允许发送原生 markdown (markdown refused for this bot)")
	}
	if !m.Active {
		seq := max(wm.MsgSeq, 1) // the platform's default msg_seq is 1
		if len(h.seqs) >= MaxReplies || seq > MaxReplies {
			return m, refuse(CodeReplyLimit, "msg limit exceed (%s already has %d replies; msg_seq %d)", hid, len(h.seqs), seq)
		}
		if h.seqs[seq] {
			return m, refuse(CodeSeqDuplicate, "消息被去重，请检查请求msgseq (msg_seq %d already used with %s)", seq, hid)
		}
		h.seqs[seq] = true
		m.Seq = seq
	}
	m.ID = s.newID("ROBOT1.0_out-")
	return m, nil
}

func (s *Server) putInteraction(w http.ResponseWriter, r *http.Request, id string) {
	var body struct {
		Code *int `json:"code"`
	}
	// botgo sends the body as a string (Content-Type text/plain); read it
	// whatever its label.
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&body); err != nil || body.Code == nil {
		s.writeError(w, http.StatusBadRequest, CodeInvalidRequest, fmt.Sprintf("body must be {\"code\":N} (%v)", err))
		return
	}
	if *body.Code < 0 || *body.Code > 5 {
		s.writeError(w, http.StatusBadRequest, CodeInvalidRequest, fmt.Sprintf("code %d: 0..5 allowed", *body.Code))
		return
	}
	s.mu.Lock()
	known := s.interactions[id]
	if known {
		s.acks[id] = *body.Code
	}
	s.mu.Unlock()
	if !known {
		s.writeError(w, http.StatusNotFound, CodeInvalidRequest, "unknown interaction id "+id)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// Messages are the messages sent successfully to a group or user openid,
// oldest first.
func (s *Server) Messages(target string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, m := range s.sent {
		if m.Target == target {
			out = append(out, copyMessage(m))
		}
	}
	return out
}

// Sent are all messages sent successfully, oldest first.
func (s *Server) Sent() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, len(s.sent))
	for i, m := range s.sent {
		out[i] = copyMessage(m)
	}
	return out
}

func copyMessage(m Message) Message {
	c := m
	c.Raw = append([]byte(nil), m.Raw...)
	c.Keyboard = make([][]Button, len(m.Keyboard))
	for i, row := range m.Keyboard {
		c.Keyboard[i] = append([]Button(nil), row...)
	}
	return c
}

// Acks are the interactions acknowledged, by interaction id, with the code
// of the last acknowledgement.
func (s *Server) Acks() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.acks))
	for k, v := range s.acks {
		out[k] = v
	}
	return out
}

// RepliesLeft is how many more replies a msg_id or event_id allows now, by
// the fake's clock: 0 when unknown or expired.
func (s *Server) RepliesLeft(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.msgHandles[id]
	if h == nil {
		h = s.eventHandles[id]
	}
	if h == nil {
		return 0
	}
	window := GroupReplyWindow
	if h.kind == KindC2C {
		window = C2CReplyWindow
	}
	if s.now().Sub(h.issued) > window {
		return 0
	}
	return MaxReplies - len(h.seqs)
}
