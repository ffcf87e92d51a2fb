package app

import (
	"context"
	"fmt"
	"sync"
	"time"

	"cardflow/bot/chat"
	"cardflow/bot/operator"
	"cardflow/bot/pager"
	"cardflow/bot/qq"
	"cardflow/bot/silence"
	"cardflow/bot/telegram"
	"cardflow/config"
	"cardflow/internal/routes"
	"cardflow/report"
	"cardflow/report/daily"
)

// Destination is one chat the operator layer talks to.
type Destination struct {
	Dest, Chat string
	Channel    chat.Channel
	PerMinute  int    // the platform's limit per chat; 0: none
	NextBatch  string // data of the "next batch" button on digests; "": none
	OnWindow   func(kick func())
}

// Nudges the operator layer sends between the processes sharing a store
// (cluster.Member.Publish).
const (
	// topicChat: a chat message was queued; the leader's senders look.
	topicChat = "chat"
	// topicInbound: a chat platform's webhook stored an event; the leader's
	// adapter handles it.
	topicInbound = "inbound"
)

// clusterLook is how often, with several processes, the leader's senders
// and QQ worker look at the store on their own: a nudge may be lost.
const clusterLook = 3 * time.Second

// OperatorLayer is the operator layer wired to an app: its handler, the
// notifier that turns alerts into queued chat messages, one sender per
// chat, and the chat adapters' own loops.
//
// With several processes on one database (docs/cluster.md), the senders,
// the notifier's repeat timer, the daily report and the adapters' loops run
// on the leader only; every process queues messages and nudges the leader,
// and handles what reaches its webhooks.
type OperatorLayer struct {
	app      *App
	cfg      *config.Config
	handler  *operator.Handler
	loc      *time.Location
	reports  *report.Counters
	dests    []Destination
	notifier *pager.Notifier
	daily    *daily.Schedule
	outage   *outage // nil: a bbolt store, which cannot go away
	senders  []*pager.Sender
	runners  []func(context.Context) error // the adapters' loops the leader runs
	shared   []func(context.Context) error // those every process runs: webhook updates
	wg       sync.WaitGroup
}

// NewOperatorLayer makes the operator layer over a's engine and rules.
// Add destinations, then call Wire before the app starts.
func NewOperatorLayer(a *App, cfg *config.Config, auth operator.Authorizer) *OperatorLayer {
	loc, err := cfg.Report.Location()
	if err != nil { // Validate refused it already; this is the fallback of a config built in code
		loc = chat.Shanghai()
	}
	auth = operator.AnyOf{auth, operator.NewBound(a.binds, cfg.Operators)}
	suppliers := make([]string, 0, len(cfg.Suppliers))
	for _, s := range cfg.Suppliers {
		suppliers = append(suppliers, s.Name)
	}
	known := silence.Known{Suppliers: suppliers}
	for _, p := range cfg.Products {
		known.SKUs = append(known.SKUs, p.SKU)
	}
	for _, s := range cfg.Storefronts {
		known.Storefronts = append(known.Storefronts, s.ID)
	}
	reports := report.New(a.store, suppliers, a.engine.RaiseAlert)
	return &OperatorLayer{app: a, cfg: cfg, loc: loc, reports: reports, handler: operator.New(operator.Options{Orders: a.engine,
		Reports: reports, Bindings: a.binds,
		Silences: silence.New(a.store, known, nil), Rules: a.rules, Auth: auth,
		Language: cfg.Bot.Language, RefundLimit: int64(cfg.Bot.RefundLimit), Location: loc, Log: a.log,
		Roster: operator.Roster(cfg.Operators)})}
}

// Handler is the operator layer's command handler, for a channel added by the
// caller (the demo's console).
func (l *OperatorLayer) Handler() *operator.Handler { return l.handler }

// Add adds a chat to talk to.
func (l *OperatorLayer) Add(d Destination) { l.dests = append(l.dests, d) }

// AddTelegram connects the Telegram channel: one destination per group,
// at Telegram's 20 messages a minute, and its webhook on the storefront
// listener when the config asks for one.
func (l *OperatorLayer) AddTelegram(tc config.Telegram) error {
	ad, err := telegram.New(telegram.Options{Token: tc.Token.Reveal(), ServerURL: tc.ServerURL, Proxy: tc.Proxy,
		Groups: tc.Groups, Bot: l.handler, Log: l.app.log, WebhookURL: tc.WebhookURL, WebhookSecret: tc.WebhookSecret.Reveal()})
	if err != nil {
		return fmt.Errorf("telegram: %w", err)
	}
	for _, d := range ad.Dests() {
		chat, _ := telegram.ChatOf(d)
		l.Add(Destination{Dest: d, Chat: chat, Channel: ad, PerMinute: 20})
	}
	if tc.WebhookURL != "" {
		if err := l.app.api.Mount(routes.Mount{Owner: "telegram.webhook_url", Path: tc.WebhookPath()}, ad.WebhookHandler()); err != nil {
			return err
		}
		l.shared = append(l.shared, ad.Serve)
	}
	l.runners = append(l.runners, ad.Poll)
	return nil
}

