// Package telegram connects the operator layer (bot/operator) to Telegram
// through the Bot API: updates become chat.Message / chat.Press / imports,
// replies become messages with inline keyboards, and the Adapter is the
// chat.Channel the layer's senders deliver alerts through.
//
// Everything Telegram-specific stays here: chat ids, entities, callback
// queries, the 64-byte callback_data, 429 retry_after, and the token, which
// the SDK puts into every URL and which never leaves this package in an error
// or a log line.
package telegram

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
	"github.com/rs/zerolog"

	"cardflow/bot/operator"
	"cardflow/config"
	"cardflow/internal/outbound"
)

// Platform is the identity platform of Telegram users.
const Platform = "telegram"

// DefaultServerURL is Telegram's own Bot API server.
const DefaultServerURL = "https://api.telegram.org"

const (
	defaultPollTimeout = 50 * time.Second
	// sendTimeout bounds one outbound call (send, edit, answer, getFile).
	sendTimeout = 30 * time.Second
	// secretHeader carries the webhook secret Telegram was given in setWebhook.
	secretHeader = "X-Telegram-Bot-Api-Secret-Token"
	// maxUpdateBody bounds a webhook request; updates are a few kilobytes.
	maxUpdateBody = 1 << 20
)

// allowedUpdates are the update kinds the adapter acts on.
var allowedUpdates = []string{models.AllowedUpdateMessage, models.AllowedUpdateCallbackQuery}

// Options configure the adapter.
type Options struct {
	Token     string
	ServerURL string // empty: Telegram's; else a self-hosted Bot API server
	// Proxy is an http://, https:// or socks5:// URL all Bot API traffic goes
	// through (Telegram is unreachable from some networks without one).
	Proxy string
	// Groups are the operators' chats alerts go to (see Dests). Commands,
	// presses and imports are taken only from them and from the private
	// chats of configured operators; everything else is ignored.
	Groups []int64
	// HTTPClient, when set, is used as is (Proxy is then ignored); its
	// Timeout must exceed PollTimeout.
	HTTPClient  *http.Client
	Bot         *operator.Handler
	Log         zerolog.Logger
	PollTimeout time.Duration // long-poll length; default 50s
	// WebhookURL switches Run from long polling to webhook mode: Run
	// registers this URL with setWebhook and processes the updates that
	// arrive through WebhookHandler, which the caller mounts at it.
	WebhookURL string
	// WebhookSecret is the secret_token given to setWebhook; requests to
	// WebhookHandler without it are refused. Webhook mode requires one
	// (see config.CheckWebhookSecret).
	WebhookSecret string
}

// Adapter is the Telegram side of the operator layer.
type Adapter struct {
	api     *tg.Bot
	handler *operator.Handler
	token   string
	server  string
	client  *http.Client
	groups  []int64
	secret  string
	webhook string
	log     zerolog.Logger
	redact  *strings.Replacer

	name struct {
		sync.Mutex
		username string
		tried    time.Time
	}

	// in-flight update handlers, so Run returns only after they finish.
	flight struct {
		sync.Mutex
		closing bool
		wg      sync.WaitGroup
	}
	handled atomic.Int64 // updates dispatched to the end (tests wait on it)
}

