package daily

import (
	"context"
	"time"

	"cardflow/bot/chat"
	"cardflow/storage"

	"github.com/rs/zerolog"
)

// metaReportSent is where the store keeps the start of the last day whose
// report was queued, so that a restart neither skips nor repeats it.
const metaReportSent = "report_sent"

// Schedule queues the report of the day before for every operator chat at
// daily_at in the report's time zone. Started after daily_at (a restart, a
// machine that was off), it sends the missed report at once; it never sends
// one day twice, and never the reports of days further back. A day that
// ended before the store counted anything is not reported: a shop that
// installs cardflow in the afternoon gets its first report the next
// morning, about the day it started, not an empty one about the day before.
type Schedule struct {
	writer *Writer
	log    zerolog.Logger
	now    func() time.Time
	store  *storage.Store
	dests  []string
	at     time.Duration // since local midnight
	kick   func()
}

// NewSchedule builds the scheduler of w's reports; at is daily_at as time
// since midnight in w's time zone, now the clock (time.Now when nil).
func NewSchedule(w *Writer, store *storage.Store, dests []string, at time.Duration, now func() time.Time, kick func()) *Schedule {
	if kick == nil {
		kick = func() {}
	}
	if now == nil {
		now = time.Now
	}
	return &Schedule{writer: w, log: w.log, now: now, store: store, dests: dests, at: at, kick: kick}
}

// Run sends reports until ctx ends.
func (d *Schedule) Run(ctx context.Context) {
	for {
		if _, err := d.SendDue(); err != nil {
			d.log.Error().Err(err).Msg("daily report")
		}
		wait := time.Until(d.next(d.now()))
		if wait > time.Hour {
			wait = time.Hour // a clock that jumps (suspend, NTP) is caught within the hour
		}
		t := time.NewTimer(max(wait, time.Second))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// next is the next daily_at after now.
func (d *Schedule) next(now time.Time) time.Time {
	now = now.In(d.writer.loc)
	t := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, d.writer.loc).Add(d.at)
	if !t.After(now) {
		t = t.AddDate(0, 0, 1)
	}
	return t
}

// SendDue queues yesterday's report if today's daily_at has passed and it
// has not been queued yet. It reports whether it queued one.
func (d *Schedule) SendDue() (bool, error) {
	now := d.now().In(d.writer.loc)
	midnight := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, d.writer.loc)
	if now.Before(midnight.Add(d.at)) {
		return false, nil
	}
	p := DayBefore(now, d.writer.loc)
	var (
		sent  time.Time
		empty bool // the store's life began after the day: nothing to report
	)
	if err := d.store.View(func(tx *storage.Tx) error {
		sent = tx.MetaTime(metaReportSent)
		first, ok := tx.Counters().FirstCounted()
		empty = !ok || !first.Before(p.To)
		return nil
	}); err != nil {
		return false, err
	}
	if !sent.Before(p.From) {
		return false, nil
	}
	var text string
	if !empty {
		var err error
		if _, text, err = d.writer.reportText(p, true); err != nil {
			return false, err
		}
	}
	queued := false
	err := d.store.Update(func(tx *storage.Tx) error {
		if !tx.MetaTime(metaReportSent).Before(p.From) {
			return nil // another run got there first
		}
		if empty {
			return tx.SetMetaTime(metaReportSent, p.From)
		}
		for _, dest := range d.dests {
			m := &storage.ChatMessage{Dest: dest, Text: chat.Clean(chat.Reply{Text: chat.T(d.writer.lang, "daily_report_title") + " · " + text}).Text,
				CreatedAt: now, ChartFrom: p.From, ChartTo: p.To}
			if err := tx.Chat().Queue(m); err != nil {
				return err
			}
		}
		queued = true
		return tx.SetMetaTime(metaReportSent, p.From)
	})
	if err != nil {
		return false, err
	}
	if queued {
		d.kick()
	}
	return queued, nil
}
