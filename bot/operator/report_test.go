package operator

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"cardflow/bot/chat"
	"cardflow/report/daily"
	"cardflow/storage"
)

var pngMagic = []byte("\x89PNG\r\n\x1a\n")

// clockBot is the operator layer reading the fixture's clock, in Shanghai.
func (f *fixture) clockBot(lang string) *Handler {
	return New(Options{Orders: f.engine, Reports: f.reports(), Bindings: f.bindings(), Silences: f.silences(), Auth: operators, Language: lang, RefundLimit: refundLimit, Log: zerolog.Nop(),
		Location: chat.Shanghai(), Now: f.clock.Now})
}

// TestStatsAndReportShowTheDay: two delivered orders and one held for
// review today; /stats today|yesterday|7d count them where they belong,
// a bad period is answered with the usage, /report adds the
// reconciliation and a PNG chart, and a viewer may ask. Both languages.
func TestStatsAndReportShowTheDay(t *testing.T) {
	f := newFixture(t)
	f.importCards(skuSmall, "cards-qb10.txt")
	f.delivered(skuSmall)
	f.delivered(skuSmall)
	f.review("600.00")
	for _, lang := range []string{chat.LangZH, chat.LangEN} {
		t.Run(lang, func(t *testing.T) {
			f := f.with(t)
			b := f.clockBot(lang)
			today := f.send(b, viewerID, "/stats").Text
			containsAll(t, "/stats", today, tr(lang, "订单 3 笔，实收 ¥620.00", "Orders 3, paid ¥620.00"),
				tr(lang, "已发货 2", "Delivered 2"), tr(lang, "人工审核 1 笔", "Held for review 1"))
			if y := f.send(b, viewerID, "/stats yesterday").Text; !strings.Contains(y, tr(lang, "订单 0 笔", "Orders 0")) {
				t.Fatalf("/stats yesterday: %s", y)
			}
			containsAll(t, "/stats 7d", f.send(b, viewerID, "/stats 7d").Text, tr(lang, "订单 3 笔", "Orders 3"))
			containsAll(t, "/stats lastyear", f.send(b, viewerID, "/stats lastyear").Text, "/stats [today|yesterday|7d]")

			r := f.send(b, viewerID, "/report")
			containsAll(t, "/report", r.Text, tr(lang, "对账", "Reconciliation"), tr(lang, "账目一致", "Everything adds up"),
				tr(lang, "处理中 ¥600.00", "open ¥600.00"))
			if r.Photo == nil || !bytes.HasPrefix(r.Photo.PNG, pngMagic) || !strings.HasSuffix(r.Photo.Name, ".png") {
				t.Fatalf("/report photo: %+v", r.Photo)
			}
		})
	}
	if r := f.send(f.clockBot(chat.LangZH), strangerID, "/report"); r.Photo != nil || strings.Contains(r.Text, "620") {
		t.Fatalf("a stranger got the report: %q", r.Text)
	}
}

// queuedChat reads the first messages waiting in a chat's queue.
func (f *fixture) queuedChat(dest string) []storage.ChatMessage {
	f.t.Helper()
	var queued []storage.ChatMessage
	err := f.store.View(func(tx *storage.Tx) error {
		var err error
		queued, err = tx.Chat().Pending(dest, 10)
		return err
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return queued
}

// TestNoDailyReportOfADayBeforeTheStoreCountedAnything: a store whose first
// order came in today, started after daily_at, sends no report of
// yesterday (it would be empty, of a day before the shop used cardflow),
// also not after a restart; the next morning it reports today.
func TestNoDailyReportOfADayBeforeTheStoreCountedAnything(t *testing.T) {
	f := newFixture(t)
	f.importCards(skuSmall, "cards-qb10.txt")
	f.clock.Set(time.Date(2025, 3, 14, 15, 0, 0, 0, chat.Shanghai()))
	f.delivered(skuSmall)
	dests := []string{"test:1"}
	for range 2 { // the second is a restart
		if sent, err := daily.NewSchedule(f.writer(), f.store, dests, 9*time.Hour, f.clock.Now, nil).SendDue(); err != nil || sent {
			t.Fatalf("report of the day before the first order: sent %v, err %v", sent, err)
		}
	}
	f.clock.Set(time.Date(2025, 3, 15, 9, 0, 0, 0, chat.Shanghai()))
	if sent, err := daily.NewSchedule(f.writer(), f.store, dests, 9*time.Hour, f.clock.Now, nil).SendDue(); err != nil || !sent {
		t.Fatalf("report of the first day: sent %v, err %v", sent, err)
	}
	queued := f.queuedChat("test:1")
	if len(queued) != 1 || !queued[0].ChartFrom.Equal(time.Date(2025, 3, 14, 0, 0, 0, 0, chat.Shanghai())) {
		t.Fatalf("queued: %+v", queued)
	}
	containsAll(t, "the first report", queued[0].Text, "日报", "订单 1 笔")
}

// TestDailyReportIsQueuedOncePerDayAcrossRestarts: before daily_at nothing
// goes out; at it, yesterday's report is queued for every chat, once, even
// when the scheduler starts again (a restart); the next day's comes the
// next day.
func TestDailyReportIsQueuedOncePerDayAcrossRestarts(t *testing.T) {
	f := newFixture(t)
	f.importCards(skuSmall, "cards-qb10.txt")
	f.clock.Set(t0().Add(-6 * time.Hour)) // the evening before: the store's first order
	f.delivered(skuSmall)
	f.clock.Set(t0())
	f.delivered(skuSmall)
	dests := []string{"test:1", "test:2"}
	schedule := daily.NewSchedule(f.writer(), f.store, dests, 9*time.Hour, f.clock.Now, nil)
	sendDue := func(d *daily.Schedule) bool {
		t.Helper()
		sent, err := d.SendDue()
		if err != nil {
			t.Fatal(err)
		}
		return sent
	}
	if sendDue(schedule) { // 02:00
		t.Fatal("report sent before 09:00")
	}
	f.clock.Set(time.Date(2025, 3, 14, 9, 0, 0, 0, chat.Shanghai()))
	if !sendDue(schedule) {
		t.Fatal("no report at 09:00")
	}
	if sendDue(schedule) || sendDue(daily.NewSchedule(f.writer(), f.store, dests, 9*time.Hour, f.clock.Now, nil)) {
		t.Fatal("report sent twice")
	}
	f.clock.Set(time.Date(2025, 3, 15, 23, 0, 0, 0, chat.Shanghai())) // the next day, late
	if !sendDue(daily.NewSchedule(f.writer(), f.store, dests, 9*time.Hour, f.clock.Now, nil)) {
		t.Fatal("no report the next day")
	}
	queued := f.queuedChat("test:2")
	if len(queued) != 2 || !queued[0].ChartFrom.Equal(time.Date(2025, 3, 13, 0, 0, 0, 0, chat.Shanghai())) ||
		!queued[1].ChartFrom.Equal(time.Date(2025, 3, 14, 0, 0, 0, 0, chat.Shanghai())) {
		t.Fatalf("queued for test:2: %+v", queued)
	}
	containsAll(t, "the first report", queued[0].Text, "日报", "订单 1 笔")
	containsAll(t, "the second report", queued[1].Text, "日报", "订单 1 笔")
}
