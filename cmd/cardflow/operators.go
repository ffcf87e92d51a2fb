package main

import (
	"context"
	"sync"
	"time"

	"cardflow/bot"
	"cardflow/config"
)

// destination is one chat the operator layer talks to.
type destination struct {
	dest, chat string
	channel    bot.Channel
	perMinute  int // the platform's limit per chat; 0: none
}

// operatorLayer is the operator layer wired to an app: the bot itself, the
// notifier that turns alerts into queued chat messages, and one sender per
// chat.
type operatorLayer struct {
	bot      *bot.Bot
	notifier *bot.Notifier
	senders  []*bot.Sender
	wg       sync.WaitGroup
}

// buildOperators makes the operator layer over a's engine and rules.
func buildOperators(a *app, cfg *config.Config, auth bot.Authorizer, dests []destination) *operatorLayer {
	l := &operatorLayer{bot: bot.New(bot.Options{Engine: a.engine, Rules: a.rules, Auth: auth, Language: cfg.Bot.Language,
		RefundLimit: int64(cfg.Bot.RefundLimit), Log: a.log})}
	names := make([]string, 0, len(dests))
	for _, d := range dests {
		names = append(names, d.dest)
		l.senders = append(l.senders, bot.NewSender(l.bot, a.store, bot.SenderOptions{Dest: d.dest, Chat: d.chat,
			Channel: d.channel, PerMinute: d.perMinute, GroupWait: cfg.Alerts.GroupWait.Std()}))
	}
	l.notifier = bot.NewNotifier(l.bot, a.store, names,
		bot.AlertPolicy{GroupWait: cfg.Alerts.GroupWait.Std(), RepeatInterval: cfg.Alerts.RepeatInterval.Std()},
		time.Now, l.kick)
	return l
}

func (l *operatorLayer) kick() {
	for _, s := range l.senders {
		s.Kick()
	}
}

// run starts the senders and the repeat timer until ctx ends.
func (l *operatorLayer) run(ctx context.Context) {
	for _, s := range l.senders {
		l.wg.Go(func() { s.Run(ctx) })
	}
	l.wg.Go(func() { l.notifier.Run(ctx) })
}

// wait returns once everything run started has stopped.
func (l *operatorLayer) wait() { l.wg.Wait() }