// AddQQ connects the QQ channel: its webhook on the storefront listener,
// one destination per configured group, sent to only inside the reply
// windows QQ allows.
func (l *OperatorLayer) AddQQ(qc config.QQ) error {
	member := l.app.member
	ad := qq.New(qq.Options{AppID: qc.AppID, Secret: qc.Secret.Reveal(), APIURL: qc.APIURL, TokenURL: qc.TokenURL,
		Groups: qc.Groups, Bot: l.handler, Store: l.app.store, Log: l.app.log, Alert: l.app.engine.RaiseAlert,
		Stored: func() { member.Publish(topicInbound, "") }, Look: l.look()})
	member.Subscribe(topicInbound, func(string) { ad.Wake() })
	for _, d := range ad.Dests() {
		chat := qq.ChatOf(d)
		l.Add(Destination{Dest: d, Chat: chat, Channel: ad, NextBatch: qq.NextBatch,
			OnWindow: func(kick func()) { ad.OnWindow(chat, kick) }})
	}
	if err := l.app.api.Mount(routes.Mount{Owner: "qq.webhook_path", Path: qc.WebhookPath}, ad); err != nil {
		return err
	}
	l.runners = append(l.runners, ad.Run)
	return nil
}

// Wire builds the notifier and senders and routes the engine's alerts to
// them. Alerts raised before this are logged.
func (l *OperatorLayer) Wire() {
	writer := daily.New(daily.Options{Reports: l.reports, Stock: l.app.engine, Shops: l.app.engine, Language: l.cfg.Bot.Language,
		Location: l.loc, Log: l.app.log})
	names := make([]string, 0, len(l.dests))
	for _, d := range l.dests {
		names = append(names, d.Dest)
		s := pager.NewSender(l.handler, l.app.store, pager.SenderOptions{Dest: d.Dest, Chat: d.Chat,
			Channel: d.Channel, PerMinute: d.PerMinute, GroupWait: l.cfg.Alerts.GroupWait.Std(), NextBatch: d.NextBatch,
			Photo: writer.Photo, Look: l.look(), Log: l.app.log})
		if d.OnWindow != nil {
			d.OnWindow(s.Kick)
		}
		l.senders = append(l.senders, s)
	}
	l.notifier = pager.NewNotifier(l.handler, l.app.store, names,
		pager.AlertPolicy{GroupWait: l.cfg.Alerts.GroupWait.Std(), RepeatInterval: l.cfg.Alerts.RepeatInterval.Std()},
		time.Now, l.queued, l.app.log)
	at, err := l.cfg.Report.Clock()
	if err != nil {
		at = 9 * time.Hour
	}
	l.daily = daily.NewSchedule(writer, l.app.store, names, at, nil, l.queued)
	if len(names) > 0 {
		l.app.alerts.to = l.notifier
	}
	l.app.member.Subscribe(topicChat, func(string) {
		for _, s := range l.senders {
			s.Kick()
		}
	})
	if l.cfg.Storage.Postgres() && len(l.dests) > 0 {
		l.outage = newOutage(l.dests, l.cfg.Bot.Language, l.loc, l.app.log)
		l.app.store.OnAvailable(l.outage.changed)
	}
}

// queued tells the senders, wherever they run, that a message was queued.
func (l *OperatorLayer) queued() { l.app.member.Publish(topicChat, "") }

// look is how often the senders and the QQ worker look at the store
// unasked: with several processes, every few seconds; alone, where no
// nudge is lost, their defaults.
func (l *OperatorLayer) look() time.Duration {
	if l.cfg.Storage.Postgres() {
		return clusterLook
	}
	return 0
}

// Run starts, until ctx ends, the handling of webhook updates on this
// process, the notice of a lost database (outage.go), and, while this
// process leads, the senders, the repeat timer, the daily report and the
// adapters' loops.
func (l *OperatorLayer) Run(ctx context.Context) {
	if l.outage != nil {
		l.outage.run(ctx)
	}
	for _, run := range l.shared {
		l.wg.Go(func() { l.runChannel(ctx, run) })
	}
	l.wg.Go(func() { l.app.member.Lead(ctx, "operators", l.lead) })
}

// lead runs the leader's part of the operator layer until ctx ends.
func (l *OperatorLayer) lead(ctx context.Context) {
	var wg sync.WaitGroup
	for _, s := range l.senders {
		wg.Go(func() { s.Run(ctx) })
	}
	wg.Go(func() { l.notifier.Run(ctx) })
	if len(l.dests) > 0 {
		wg.Go(func() { l.daily.Run(ctx) })
	}
	for _, run := range l.runners {
		wg.Go(func() { l.runChannel(ctx, run) })
	}
	wg.Wait()
}

// runChannel runs one of a chat adapter's loops, logging why it stopped
// early.
func (l *OperatorLayer) runChannel(ctx context.Context, run func(context.Context) error) {
	if err := run(ctx); err != nil && ctx.Err() == nil {
		l.app.log.Error().Err(err).Msg("chat channel stopped")
	}
}

// Wait returns once everything Run started has stopped.
func (l *OperatorLayer) Wait() { l.wg.Wait() }
