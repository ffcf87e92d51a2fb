// Package qq is the operator layer's QQ channel: the official QQ bot
// platform (QQ 开放平台) through its webhook and OpenAPI, on botgo v0.2.1's
// wire types and signature helpers.
//
// QQ lets most bots speak only in reply: within 5 minutes and 5 replies of
// an operator's message in a group (60 minutes in C2C), or of a button
// click. So the adapter keeps each chat's freshest reply window, and alerts
// and review prompts wait in the operator layer's durable queue until one
// opens — an operator speaks, types /inbox, or presses 下一批 — and then go
// out as digests. Where a group owner has switched on active messages, a
// probe finds out and alerts go out at once.
package qq

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"github.com/tencent-connect/botgo/dto"

	"cardflow/bot/chat"
	"cardflow/bot/operator"
	"cardflow/storage"
)

// Reply windows (docs/qq.md), with a margin for clocks and latency.
const (
	groupWindow   = 5*time.Minute - 15*time.Second
	c2cWindow     = 60*time.Minute - 30*time.Second
	repliesPerMsg = 5
	// activeRetry is how long a group that refused active push is not
	// asked again.
	activeRetry = 6 * time.Hour
	sendTimeout = 10 * time.Second
)

// Options configure the adapter.
type Options struct {
	AppID, Secret    string
	APIURL, TokenURL string   // empty: QQ's own
	Groups           []string // group_openids alerts go to
	Bot              *operator.Handler
	Store            *storage.Store
	Log              zerolog.Logger
	HTTPClient       *http.Client     // for the OpenAPI; a 10 s client when nil
	Now              func() time.Time // time.Now when nil
	// Alert raises or resolves an operator alert (the engine's
	// RaiseAlert): an event set aside raises one. Nil: none.
	Alert func(storage.Alert) error
	// Stored is called when the webhook has stored a new event, to wake the
	// loop that handles them (Run) wherever it runs: among several
	// processes, the webhook's may not be the one running it, and Stored
	// nudges that one to call Wake. Nil: Wake on this adapter.
	Stored func()
	// Look is how often Run looks for stored events without being woken,
	// for a wake that may be lost on its way between processes; 0: once a
	// minute.
	Look time.Duration
}

// Adapter is the QQ channel. It implements chat.Channel for the group
// destinations "qq:group:OPENID" and http.Handler for the webhook.
type Adapter struct {
	handler *operator.Handler
	store   *storage.Store
	client  *client
	secret  string
	groups  []string
	log     zerolog.Logger
	now     func() time.Time
	alert   func(storage.Alert) error

	wake       chan struct{}   // a new inbound event is stored
	stored     func()          // tells Run, wherever it runs, that an event was stored
	look       time.Duration   // how often Run looks unwoken
	configured map[string]bool // the configured groups' chats, never evicted (chats.go)

	mu       sync.Mutex
	windows  map[string]*window   // chat → its freshest reply handle (bounded: chats.go)
	active   map[string]time.Time // group chat → until when active push is known refused (bounded: chats.go)
	level    int                  // 0 markdown with buttons, 1 markdown, 2 plain text
	kicks    map[string]func()    // chat → wakes its sender
	alerting *bool                // whether the set-aside alert is open; nil: not read yet
}

// window is a handle QQ accepts replies to: an inbound message id, or a
// click's event id, until expires, for repliesPerMsg replies.
type window struct {
	msgID, eventID string
	expires        time.Time
	used           uint32
}

// New builds the adapter.
func New(o Options) *Adapter {
	if o.Now == nil {
		o.Now = time.Now
	}
	quietBotgo(o.Log)
	configured := map[string]bool{}
	for _, g := range o.Groups {
		configured["group:"+g] = true
	}
	if o.Look <= 0 {
		o.Look = time.Minute
	}
	a := &Adapter{handler: o.Bot, store: o.Store, client: newClient(o.AppID, o.Secret, o.APIURL, o.TokenURL, o.HTTPClient),
		secret: o.Secret, groups: o.Groups, log: o.Log.With().Str("component", "qq").Logger(), now: o.Now, alert: o.Alert,
		wake: make(chan struct{}, 1), stored: o.Stored, look: o.Look, configured: configured, windows: map[string]*window{},
		active: map[string]time.Time{}, kicks: map[string]func(){}}
	if a.stored == nil {
		a.stored = a.Wake
	}
	return a
}

// Dests are the destinations alerts go to, one per configured group.
func (a *Adapter) Dests() []string {
	out := make([]string, len(a.groups))
	for i, g := range a.groups {
		out[i] = "qq:group:" + g
	}
	return out
}

// ChatOf is the chat of a destination.
func ChatOf(dest string) string { return strings.TrimPrefix(dest, "qq:") }

// OnWindow registers what wakes the sender of a chat when a window opens.
func (a *Adapter) OnWindow(chatID string, kick func()) {
	a.mu.Lock()
	a.kicks[chatID] = kick
	a.mu.Unlock()
}

