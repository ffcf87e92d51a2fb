package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"cardflow/bot"
	"cardflow/bot/qq"
	"cardflow/bot/telegram"
	"cardflow/config"
	"cardflow/internal/routes"
)

// destination is one chat the operator layer talks to.
type destination struct {
	dest, chat string
	channel    bot.Channel
	perMinute  int    // the platform's limit per chat; 0: none
	nextBatch  string // data of the "next batch" button on digests; "": none
	onWindow   func(kick func())
}

// operatorLayer is the operator layer wired to an app: the bot itself, the
// notifier that turns alerts into queued chat messages, one sender per
// chat, and the chat adapters' own loops.
type operatorLayer struct {
	app      *app
	cfg      *config.Config
	bot      *bot.Bot
	dests    []destination
	notifier *bot.Notifier
	daily    *bot.Daily
	senders  []*bot.Sender
	runners  []func(context.Context) error
	wg       sync.WaitGroup
}

// newOperatorLayer makes the operator layer over a's engine and rules.
// Add destinations, then call wire before the app starts.
func newOperatorLayer(a *app, cfg *config.Config, auth bot.Authorizer) *operatorLayer {
	loc, err := cfg.Report.Location()
	if err != nil { // Validate refused it already; this is the fallback of a config built in code
		loc = bot.Shanghai()
	}
	auth = bot.AnyOf{auth, bot.NewBound(a.engine, cfg.Operators)}
	return &operatorLayer{app: a, cfg: cfg, bot: bot.New(bot.Options{Engine: a.engine, Rules: a.rules, Auth: auth,
		Language: cfg.Bot.Language, RefundLimit: int64(cfg.Bot.RefundLimit), Location: loc, Log: a.log,
		Roster: bot.Roster(cfg.Operators)})}
}

func (l *operatorLayer) add(d destination) { l.dests = append(l.dests, d) }

// addTelegram connects the Telegram channel: one destination per group,
// at Telegram's 20 messages a minute, and its webhook on the storefront
// listener when the config asks for one.
func (l *operatorLayer) addTelegram(tc config.Telegram) error {
	ad, err := telegram.New(telegram.Options{Token: tc.Token.Reveal(), ServerURL: tc.ServerURL, Proxy: tc.Proxy,
		Groups: tc.Groups, Bot: l.bot, Log: l.app.log, WebhookURL: tc.WebhookURL, WebhookSecret: tc.WebhookSecret.Reveal()})
	if err != nil {
		return fmt.Errorf("telegram: %w", err)
	}
	for _, d := range ad.Dests() {
		chat, _ := telegram.ChatOf(d)
		l.add(destination{dest: d, chat: chat, channel: ad, perMinute: 20})
	}
	if tc.WebhookURL != "" {
		if err := l.app.api.Mount(routes.Mount{Owner: "telegram.webhook_url", Path: tc.WebhookPath()}, ad.WebhookHandler()); err != nil {
			return err
		}
	}
	l.runners = append(l.runners, ad.Run)
	return nil
}

// addQQ connects the QQ channel: its webhook on the storefront listener,
// one destination per configured group, sent to only inside the reply
// windows QQ allows.
func (l *operatorLayer) addQQ(qc config.QQ) error {
	ad := qq.New(qq.Options{AppID: qc.AppID, Secret: qc.Secret.Reveal(), APIURL: qc.APIURL, TokenURL: qc.TokenURL,
		Groups: qc.Groups, Bot: l.bot, Store: l.app.store, Log: l.app.log, Alert: l.app.engine.RaiseAlert})
	for _, d := range ad.Dests() {
		chat := qq.ChatOf(d)
		l.add(destination{dest: d, chat: chat, channel: ad, nextBatch: qq.NextBatch,
			onWindow: func(kick func()) { ad.OnWindow(chat, kick) }})
	}
	if err := l.app.api.Mount(routes.Mount{Owner: "qq.webhook_path", Path: qc.WebhookPath}, ad); err != nil {
		return err
	}
	l.runners = append(l.runners, ad.Run)
	return nil
}

// wire builds the notifier and senders and routes the engine's alerts to
// them. Alerts raised before this are logged.
func (l *operatorLayer) wire() {
	names := make([]string, 0, len(l.dests))
	for _, d := range l.dests {
		names = append(names, d.dest)
		s := bot.NewSender(l.bot, l.app.store, bot.SenderOptions{Dest: d.dest, Chat: d.chat,
			Channel: d.channel, PerMinute: d.perMinute, GroupWait: l.cfg.Alerts.GroupWait.Std(), NextBatch: d.nextBatch})
		if d.onWindow != nil {
			d.onWindow(s.Kick)
		}
		l.senders = append(l.senders, s)
	}
	l.notifier = bot.NewNotifier(l.bot, l.app.store, names,
		bot.AlertPolicy{GroupWait: l.cfg.Alerts.GroupWait.Std(), RepeatInterval: l.cfg.Alerts.RepeatInterval.Std()},
		time.Now, l.kick)
	at, err := l.cfg.Report.Clock()
	if err != nil {
		at = 9 * time.Hour
	}
	l.daily = bot.NewDaily(l.bot, l.app.store, names, at, l.kick)
	if len(names) > 0 {
		l.app.alerts.to = l.notifier
	}
}

func (l *operatorLayer) kick() {
	for _, s := range l.senders {
		s.Kick()
	}
}

// run starts the senders, the repeat timer and the adapters until ctx ends.
func (l *operatorLayer) run(ctx context.Context) {
	for _, s := range l.senders {
		l.wg.Go(func() { s.Run(ctx) })
	}
	l.wg.Go(func() { l.notifier.Run(ctx) })
	if len(l.dests) > 0 {
		l.wg.Go(func() { l.daily.Run(ctx) })
	}
	for _, run := range l.runners {
		l.wg.Go(func() {
			if err := run(ctx); err != nil && ctx.Err() == nil {
				l.app.log.Error().Err(err).Msg("chat channel stopped")
			}
		})
	}
}

// wait returns once everything run started has stopped.
func (l *operatorLayer) wait() { l.wg.Wait() }
