package app

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"cardflow/bot/chat"
)

// outageGrace is how long a process waits, its database away, before it
// tells the operators' chats: PostgreSQL restarting is over in seconds.
const outageGrace = 10 * time.Second

// outage tells the operators' chats, straight through their channels, that
// this process cannot reach its database. The alert storage_unavailable is
// an alert like any other: it is stored, and queued for the chats, once the
// database answers again; until then only this notice reaches a phone. It
// goes once per outage, after outageGrace, and names the process: while
// the database is away no process leads, so every process that lost it
// sends its own. A chat that takes only replies (QQ outside a reply
// window) refuses it, which is logged.
type outage struct {
	dests []Destination
	lang  string
	loc   *time.Location
	who   string
	grace time.Duration
	log   zerolog.Logger

	mu    sync.Mutex
	ctx   context.Context // Run's: no notice once it ends
	since time.Time       // zero while the database answers
	timer *time.Timer
}

func newOutage(dests []Destination, lang string, loc *time.Location, log zerolog.Logger) *outage {
	host, _ := os.Hostname()
	return &outage{dests: dests, lang: lang, loc: loc, who: fmt.Sprintf("%s:%d", host, os.Getpid()), grace: outageGrace,
		log: log, ctx: context.Background()}
}

// run lets notices go until ctx ends.
func (o *outage) run(ctx context.Context) {
	o.mu.Lock()
	o.ctx = ctx
	o.mu.Unlock()
}

// changed hears the store's availability (storage.Store.OnAvailable): lost
// (err set) starts the wait, answering again (nil) ends it.
func (o *outage) changed(err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if err == nil {
		if o.timer != nil {
			o.timer.Stop()
		}
		o.since, o.timer = time.Time{}, nil
		return
	}
	if !o.since.IsZero() {
		return
	}
	since := time.Now()
	o.since = since
	o.timer = time.AfterFunc(o.grace, func() { o.tell(since) })
}

// tell sends the notice of the outage that began at since, if it lasts.
func (o *outage) tell(since time.Time) {
	o.mu.Lock()
	ctx, lasts := o.ctx, o.since.Equal(since)
	o.mu.Unlock()
	if !lasts || ctx.Err() != nil {
		return
	}
	r := chat.Clean(chat.Reply{Text: chat.T(o.lang, "storage_away_live", chat.Untrusted(o.who), since.In(o.loc).Format("15:04:05"))})
	for _, d := range o.dests {
		if _, err := d.Channel.Send(d.Chat, r); err != nil {
			o.log.Warn().Err(err).Str("dest", d.Dest).Msg("tell a chat the database is away")
			continue
		}
		o.log.Info().Str("dest", d.Dest).Msg("told a chat the database is away")
	}
}
