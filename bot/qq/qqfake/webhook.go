package qqfake

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// Webhook headers QQ sends with every callback.
const (
	HeaderSignature = "X-Signature-Ed25519"
	HeaderTimestamp = "X-Signature-Timestamp"
	HeaderAppID     = "X-Bot-Appid"
)

// Callback is one POST to the webhook, as sent (or to be sent with Send).
type Callback struct {
	Body      []byte
	Timestamp string // X-Signature-Timestamp; empty: no header
	Signature string // X-Signature-Ed25519; empty: no header (Send signs when Sign is set)
	Sign      bool   // Send: sign Body with Timestamp, overriding Signature
	Chunked   bool   // Send: send the body chunked, without Content-Length
}

// Delivery is a callback and what the webhook answered.
type Delivery struct {
	Status int    // the webhook's HTTP status
	Answer []byte // the webhook's response body
	Sent   Callback

	EventID       string // the payload's top-level id: event_id for replies
	MsgID         string // the message's id (d.id): msg_id for replies
	InteractionID string // an INTERACTION_CREATE's d.id, for PUT /interactions/{id}
}

// Acked reports whether the webhook accepted a dispatch: 200 with
// {"op":12,"d":0}.
func (d Delivery) Acked() bool {
	var a struct {
		Op *int `json:"op"`
		D  *int `json:"d"`
	}
	return d.Status == http.StatusOK && json.Unmarshal(d.Answer, &a) == nil &&
		a.Op != nil && *a.Op == 12 && a.D != nil && *a.D == 0
}

// payload is a callback body.
type payload struct {
	ID string `json:"id,omitempty"`
	Op int    `json:"op"`
	D  any    `json:"d"`
	S  int    `json:"s,omitempty"`
	T  string `json:"t,omitempty"`
}

// author is a message's author; QQ fills id and member_openid (group) or
// user_openid (C2C) with the same openid. botgo's dto.User reads only id.
type author struct {
	ID           string `json:"id"`
	MemberOpenID string `json:"member_openid,omitempty"`
	UserOpenID   string `json:"user_openid,omitempty"`
	UnionOpenID  string `json:"union_openid,omitempty"`
}

// messageData is the d of GROUP_AT_MESSAGE_CREATE and C2C_MESSAGE_CREATE.
// group_id duplicates group_openid, as QQ sends it (botgo's dto.Message reads
// group_id).
type messageData struct {
	ID           string       `json:"id"`
	Content      string       `json:"content"`
	Timestamp    string       `json:"timestamp"`
	Author       author       `json:"author"`
	GroupID      string       `json:"group_id,omitempty"`
	GroupOpenID  string       `json:"group_openid,omitempty"`
	MessageScene messageScene `json:"message_scene"`
}

type messageScene struct {
	Source string `json:"source"`
}

// interactionData is the d of INTERACTION_CREATE (botgo dto.Interaction).
type interactionData struct {
	ID                string          `json:"id"`
	ApplicationID     string          `json:"application_id"`
	Type              int             `json:"type"`
	Scene             string          `json:"scene"`
	ChatType          int             `json:"chat_type"`
	Timestamp         string          `json:"timestamp"`
	GroupOpenID       string          `json:"group_openid,omitempty"`
	GroupMemberOpenID string          `json:"group_member_openid,omitempty"`
	UserOpenID        string          `json:"user_openid,omitempty"`
	Data              interactionBody `json:"data"`
	Version           int             `json:"version"`
}

type interactionBody struct {
	Type     int      `json:"type"`
	Resolved resolved `json:"resolved"`
}

type resolved struct {
	ButtonData string `json:"button_data"`
	ButtonID   string `json:"button_id,omitempty"`
	MessageID  string `json:"message_id,omitempty"`
}

// groupEventData is the d of GROUP_ADD_ROBOT, GROUP_DEL_ROBOT,
// GROUP_MSG_REJECT and GROUP_MSG_RECEIVE: timestamp is unix seconds there.
type groupEventData struct {
	Timestamp      int64  `json:"timestamp"`
	GroupOpenID    string `json:"group_openid"`
	OpMemberOpenID string `json:"op_member_openid"`
}