// Wake tells Run that an event was stored, here or by another process's
// webhook.
func (a *Adapter) Wake() {
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// kick wakes the sender of a chat: a window is open.
func (a *Adapter) kick(chatID string) {
	a.mu.Lock()
	kick := a.kicks[chatID]
	a.mu.Unlock()
	if kick != nil {
		kick()
	}
}

// take reserves the next reply on a chat's window.
func (a *Adapter) take(chatID string) (msgID, eventID string, seq uint32, ok bool) {
	if a.configured[chatID] {
		return a.takeStored(chatID)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	w := a.windows[chatID]
	if w == nil || w.used >= repliesPerMsg || !a.now().Before(w.expires) {
		return "", "", 0, false
	}
	w.used++
	return w.msgID, w.eventID, w.used, true
}

// spend marks a chat's window, the handle msgID or eventID, used up (QQ
// said so).
func (a *Adapter) spend(chatID, msgID, eventID string) {
	if a.configured[chatID] {
		a.spendStored(chatID, msgID, eventID)
		return
	}
	a.mu.Lock()
	if w := a.windows[chatID]; w != nil {
		w.used = repliesPerMsg
	}
	a.mu.Unlock()
}

// Send implements chat.Channel: a reply in the chat's open window, else an
// active message where the group allows them, else chat.ErrNoWindow (the
// message stays queued until an operator opens a window).
func (a *Adapter) Send(chatID string, r chat.Reply) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), sendTimeout)
	defer cancel()
	for range repliesPerMsg + 3 { // windows used up under us, or buttons refused
		msgID, eventID, seq, ok := a.take(chatID)
		if !ok {
			if !a.mayPush(chatID) {
				return "", chat.ErrNoWindow
			}
		}
		id, err := a.post(ctx, chatID, r, msgID, eventID, seq)
		switch code := errCode(err); {
		case err == nil:
			if !ok {
				a.log.Info().Str("chat", chatID).Msg("active push works in this group")
			}
			return id, nil
		case !ok && (code == codeActiveRefused || code == codeActiveRefused2):
			a.mu.Lock()
			a.refuseActive(chatID, a.now().Add(activeRetry))
			a.mu.Unlock()
			return "", chat.ErrNoWindow
		case code == codeDuplicateSeq:
			return "", nil // an earlier try with this seq went out (its answer was lost)
		case code == codeReplyLimit || code == codeHandleUnknown || code == codeHandleExpired:
			a.spend(chatID, msgID, eventID)
		case code == codeMarkdownRefused || code == codeKeyboardRefused:
			a.degrade(code)
		default:
			return "", err
		}
	}
	return "", chat.ErrNoWindow
}

// Edit implements chat.Channel: QQ cannot edit a message, so the sender
// posts the new text instead.
func (a *Adapter) Edit(string, string, chat.Reply) error { return chat.ErrGone }

