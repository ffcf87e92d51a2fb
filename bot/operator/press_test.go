package operator

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"cardflow/alert"
	"cardflow/bot/chat"
	"cardflow/internal/testkit"
	"cardflow/storage"
)

// at is a wall-clock time on the fixture's day in Shanghai.
func at(hour, minute, sec int) time.Time {
	return time.Date(2025, 3, 14, hour, minute, sec, 0, chat.Shanghai())
}

func findButton(t *testing.T, r chat.Reply, data string) chat.Button {
	t.Helper()
	for _, b := range r.Buttons {
		if b.Data == data {
			return b
		}
	}
	t.Fatalf("no button %q in %q", data, r.Buttons)
	return chat.Button{}
}

func TestApprovePressFromReviewPromptDeliversOnceAndSaysWhoActed(t *testing.T) {
	for _, lg := range langs {
		t.Run(lg.name, func(t *testing.T) {
			l := func(zh, en string) string { return tr(lg.lang, zh, en) }
			f := newFixture(t)
			f.importCards(skuSmall, "cards-qb10.txt")
			b := f.bot(lg.lang)
			sink := &recordSink{}
			f.alerts.forward(renderTo(b, sink))

			f.clock.Set(at(3, 12, 30))
			o := f.review("888.00")
			prompt := sink.waitReply(t, fmt.Sprintf("#%d", o.ID))
			containsAll(t, "review prompt", prompt.Text, l("待审核", "needs review"), "rule:large-order", "qb-10")
			approve := findButton(t, prompt, "o:ap:1")
			if approve.Label != l("批准", "Approve") {
				t.Errorf("approve label = %q", approve.Label)
			}

			r := f.press(b, aliceID, approve.Data)
			if want := l("✅ 订单 #1 已由 alice 批准，进入发货队列。", "✅ Order #1 approved by alice; it is on its way."); r.Text != want {
				t.Errorf("first press = %q, want %q", r.Text, want)
			}
			if len(r.Buttons) != 0 {
				t.Errorf("first press left buttons %q on the message", r.Buttons)
			}
			delivered := f.waitStatus(o.ID, storage.StatusDelivered)
			done := sink.waitReply(t, l("已由 alice 批准。", "approved by alice."))
			containsAll(t, "review resolved", done.Text, "#1", "alice")

			f.clock.Set(at(4, 40, 0))
			r = f.press(b, bobID, approve.Data)
			containsAll(t, "second press", r.Text,
				l("订单 #1 当前为「已发货」", "Order #1 is delivered"), l("已由 alice", "by alice"), "03:12")
			containsNone(t, "second press", r.Text, "04:40", "bob")

			again := f.order(o.ID)
			if again.Status != storage.StatusDelivered || len(again.History) != len(delivered.History) {
				t.Errorf("second press changed the order: %s, %d transitions (was %d)", again.Status, len(again.History), len(delivered.History))
			}
			if lv, _ := f.engine.StockLevels(); lv[skuSmall] != 5 {
				t.Errorf("stock of %s = %d, want 5 (one card for one approval)", skuSmall, lv[skuSmall])
			}
			got := f.audit(1)[0]
			if got.Actor.Name != "bob" || got.Action != "approve" || got.Outcome != "refused" || got.Detail != "order is delivered" {
				t.Errorf("audit of the stale press = %+v", got)
			}
		})
	}
}

func TestStaleApprovePressNamesTheApproval(t *testing.T) {
	for _, lg := range langs {
		t.Run(lg.name, func(t *testing.T) {
			f := newFixture(t)
			f.importCards(skuSmall, "cards-qb10.txt")
			b := f.bot(lg.lang)
			o := f.review("888.00")
			f.press(b, aliceID, fmt.Sprintf("o:ap:%d", o.ID))
			f.waitStatus(o.ID, storage.StatusDelivered)
			r := f.press(b, bobID, fmt.Sprintf("o:ap:%d", o.ID))
			containsAll(t, "second press", r.Text, tr(lg.lang, "已由 alice 于 03-14 02:00 批准", "already approved by alice"))
		})
	}
}