// SetWebhook sets the URL callbacks are posted to.
func (s *Server) SetWebhook(url string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hookURL = url
}

// signingKey derives the bot's ed25519 key from its secret: the secret
// repeated until it has 32 bytes, cut to 32, is the seed.
func signingKey(secret string) ed25519.PrivateKey {
	seed := secret
	if seed == "" {
		seed = "\x00"
	}
	for len(seed) < ed25519.SeedSize {
		seed += seed
	}
	return ed25519.NewKeyFromSeed([]byte(seed[:ed25519.SeedSize]))
}

// Sign is the hex ed25519 signature of timestamp+body with the bot's key,
// what X-Signature-Ed25519 carries (and a handshake answer's signature, with
// event_ts and plain_token).
func (s *Server) Sign(timestamp string, body []byte) string {
	msg := append([]byte(timestamp), body...)
	return hex.EncodeToString(ed25519.Sign(s.key, msg))
}

// PublicKey is the key callbacks verify with.
func (s *Server) PublicKey() ed25519.PublicKey {
	return s.key.Public().(ed25519.PublicKey)
}

// GroupAt delivers a GROUP_AT_MESSAGE_CREATE: member @-mentioned the bot in
// group with text (the content arrives with a leading space, where the @
// was). Its MsgID and EventID are valid reply handles for 5 minutes.
func (s *Server) GroupAt(group, member, text string) (Delivery, error) {
	s.mu.Lock()
	msgID, eventID, seq := s.newID("ROBOT1.0_in-"), s.newID("GROUP_AT_MESSAGE_CREATE:"), s.nextSeq()
	now := s.now()
	s.msgHandles[msgID] = &handle{kind: KindGroup, target: group, issued: now, seqs: map[int]bool{}}
	s.eventHandles[eventID] = &handle{kind: KindGroup, target: group, issued: now, seqs: map[int]bool{}}
	s.mu.Unlock()
	d := messageData{ID: msgID, Content: " " + text, Timestamp: stamp(now),
		Author:  author{ID: member, MemberOpenID: member},
		GroupID: group, GroupOpenID: group, MessageScene: messageScene{Source: "default"}}
	return s.dispatch(payload{ID: eventID, Op: 0, D: d, S: seq, T: "GROUP_AT_MESSAGE_CREATE"}, msgID, "")
}

// C2C delivers a C2C_MESSAGE_CREATE: user wrote text to the bot privately.
// Its MsgID and EventID are valid reply handles for 60 minutes.
func (s *Server) C2C(user, text string) (Delivery, error) {
	s.mu.Lock()
	msgID, eventID, seq := s.newID("ROBOT1.0_in-"), s.newID("C2C_MESSAGE_CREATE:"), s.nextSeq()
	now := s.now()
	s.msgHandles[msgID] = &handle{kind: KindC2C, target: user, issued: now, seqs: map[int]bool{}}
	s.eventHandles[eventID] = &handle{kind: KindC2C, target: user, issued: now, seqs: map[int]bool{}}
	s.mu.Unlock()
	d := messageData{ID: msgID, Content: text, Timestamp: stamp(now),
		Author:       author{ID: user, UserOpenID: user},
		MessageScene: messageScene{Source: "default"}}
	return s.dispatch(payload{ID: eventID, Op: 0, D: d, S: seq, T: "C2C_MESSAGE_CREATE"}, msgID, "")
}

// Click delivers an INTERACTION_CREATE: member pressed a callback button
// with data on messageID in group. The button's id is filled in when
// messageID is a message the bot sent with such a button. Its EventID is a
// reply handle (event_id) for 5 minutes; its InteractionID is to be acked.
func (s *Server) Click(group, member, data, messageID string) (Delivery, error) {
	return s.click(KindGroup, group, member, data, messageID)
}

// C2CClick delivers an INTERACTION_CREATE from a button in a private chat.
func (s *Server) C2CClick(user, data, messageID string) (Delivery, error) {
	return s.click(KindC2C, user, user, data, messageID)
}