// New builds an adapter; it makes no network call.
func New(o Options) (*Adapter, error) {
	if strings.TrimSpace(o.Token) == "" {
		return nil, errors.New("telegram.token: must be set (the token @BotFather gave the bot)")
	}
	if o.Bot == nil {
		return nil, errors.New("telegram: the operator layer (Options.Bot) is missing")
	}
	if o.PollTimeout <= 0 {
		o.PollTimeout = defaultPollTimeout
	}
	if o.PollTimeout < 2*time.Second {
		o.PollTimeout = 2 * time.Second // the SDK polls for PollTimeout-1s, in whole seconds
	}
	server := strings.TrimRight(o.ServerURL, "/")
	if server == "" {
		server = DefaultServerURL
	}
	if u, err := url.Parse(server); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("telegram.server_url: want an http:// or https:// URL of a Bot API server")
	}
	if o.WebhookURL != "" && o.WebhookSecret == "" {
		return nil, errors.New("telegram.webhook_secret: must be set in webhook mode, or anyone who reaches the webhook can post updates")
	}
	if o.WebhookSecret != "" {
		if err := config.CheckWebhookSecret(o.WebhookSecret); err != nil {
			return nil, fmt.Errorf("telegram.webhook_secret: %w", err)
		}
	}
	secrets := []string{o.Token}
	client := outbound.Guard(o.HTTPClient)
	if client == nil {
		var err error
		client, err = newHTTPClient(o.Proxy, o.PollTimeout+15*time.Second)
		if err != nil {
			return nil, err
		}
		if pw := proxyPassword(o.Proxy); pw != "" {
			secrets = append(secrets, pw)
		}
	}
	a := &Adapter{
		handler: o.Bot, token: o.Token, server: server, client: client, groups: append([]int64(nil), o.Groups...),
		secret: o.WebhookSecret, webhook: o.WebhookURL,
		log:    o.Log.With().Str("component", "telegram").Logger(),
		redact: newRedactor(secrets...),
	}
	if o.HTTPClient != nil && o.Proxy != "" {
		a.log.Warn().Msg("telegram proxy ignored: the given HTTP client is used as is")
	}
	opts := []tg.Option{
		tg.WithServerURL(server),
		tg.WithHTTPClient(o.PollTimeout, client),
		tg.WithSkipGetMe(), // Run asks, and tolerates Telegram being away at start
		tg.WithDefaultHandler(a.dispatch),
		tg.WithErrorsHandler(a.libraryError),
		tg.WithDebugHandler(func(string, ...any) {}),
		tg.WithAllowedUpdates(allowedUpdates),
	}
	if o.WebhookSecret != "" {
		opts = append(opts, tg.WithWebhookSecretToken(o.WebhookSecret))
	}
	api, err := tg.New(o.Token, opts...)
	if err != nil {
		return nil, fmt.Errorf("telegram: %s", a.redact.Replace(err.Error()))
	}
	a.api = api
	return a, nil
}

// newHTTPClient builds the Bot API client, through proxy when set.
func newHTTPClient(proxy string, timeout time.Duration) (*http.Client, error) {
	o := outbound.Options{Timeout: timeout}
	if proxy != "" {
		u, err := url.Parse(proxy)
		if err != nil || u.Host == "" {
			// The URL may hold a password: do not echo it.
			return nil, errors.New("telegram.proxy: not a URL; want http://, https:// or socks5://[user:password@]host:port")
		}
		switch u.Scheme {
		case "http", "https", "socks5", "socks5h":
		default:
			return nil, fmt.Errorf("telegram.proxy: scheme %q is not supported; use http, https or socks5", u.Scheme)
		}
		o.Proxy = u
	}
	return outbound.New(o), nil
}

func proxyPassword(proxy string) string {
	u, err := url.Parse(proxy)
	if err != nil || u.User == nil {
		return ""
	}
	pw, _ := u.User.Password()
	return pw
}

// Run receives updates until ctx ends: by long polling, or, when
// Options.WebhookURL is set, from WebhookHandler. It returns once the
// updates in hand are handled. It is Serve and Poll together, for a
// process that runs alone.
func (a *Adapter) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Go(func() { _ = a.Serve(ctx) })
	err := a.Poll(ctx)
	wg.Wait()
	return err
}

// Serve handles the updates Telegram posts to WebhookHandler (webhook
// mode) until ctx ends, and returns once those in hand are handled. Every
// process that mounts the webhook runs it, leader or not. In polling mode
// it returns at once: Poll receives and handles the updates.
func (a *Adapter) Serve(ctx context.Context) error {
	if a.webhook == "" {
		return nil
	}
	a.learnName(ctx)
	a.handle(ctx, a.api.StartWebhook)
	return nil
}