func TestStaleRefundPressAfterApproveSaysWhatHappened(t *testing.T) {
	f := newFixture(t)
	f.importCards(skuSmall, "cards-qb10.txt")
	b := f.bot("")
	o := f.review("800.00")
	f.press(b, aliceID, fmt.Sprintf("o:ap:%d", o.ID))
	f.waitStatus(o.ID, storage.StatusDelivered)
	r := f.press(b, bobID, fmt.Sprintf("o:rf:%d", o.ID))
	containsAll(t, "stale refund press", r.Text, "当前为「已发货」", "已由 alice")
	if got := f.order(o.ID).Status; got != storage.StatusDelivered {
		t.Errorf("stale refund press moved the order to %s", got)
	}
}

// TestPressRaceOnOneOrderHasOneWinner presses two buttons of one prompt at
// once, many times: exactly one press acts and the other hears who did.
func TestPressRaceOnOneOrderHasOneWinner(t *testing.T) {
	type side struct {
		who  chat.Identity
		name string
		verb string // press verb
	}
	tests := []struct {
		name   string
		failed bool // race on a failed order, else on one in review
		a, b   side
		skip   string
	}{
		{name: "approve vs approve", a: side{aliceID, "alice", "ap"}, b: side{bobID, "bob", "ap"}},
		{name: "refund vs refund", a: side{aliceID, "alice", "rf"}, b: side{adminID, "carol", "rf"}},
		{name: "retry vs retry", failed: true, a: side{aliceID, "alice", "rt"}, b: side{bobID, "bob", "rt"}},
		{
			name: "approve vs refund", a: side{aliceID, "alice", "ap"}, b: side{bobID, "bob", "rf"},
		},
		{
			name: "retry vs refund", failed: true, a: side{aliceID, "alice", "rt"}, b: side{bobID, "bob", "rf"},
		},
	}
	const rounds = 8
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.skip != "" {
				t.Skip(tt.skip)
			}
			f := newFixture(t)
			f.importCards(skuSmall, "cards-qb10.txt")
			b := f.bot("")
			var orders []*storage.Order
			if tt.failed {
				orders = f.failed(rounds)
			} else {
				for range rounds {
					orders = append(orders, f.review("800.00"))
				}
			}
			for _, o := range orders {
				var (
					wg      sync.WaitGroup
					start   = make(chan struct{})
					replies [2]chat.Reply
				)
				for i, s := range []side{tt.a, tt.b} {
					wg.Go(func() {
						<-start
						replies[i] = b.HandlePress(t.Context(), chat.Press{From: s.who, Data: fmt.Sprintf("o:%s:%d", s.verb, o.ID)})
					})
				}
				close(start)
				wg.Wait()
				var winners, losers []int
				for i, r := range replies {
					f.noSecrets("race", r)
					switch {
					case strings.Contains(r.Text, "当前为"):
						losers = append(losers, i)
					case strings.HasPrefix(r.Text, "✅") || strings.HasPrefix(r.Text, "↩️") || strings.HasPrefix(r.Text, "🔁"):
						winners = append(winners, i)
					default:
						t.Errorf("order #%d: unexpected reply %q", o.ID, r.Text)
					}
				}
				if len(winners) != 1 || len(losers) != 1 {
					t.Fatalf("order #%d: %d presses acted and %d heard what happened; want 1 and 1: %q / %q",
						o.ID, len(winners), len(losers), replies[0].Text, replies[1].Text)
				}
				winner := []side{tt.a, tt.b}[winners[0]]
				if lost := replies[losers[0]].Text; !strings.Contains(lost, "已由 "+winner.name+" ") {
					t.Errorf("order #%d: loser heard %q, want it to name %s", o.ID, lost, winner.name)
				}
			}
		})
	}
}