func (s *Server) click(kind, target, member, data, messageID string) (Delivery, error) {
	s.mu.Lock()
	interactionID, eventID, seq := s.newID("interaction-"), s.newID("INTERACTION_CREATE:"), s.nextSeq()
	now := s.now()
	s.interactions[interactionID] = true
	s.eventHandles[eventID] = &handle{kind: kind, target: target, issued: now, seqs: map[int]bool{}}
	buttonID := s.buttonID(messageID, data)
	s.mu.Unlock()
	d := interactionData{ID: interactionID, ApplicationID: s.appID, Type: 11, Timestamp: stamp(now), Version: 1,
		Data: interactionBody{Type: 11, Resolved: resolved{ButtonData: data, ButtonID: buttonID, MessageID: messageID}}}
	if kind == KindGroup {
		d.Scene, d.ChatType, d.GroupOpenID, d.GroupMemberOpenID = "group", 1, target, member
	} else {
		d.Scene, d.ChatType, d.UserOpenID = "c2c", 2, target
	}
	return s.dispatch(payload{ID: eventID, Op: 0, D: d, S: seq, T: "INTERACTION_CREATE"}, "", interactionID)
}

// buttonID is the id of the button with data on the sent message id, if
// any. Callers hold s.mu.
func (s *Server) buttonID(messageID, data string) string {
	for _, m := range s.sent {
		if m.ID != messageID {
			continue
		}
		for _, b := range m.Buttons() {
			if b.Data == data {
				return b.ID
			}
		}
	}
	return ""
}

// GroupEvent delivers a group event without a message — GROUP_ADD_ROBOT,
// GROUP_DEL_ROBOT, GROUP_MSG_REJECT or GROUP_MSG_RECEIVE — done by member.
// Its EventID is a reply handle for 5 minutes. GROUP_MSG_REJECT turns
// active push off for the group and GROUP_MSG_RECEIVE turns it on, as on the
// platform.
func (s *Server) GroupEvent(eventType, group, member string) (Delivery, error) {
	s.mu.Lock()
	eventID, seq := s.newID(eventType+":"), s.nextSeq()
	now := s.now()
	s.eventHandles[eventID] = &handle{kind: KindGroup, target: group, issued: now, seqs: map[int]bool{}}
	switch eventType {
	case "GROUP_MSG_REJECT":
		delete(s.active, group)
	case "GROUP_MSG_RECEIVE":
		s.active[group] = true
	}
	s.mu.Unlock()
	d := groupEventData{Timestamp: now.Unix(), GroupOpenID: group, OpMemberOpenID: member}
	return s.dispatch(payload{ID: eventID, Op: 0, D: d, S: seq, T: eventType}, "", "")
}

// Event delivers any dispatch (op 0) of type eventType with data d (marshalled
// to JSON), for events the helpers do not make. It issues no reply handle.
func (s *Server) Event(eventType string, d any) (Delivery, error) {
	s.mu.Lock()
	eventID, seq := s.newID(eventType+":"), s.nextSeq()
	s.mu.Unlock()
	return s.dispatch(payload{ID: eventID, Op: 0, D: d, S: seq, T: eventType}, "", "")
}

// nextSeq is the next payload "s". Callers hold s.mu.
func (s *Server) nextSeq() int {
	s.seq++
	return s.seq
}

// stamp is a timestamp as the platform writes it in events.
func stamp(t time.Time) string {
	return t.In(cst).Format(time.RFC3339)
}

func (s *Server) dispatch(p payload, msgID, interactionID string) (Delivery, error) {
	body, err := json.Marshal(p)
	if err != nil {
		return Delivery{}, fmt.Errorf("marshal %s: %w", p.T, err)
	}
	d, err := s.Send(Callback{Body: body, Timestamp: s.unixNow(), Sign: true})
	d.EventID, d.MsgID, d.InteractionID = p.ID, msgID, interactionID
	return d, err
}

func (s *Server) unixNow() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strconv.FormatInt(s.now().Unix(), 10)
}

// Handshake posts the op 13 validation request QQ sends when the webhook
// URL is configured, signed like any callback. Check the answer with
// VerifyHandshake.
func (s *Server) Handshake(plainToken, eventTs string) (Delivery, error) {
	body, err := json.Marshal(payload{Op: 13, D: map[string]string{"plain_token": plainToken, "event_ts": eventTs}})
	if err != nil {
		return Delivery{}, fmt.Errorf("marshal handshake: %w", err)
	}
	s.mu.Lock()
	s.handshakes[plainToken] = eventTs
	s.mu.Unlock()
	return s.Send(Callback{Body: body, Timestamp: s.unixNow(), Sign: true})
}