// mayPush says whether to try an active message in a chat: groups only,
// and not while a refusal is recent.
func (a *Adapter) mayPush(chatID string) bool {
	if !strings.HasPrefix(chatID, "group:") {
		return false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.now().After(a.active[chatID])
}

// degrade steps down from buttons to markdown to plain text, for good:
// the platform refuses what this bot may not send.
func (a *Adapter) degrade(code int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	next := a.level + 1
	if code == codeKeyboardRefused {
		next = max(a.level, 1)
	}
	if next > 2 {
		next = 2
	}
	if next != a.level {
		a.log.Warn().Int("err_code", code).Int("level", next).Msg("qq refused rich messages; degrading")
		a.level = next
	}
}

func (a *Adapter) post(ctx context.Context, chatID string, r chat.Reply, msgID, eventID string, seq uint32) (string, error) {
	a.mu.Lock()
	level := a.level
	a.mu.Unlock()
	m := render(r, level, a.handler.Lang())
	m.MsgID, m.EventID, m.MsgSeq = msgID, eventID, seq
	return a.client.send(ctx, chatID, m)
}

// inbound is the part of QQ's message events the adapter reads (botgo
// v0.2.1's dto.Message lacks the group and member openids).
type inbound struct {
	ID          string `json:"id"`
	Content     string `json:"content"`
	GroupOpenID string `json:"group_openid"`
	Author      struct {
		MemberOpenID string `json:"member_openid"`
		UserOpenID   string `json:"user_openid"`
	} `json:"author"`
}

// handle acts on one stored event. A panic in it is recovered, logged and
// audited (operator.Recover), the sender is told 出错了, and handle reports it.
func (a *Adapter) handle(ctx context.Context, body []byte) (panicked bool, err error) {
	ev, in := a.describe(body)
	defer a.handler.Recover(in, func() {
		panicked = true
		a.replyInternal(ev.chat)
	})
	return false, a.act(ctx, body)
}

// act reads one event and acts on it.
func (a *Adapter) act(ctx context.Context, body []byte) error {
	var p struct {
		ID   string          `json:"id"`
		Type string          `json:"t"`
		D    json.RawMessage `json:"d"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return errMalformed
	}
	switch p.Type {
	case "GROUP_AT_MESSAGE_CREATE", "C2C_MESSAGE_CREATE":
		var m inbound
		if err := json.Unmarshal(p.D, &m); err != nil || m.ID == "" {
			return errMalformed
		}
		chatID, from, expires := "c2c:"+m.Author.UserOpenID, chat.Identity{Platform: "qq", UserID: "c2c/" + m.Author.UserOpenID}, c2cWindow
		if p.Type == "GROUP_AT_MESSAGE_CREATE" {
			if m.GroupOpenID == "" || m.Author.MemberOpenID == "" {
				return errMalformed
			}
			chatID, from, expires = "group:"+m.GroupOpenID, chat.Identity{Platform: "qq", UserID: m.GroupOpenID + "/" + m.Author.MemberOpenID}, groupWindow
		} else if m.Author.UserOpenID == "" {
			return errMalformed
		}
		text := strings.TrimSpace(m.Content)
		a.openReply(chatID, &window{msgID: m.ID, expires: a.now().Add(expires)}, func() {
			a.command(ctx, chatID, from, text)
		})
	case "INTERACTION_CREATE":
		var in dto.Interaction
		if err := json.Unmarshal(p.D, &in); err != nil || in.ID == "" {
			return errMalformed
		}
		a.click(ctx, p.ID, &in)
	default:
		a.log.Debug().Str("type", p.Type).Msg("qq event ignored")
	}
	return nil
}

// openReply answers an inbound message first (the operator is waiting for
// it), then lets the chat's sender use what is left of the window.
func (a *Adapter) openReply(chatID string, w *window, answer func()) {
	a.openWindow(chatID, w)
	answer()
	a.kick(chatID)
}

// command hands an operator's text to the operator layer and replies. An
// empty text — an @-mention alone, a message that is only an image — has
// opened the chat's window, which is all it can mean.
func (a *Adapter) command(ctx context.Context, chatID string, from chat.Identity, text string) {
	fields := strings.Fields(text)
	if len(fields) == 0 {
		return
	}
	if strings.EqualFold(fields[0], "/inbox") {
		a.reply(chatID, a.inboxReply(chatID))
		return
	}
	r, ok := a.handler.Handle(ctx, chat.Message{From: from, Text: text, Private: strings.HasPrefix(chatID, "c2c:")})
	if !ok {
		return
	}
	a.reply(chatID, r)
}

// inboxReply says how much waits for the chat; its sender then sends it.
func (a *Adapter) inboxReply(chatID string) chat.Reply {
	n := 0
	_ = a.store.View(func(tx *storage.Tx) error { n = tx.Chat().Count("qq:" + chatID); return nil })
	return chat.Reply{Text: chat.T(a.handler.Lang(), "qq_inbox", n)}
}

// NextBatch is the data of the button that asks for more of the queue.
const NextBatch = "qq:next"

// click acknowledges a button press at once, then acts on it.
func (a *Adapter) click(ctx context.Context, eventID string, in *dto.Interaction) {
	actx, cancel := context.WithTimeout(ctx, sendTimeout)
	err := a.client.ackInteraction(actx, in.ID, 0)
	cancel()
	if err != nil {
		a.log.Warn().Err(err).Msg("acknowledge qq click")
	}
	var resolved struct {
		ButtonData string `json:"button_data"`
	}
	if in.Data != nil {
		_ = json.Unmarshal(in.Data.Resolved, &resolved)
	}
	chatID, from := "c2c:"+in.UserOpenID, chat.Identity{Platform: "qq", UserID: "c2c/" + in.UserOpenID}
	expires := c2cWindow
	if in.GroupOpenID != "" {
		chatID, from = "group:"+in.GroupOpenID, chat.Identity{Platform: "qq", UserID: in.GroupOpenID + "/" + in.GroupMemberOpenID}
		expires = groupWindow
	}
	a.openReply(chatID, &window{eventID: eventID, expires: a.now().Add(expires)}, func() {
		if resolved.ButtonData == NextBatch || resolved.ButtonData == "" {
			return // the window is what the press was for
		}
		r := a.handler.HandlePress(ctx, chat.Press{From: from, Data: resolved.ButtonData})
		a.reply(chatID, r)
	})
}

// replyInternal tells a chat that its last message failed, where a chat
// is known.
func (a *Adapter) replyInternal(chatID string) {
	if chatID != "" {
		a.reply(chatID, chat.Reply{Text: chat.T(a.handler.Lang(), "internal")})
	}
}

// reply sends an answer in the chat's window; with none left it is logged
// (the operator can ask again).
func (a *Adapter) reply(chatID string, r chat.Reply) {
	if r.Text == "" {
		return
	}
	if _, err := a.Send(chatID, r); err != nil {
		if errors.Is(err, chat.ErrNoWindow) {
			a.log.Warn().Str("chat", chatID).Msg("qq reply window used up; answer not sent")
			return
		}
		a.log.Warn().Err(err).Str("chat", chatID).Msg("qq reply failed")
	}
}