func TestMalformedPressIsAnsweredWithoutActing(t *testing.T) {
	tests := []struct{ data, zh, en string }{
		{"x", "未知命令 x，", "Unknown command x;"},
		{"", "未知命令 ，", "Unknown command ;"},
		{"o:zz:1", "未知命令 o:zz:1，", "Unknown command o:zz:1;"},
		{"o:ap:abc", "未知命令 o:ap:abc，", "Unknown command o:ap:abc;"},
		{"o:ap:", "未知命令 o:ap:，", "Unknown command o:ap:;"},
		{"o:ap:-1", "未知命令 o:ap:-1，", "Unknown command o:ap:-1;"},
		{"o:ap:1:2", "未知命令 o:ap:1:2，", "Unknown command o:ap:1:2;"},
		{"o:ap:EXT-1", "未知命令 o:ap:EXT-1，", "Unknown command o:ap:EXT-1;"},
		{"o:ap:18446744073709551616", "未知命令 o:ap:18446744073709551616，", "Unknown command o:ap:18446744073709551616;"},
		{"O:AP:1", "未知命令 O:AP:1，", "Unknown command O:AP:1;"},
		{"o:ap:999999", "找不到订单 999999。", "No order 999999."},
		{"o:dt:999999", "找不到订单 999999。", "No order 999999."},
		{"o:rf:0", "找不到订单 0。", "No order 0."},
	}
	f := newFixture(t)
	o := f.review("800.00")
	for _, lg := range langs {
		b := f.bot(lg.lang)
		for _, tt := range tests {
			t.Run(lg.name+"/"+tt.data, func(t *testing.T) {
				f := f.with(t)
				r := f.press(b, adminID, tt.data)
				if want := tr(lg.lang, tt.zh, tt.en); !strings.HasPrefix(r.Text, want) {
					t.Errorf("press %q = %q, want prefix %q", tt.data, r.Text, want)
				}
				if len(r.Buttons) != 0 {
					t.Errorf("press %q answered with buttons %q", tt.data, r.Buttons)
				}
				if got := f.order(o.ID); got.Status != storage.StatusReview {
					t.Errorf("press %q moved order #%d to %s", tt.data, o.ID, got.Status)
				}
			})
		}
	}
}

func TestRetryPressFromFailedAlertResumesWhenStockArrives(t *testing.T) {
	f := newFixture(t)
	b := f.bot(chat.LangEN)
	sink := &recordSink{}
	f.alerts.forward(renderTo(b, sink))
	o := f.failed(1)[0]
	alert := sink.waitReply(t, "failed")
	if want := "❌ Order #1 (qb-100) failed: out_of_stock. A person must decide."; alert.Text != want {
		t.Errorf("failed alert = %q, want %q", alert.Text, want)
	}
	retry := findButton(t, alert, "o:rt:1")
	if retry.Label != "Retry" {
		t.Errorf("retry label = %q", retry.Label)
	}
	r := f.press(b, aliceID, retry.Data)
	if want := "🔁 Order #1 sent back to fulfilment by alice."; r.Text != want {
		t.Errorf("retry press = %q, want %q", r.Text, want)
	}
	testkit.Eventually(f.t, "retried order waits for stock", func() bool { return f.engine.Waiting(skuBig) == 1 })
	f.importCards(skuBig, "cards-qb100.txt")
	got := f.waitStatus(o.ID, storage.StatusDelivered)
	if !slices.ContainsFunc(got.History, func(h storage.Transition) bool {
		return h.From == storage.StatusFailed && h.To == storage.StatusPending && h.Actor.Name == "alice" && h.Reason == "operator:alice"
	}) {
		t.Errorf("history has no retry by alice: %+v", got.History)
	}
	r = f.send(b, viewerID, "/order 1")
	containsAll(t, "/order after retry", r.Text, "Status: delivered", "operator:alice · alice", "****0001")
}