// VerifyHandshake checks a webhook's answer to Handshake: JSON with the
// plain_token sent and signature = hex(sign(event_ts + plain_token)).
func (s *Server) VerifyHandshake(answer []byte) error {
	var a struct {
		PlainToken string `json:"plain_token"`
		Signature  string `json:"signature"`
	}
	if err := json.Unmarshal(answer, &a); err != nil {
		return fmt.Errorf("decode handshake answer %q: %w", answer, err)
	}
	s.mu.Lock()
	eventTs, ok := s.handshakes[a.PlainToken]
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("handshake answer has plain_token %q, which was not sent", a.PlainToken)
	}
	sig, err := hex.DecodeString(a.Signature)
	if err != nil {
		return fmt.Errorf("handshake signature %q is not hex: %w", a.Signature, err)
	}
	if !ed25519.Verify(s.PublicKey(), []byte(eventTs+a.PlainToken), sig) {
		return errors.New("handshake signature does not verify with the bot's key over event_ts+plain_token")
	}
	return nil
}

// SendRaw posts body to the webhook with timestamp as X-Signature-Timestamp,
// signed when sign is set, without a signature header otherwise: for
// callbacks that are stale, unsigned, malformed or big.
func (s *Server) SendRaw(body []byte, timestamp string, sign bool) (Delivery, error) {
	return s.Send(Callback{Body: body, Timestamp: timestamp, Sign: sign})
}

// Replay posts a delivered callback again, byte for byte with its original
// headers: a replay attack.
func (s *Server) Replay(d Delivery) (Delivery, error) {
	c := d.Sent
	c.Sign = false
	r, err := s.Send(c)
	r.EventID, r.MsgID, r.InteractionID = d.EventID, d.MsgID, d.InteractionID
	return r, err
}

// Redeliver posts a delivered callback's body again with a fresh timestamp
// and signature, as the platform retries a dispatch that was not acked: the
// same event id arrives twice.
func (s *Server) Redeliver(d Delivery) (Delivery, error) {
	c := Callback{Body: d.Sent.Body, Timestamp: s.unixNow(), Sign: true, Chunked: d.Sent.Chunked}
	r, err := s.Send(c)
	r.EventID, r.MsgID, r.InteractionID = d.EventID, d.MsgID, d.InteractionID
	return r, err
}

// Send posts a callback to the webhook and returns what it answered. The
// error is for a webhook that could not be reached or answered nothing.
func (s *Server) Send(c Callback) (Delivery, error) {
	s.mu.Lock()
	hook, client := s.hookURL, s.client
	s.mu.Unlock()
	if c.Sign {
		c.Signature = s.Sign(c.Timestamp, c.Body)
		c.Sign = false
	}
	d := Delivery{Sent: c}
	if hook == "" {
		return d, errors.New("no webhook set: call SetWebhook first")
	}
	var body io.Reader = bytes.NewReader(c.Body)
	if c.Chunked {
		body = io.MultiReader(bytes.NewReader(c.Body)) // hides the length: sent chunked
	}
	req, err := http.NewRequest(http.MethodPost, hook, body)
	if err != nil {
		return d, fmt.Errorf("new webhook request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "QQBot-Callback")
	req.Header.Set(HeaderAppID, s.appID)
	if c.Timestamp != "" {
		req.Header.Set(HeaderTimestamp, c.Timestamp)
	}
	if c.Signature != "" {
		req.Header.Set("X-Signature-Method", "Ed25519")
		req.Header.Set(HeaderSignature, c.Signature)
	}
	resp, err := client.Do(req)
	if err != nil {
		return d, fmt.Errorf("post webhook: %w", err)
	}
	defer resp.Body.Close()
	d.Status = resp.StatusCode
	d.Answer, err = io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return d, fmt.Errorf("read webhook answer: %w", err)
	}
	return d, nil
}