// Poll is what one process among several does for the bot, until ctx
// ends: by long polling, it receives updates and handles them (and returns
// once those in hand are handled); in webhook mode, it registers the
// webhook with Telegram and waits.
func (a *Adapter) Poll(ctx context.Context) error {
	a.learnName(ctx)
	if a.webhook != "" {
		if err := a.setWebhook(ctx); err != nil {
			// Keep serving: Telegram may already have the webhook, and the
			// handler works regardless.
			a.log.Error().Err(err).Msg("set webhook failed")
		}
		a.log.Info().Msg("receiving updates by webhook")
		<-ctx.Done()
		return nil
	}
	// A webhook left behind from another deployment makes getUpdates fail.
	cctx, cancel := context.WithTimeout(ctx, sendTimeout)
	if _, err := a.api.DeleteWebhook(cctx, &tg.DeleteWebhookParams{}); err != nil && ctx.Err() == nil {
		a.log.Warn().Err(a.clean(err)).Msg("delete webhook failed")
	}
	cancel()
	a.log.Info().Msg("receiving updates by long polling")
	a.handle(ctx, a.api.Start)
	return nil
}

// handle runs one of the SDK's loops, which hand updates to dispatch,
// until ctx ends, then waits for the updates in hand.
func (a *Adapter) handle(ctx context.Context, loop func(context.Context)) {
	a.flight.Lock()
	a.flight.closing = false
	a.flight.Unlock()
	loop(ctx)
	a.flight.Lock()
	a.flight.closing = true
	a.flight.Unlock()
	a.flight.wg.Wait()
}

func (a *Adapter) setWebhook(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	_, err := a.api.SetWebhook(ctx, &tg.SetWebhookParams{URL: a.webhook, SecretToken: a.secret, AllowedUpdates: allowedUpdates})
	return a.clean(err)
}

// WebhookHandler receives updates Telegram posts (webhook mode; see
// Options.WebhookURL). Requests without the configured secret are refused
// with 401 before the SDK sees them; an adapter without a secret (polling
// mode) refuses every request.
func (a *Adapter) WebhookHandler() http.Handler {
	inner := a.api.WebhookHandler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if a.secret == "" || subtle.ConstantTimeCompare([]byte(r.Header.Get(secretHeader)), []byte(a.secret)) != 1 {
			a.log.Warn().Str("remote", r.RemoteAddr).Msg("webhook request without the secret refused")
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxUpdateBody)
		inner(w, r)
	})
}

// learnName asks getMe for the bot's username, which "/cmd@name" suffixes
// are checked against. Failure is tolerated; it is asked again later.
func (a *Adapter) learnName(ctx context.Context) string {
	a.name.Lock()
	if a.name.username != "" || time.Since(a.name.tried) < 30*time.Second {
		defer a.name.Unlock()
		return a.name.username
	}
	a.name.tried = time.Now() // one asks; the others go on meanwhile
	a.name.Unlock()

	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	me, err := a.api.GetMe(ctx)
	if err != nil {
		a.log.Warn().Err(a.clean(err)).Msg("getMe failed; commands with any @suffix are accepted until it works")
		return ""
	}
	a.name.Lock()
	a.name.username = me.Username
	a.name.Unlock()
	a.log.Info().Str("username", me.Username).Int64("bot_id", me.ID).Msg("telegram bot identified")
	return me.Username
}

// libraryError logs what the SDK reports from its own goroutines (polling
// failures, webhook decode errors), token redacted.
func (a *Adapter) libraryError(err error) {
	a.log.Warn().Err(a.clean(err)).Msg("telegram api error")
}

// Dests are the queue names of the configured groups, for the operator
// layer's Notifier and Senders.
func (a *Adapter) Dests() []string {
	out := make([]string, len(a.groups))
	for i, id := range a.groups {
		out[i] = Dest(id)
	}
	return out
}

// Dest is the operator layer's queue name for a Telegram chat.
func Dest(chatID int64) string { return Platform + ":" + strconv.FormatInt(chatID, 10) }

// ChatOf is the chat id of a queue name made by Dest.
func ChatOf(dest string) (string, bool) {
	chat, ok := strings.CutPrefix(dest, Platform+":")
	if !ok {
		return "", false
	}
	if _, err := strconv.ParseInt(chat, 10, 64); err != nil {
		return "", false
	}
	return chat, true
}