func TestDetailsPressShowsTheOrderWithItsActions(t *testing.T) {
	f := newFixture(t)
	f.importCards(skuSmall, "cards-qb10.txt")
	d := f.delivered(skuSmall)
	rv := f.review("512.30")
	b := f.bot("")
	r := f.press(b, viewerID, fmt.Sprintf("o:dt:%d", rv.ID))
	if !strings.HasPrefix(r.Text, "订单 #2 · qb-10 ×1 · ¥512.30\n状态：待审核\n原因：rule:large-order") {
		t.Errorf("details = %q", r.Text)
	}
	if want := []string{"o:ap:2", "o:rf:2:r"}; !slices.Equal(buttonData(r), want) {
		t.Errorf("buttons = %q, want %q", buttonData(r), want)
	}
	r = f.press(b, viewerID, fmt.Sprintf("o:dt:%d", d.ID))
	containsAll(t, "details of a delivered order", r.Text, "订单 #1 ", "状态：已发货", "卡密：****9901")
	if len(r.Buttons) != 0 {
		t.Errorf("delivered order offers buttons %q", r.Buttons)
	}
}

// TestEveryButtonFitsTelegramAndTypesAsACommand checks every button the
// layer makes: its data fits Telegram's 64 bytes and the console can show it
// as a command the handler knows, for the same order.
func TestEveryButtonFitsTelegramAndTypesAsACommand(t *testing.T) {
	f := newFixture(t)
	f.review("800.00")
	f.failed(1)
	var buttons []chat.Button
	for _, lg := range langs {
		b := f.bot(lg.lang)
		for _, al := range []storage.Alert{
			{Type: alert.Review, OrderID: math.MaxUint64, SKU: skuSmall},
			{Type: alert.OrderFailed, OrderID: math.MaxUint64, SKU: skuSmall},
		} {
			buttons = append(buttons, b.RenderAlert(al).Buttons...)
		}
		for _, text := range []string{"/order 1", "/order 2", "/pending"} {
			buttons = append(buttons, f.send(b, adminID, text).Buttons...)
		}
	}
	if len(buttons) < 16 {
		t.Fatalf("collected only %d buttons", len(buttons))
	}
	for _, btn := range buttons {
		if len(btn.Data) > 64 {
			t.Errorf("button %q data is %d bytes, over Telegram's 64", btn.Label, len(btn.Data))
		}
		typed := ButtonCommand(btn.Data)
		name, args, ok := ParseCommand(typed)
		if _, known := f.bot("").commands.find(name); !ok || !known || len(args) != 1 {
			t.Errorf("button %q (%s) types as %q, not a known command with one argument", btn.Label, btn.Data, typed)
			continue
		}
		if id := strings.Split(btn.Data, ":")[2]; args[0] != "#"+id {
			t.Errorf("button %q (%s) types as %q, for another order", btn.Label, btn.Data, typed)
		}
	}
}

// TestPressNeverActsOnAnOrderFoundByExternalID: button data carries an order
// id; a storefront's numeric external id that happens to match must not
// redirect the press to another order.
func TestPressNeverActsOnAnOrderFoundByExternalID(t *testing.T) {
	f := newFixture(t)
	o := f.submitExt("424242", skuSmall, "800.00") // #1, in review
	b := f.bot("")
	r := f.send(b, adminID, "/order 424242") // typed, an external id is fine
	if !strings.HasPrefix(r.Text, "订单 #1 · qb-10") {
		t.Errorf("/order by numeric external id = %q", r.Text)
	}
	for _, data := range []string{"o:ap:424242", "o:rf:424242", "o:dt:424242"} {
		r := f.press(b, adminID, data)
		if r.Text != "找不到订单 424242。" {
			t.Errorf("press %s = %q, want not found", data, r.Text)
		}
	}
	if got := f.order(o.ID); got.Status != storage.StatusReview {
		t.Errorf("order #1 is %s, want still in review", got.Status)
	}
}
