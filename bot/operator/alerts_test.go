package operator

import (
	"slices"
	"strings"
	"testing"
	"time"

	"cardflow/alert"
	"cardflow/bot/chat"
	"cardflow/bot/silence"
	"cardflow/internal/testkit"
	"cardflow/storage"
)

func TestRenderAlertForEveryAlertType(t *testing.T) {
	tests := []struct {
		name    string
		alert   storage.Alert
		zh, en  string
		buttons [][3]string // zh label, en label, data
	}{
		{
			name:  "out of stock raised",
			alert: storage.Alert{Key: "out_of_stock:qb-100", Type: alert.OutOfStock, SKU: "qb-100", OrderID: 7},
			zh:    "⚠️ 缺货：qb-100 库存不足（剩 0），订单 #7 等待补货。",
			en:    "⚠️ Out of stock: qb-100 has 0 left; order #7 is waiting.",
		},
		{
			name:  "out of stock resolved",
			alert: storage.Alert{Key: "out_of_stock:qb-100", Type: alert.OutOfStock, SKU: "qb-100", Resolved: true, Count: 25},
			zh:    "✅ 已补货：qb-100 现有库存 25。",
			en:    "✅ Restocked: qb-100 now has 25.",
		},
		{
			name:  "order failed",
			alert: storage.Alert{Key: "order_failed:7", Type: alert.OrderFailed, OrderID: 7, SKU: "qb-100", Detail: "out_of_stock"},
			zh:    "❌ 订单 #7（qb-100）自动处理失败：out_of_stock，需要人工处理。",
			en:    "❌ Order #7 (qb-100) failed: out_of_stock. A person must decide.",
			buttons: [][3]string{
				{"重试", "Retry", "o:rt:7"}, {"退款", "Refund", "o:rf:7:f"}, {"详情", "Details", "o:dt:7"},
			},
		},
		{
			name:  "review",
			alert: storage.Alert{Key: "review:12", Type: alert.Review, OrderID: 12, SKU: "qb-10", Detail: "rule:large-order"},
			zh:    "🔍 订单 #12（qb-10）待审核：rule:large-order",
			en:    "🔍 Order #12 (qb-10) needs review: rule:large-order",
			buttons: [][3]string{
				{"批准", "Approve", "o:ap:12"}, {"退款", "Refund", "o:rf:12:r"}, {"详情", "Details", "o:dt:12"},
			},
		},
		{
			name:  "review resolved",
			alert: storage.Alert{Key: "review:12", Type: alert.Review, OrderID: 12, SKU: "qb-10", Resolved: true, Target: "alice", Detail: "approve"},
			zh:    "订单 #12 已由 alice 批准。",
			en:    "Order #12 approved by alice.",
		},
		{
			name: "callback failing",
			alert: storage.Alert{Key: "callback_failing:shop", Type: alert.CallbackFailing, OrderID: 9, Target: "shop",
				Detail: "callback answered 500 Internal Server Error"},
			zh: "⚠️ 商城 shop 的回调持续失败超过 24 小时（订单 #9）：callback answered 500 Internal Server Error",
			en: "⚠️ Callbacks to storefront shop have failed for over 24 h (order #9): callback answered 500 Internal Server Error",
		},
		{
			name: "callback redirected",
			alert: storage.Alert{Key: "callback_failing:shop", Type: alert.CallbackRedirect, OrderID: 9, Target: "shop",
				Detail: "callback: https://shop.example/cb answered 302 Found, a redirect to https://else.example/x, which is not followed; configure the final URL"},
			zh: "⚠️ 商城 shop 的回调地址返回了重定向，回调未送达（订单 #9）：callback: https[:]//shop[.]example/cb answered 302 Found, a redirect to https[:]//else[.]example/x, which is not followed; configure the final URL。重定向不会被跟随：请把 callback_url 改为最终地址并重启。",
			en: "⚠️ Callbacks to storefront shop are answered with a redirect and not delivered (order #9): callback: https[:]//shop[.]example/cb answered 302 Found, a redirect to https[:]//else[.]example/x, which is not followed; configure the final URL. Redirects are never followed: set callback_url to the final address and restart.",
		},
		{
			name:  "callback failing resolved",
			alert: storage.Alert{Key: "callback_failing:shop", Type: alert.CallbackFailing, OrderID: 9, Target: "shop", Resolved: true},
			zh:    "✅ 商城 shop 的回调已恢复。",
			en:    "✅ Callbacks to storefront shop work again.",
		},
		{
			name: "mail server failing",
			alert: storage.Alert{Key: "mail_failing:smtp", Type: alert.MailFailing, OrderID: 9, Target: "smtp.example.com:465",
				Detail: "send mail: sending SMTP RCPT TO command: 451 4.0.0 try later"},
			zh:      "⚠️ 邮件服务器 smtp[.]example[.]com:465 发信失败，买家邮件排队重试中：send mail: sending SMTP RCPT TO command: 451 4.0.0 try later",
			en:      "⚠️ The mail server smtp[.]example[.]com:465 is failing; buyers' mails wait and are retried: send mail: sending SMTP RCPT TO command: 451 4.0.0 try later",
			buttons: [][3]string{{"静音1小时", "Silence 1h", "s:si:mail_failing:smtp"}},
		},
		{
			name:  "mail server sends again",
			alert: storage.Alert{Key: "mail_failing:smtp", Type: alert.MailFailing, Target: "smtp.example.com:465", Resolved: true},
			zh:    "✅ 邮件服务器 smtp[.]example[.]com:465 已恢复发信。",
			en:    "✅ The mail server smtp[.]example[.]com:465 sends again.",
		},
		{
			name: "mail refused for good",
			alert: storage.Alert{Key: "mail_rejected:9:31", Type: alert.MailRejected, OrderID: 9, Target: "shop1",
				Detail: "order.delivered: 550 5.1.1 mailbox unavailable"},
			zh:      "⚠️ 商城 shop1 订单 #9 的买家邮件被邮件服务器拒收，已放弃：order[.]delivered: 550 5.1.1 mailbox unavailable",
			en:      "⚠️ The buyer's mail of storefront shop1 for order #9 was refused by the mail server and given up: order[.]delivered: 550 5.1.1 mailbox unavailable",
			buttons: [][3]string{{"详情", "Details", "o:dt:9"}},
		},
		{
			name:    "supplier down",
			alert:   storage.Alert{Key: "supplier_down:fulu", Type: alert.SupplierDown, Target: "fulu"},
			zh:      "🔴 供货商 fulu 连续无响应，已熔断；新订单改走其他渠道。",
			en:      "🔴 Supplier fulu stopped answering; new orders go elsewhere.",
			buttons: [][3]string{{"暂停", "Pause", "s:pa:fulu"}, {"静音1小时", "Silence 1h", "s:si:supplier_down:fulu"}},
		},
		{
			name:  "supplier up",
			alert: storage.Alert{Key: "supplier_down:fulu", Type: alert.SupplierDown, Target: "fulu", Resolved: true},
			zh:    "🟢 供货商 fulu 已恢复。",
			en:    "🟢 Supplier fulu answers again.",
		},
		{
			name:  "unknown type",
			alert: storage.Alert{Key: "mystery:x", Type: "mystery", Target: "x", Detail: "5000 events"},
			zh:    "⚠️ mystery:x：5000 events",
			en:    "⚠️ mystery:x: 5000 events",
		},
		{
			name:  "unknown type resolved",
			alert: storage.Alert{Key: "mystery:x", Type: "mystery", Target: "x", Resolved: true},
			zh:    "✅ 已恢复：mystery:x",
			en:    "✅ Resolved: mystery:x",
		},
		{
			name:    "backlog growing",
			alert:   storage.Alert{Key: "backlog:outbox", Type: alert.Backlog, Target: "outbox", Detail: "5000 events"},
			zh:      "⏳ 待发送的回调和通知积压：5000 events。请检查商城回调地址和聊天通道。",
			en:      "⏳ Callbacks and notices are piling up: 5000 events. Check the storefront callback URL and the chat channels.",
			buttons: [][3]string{{"静音1小时", "Silence 1h", "s:si:backlog:outbox"}},
		},
		{
			name:  "low stock",
			alert: storage.Alert{Key: "low_stock:qb-10", Type: alert.LowStock, SKU: "qb-10", Count: 3},
			zh:    "📉 qb-10 库存偏低：剩 3。",
			en:    "📉 qb-10 is running low: 3 left.",
		},
		{
			name:  "supplier balance low",
			alert: storage.Alert{Key: "balance_low:fulu", Type: alert.BalanceLow, Target: "fulu", Detail: "98.00"},
			zh:    "💰 供货商 fulu 余额不足：¥98.00，请及时充值。",
			en:    "💰 Supplier fulu balance is low: ¥98.00; top it up.",
		},
		{
			name:  "supplier balance back",
			alert: storage.Alert{Key: "balance_low:fulu", Type: alert.BalanceLow, Target: "fulu", Detail: "5000.00", Resolved: true},
			zh:    "💰 供货商 fulu 余额已恢复：¥5000.00。",
			en:    "💰 Supplier fulu balance is back to ¥5000.00.",
		},
	}
	for _, lg := range langs {
		b := New(Options{Language: lg.lang, Auth: operators})
		for _, tt := range tests {
			t.Run(lg.name+"/"+tt.name, func(t *testing.T) {
				if typ, _, _ := strings.Cut(tt.alert.Key, ":"); !silence.IsAlertType(typ) && typ != "mystery" {
					t.Errorf("alert key %q: %q is not an alert type /silence knows", tt.alert.Key, typ)
				}
				r := b.RenderAlert(tt.alert)
				if want := tr(lg.lang, tt.zh, tt.en); r.Text != want {
					t.Errorf("text = %q\nwant   %q", r.Text, want)
				}
				var want []chat.Button
				for _, bt := range tt.buttons {
					want = append(want, chat.Button{Label: tr(lg.lang, bt[0], bt[1]), Data: bt[2]})
				}
				if !slices.Equal(r.Buttons, want) {
					t.Errorf("buttons = %q, want %q", r.Buttons, want)
				}
			})
		}
	}
}

func TestEngineAlertsReachOperatorsRendered(t *testing.T) {
	f := newFixture(t)
	b := f.bot("")
	sink := &recordSink{}
	f.alerts.forward(renderTo(b, sink))
	f.importCards(skuSmall, "cards-qb10.txt")

	first := f.submit(skuBig, "100.00") // #1: qb-100 has no stock yet
	testkit.Eventually(f.t, "order #1 waits", func() bool { return f.engine.Waiting(skuBig) == 1 })
	f.importCards(skuBig, "cards-qb100.txt") // two cards
	f.waitStatus(first.ID, storage.StatusDelivered)
	f.delivered(skuBig)      // #2 takes the last card
	f.failed(1)              // #3 waits, then fails
	rv := f.review("777.00") // #4
	f.press(b, aliceID, "o:ap:4")
	f.waitStatus(rv.ID, storage.StatusDelivered)

	want := []struct {
		text    string
		buttons []string
	}{
		{"⚠️ 缺货：qb-100 库存不足（剩 0），订单 #1 等待补货。", nil},
		{"✅ 已补货：qb-100 现有库存 2。", nil},
		{"📉 qb-100 库存偏低：剩 1。", nil}, // low_stock is 2 for qb-100
		{"⚠️ 缺货：qb-100 库存不足（剩 0），订单 #3 等待补货。", nil},
		{"❌ 订单 #3（qb-100）自动处理失败：out_of_stock，需要人工处理。", []string{"o:rt:3", "o:rf:3:f", "o:dt:3"}},
		{"🔍 订单 #4（qb-10）待审核：rule:large-order", []string{"o:ap:4", "o:rf:4:r", "o:dt:4"}},
		{"订单 #4 已由 alice 批准。", nil},
	}
	testkit.Eventually(f.t, "every alert announced", func() bool { return len(sink.all()) >= len(want) })
	got := sink.all()
	if len(got) != len(want) {
		t.Errorf("announced %d alerts, want %d", len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		text := got[i].Text
		if i == len(want)-1 && strings.HasPrefix(text, want[i].text) && strings.Contains(text, "alice") {
			text = want[i].text // the resolved review names the operator; the verb's wording may change
		}
		if text != want[i].text || !slices.Equal(buttonData(got[i]), want[i].buttons) {
			t.Errorf("alert %d = %q %q\nwant      %q %q", i, got[i].Text, buttonData(got[i]), want[i].text, want[i].buttons)
		}
	}
}

// TestOutOfStockAlertIsResolvedAfterItsOrdersGaveUp: the order that raised
// the alert failed; stock arriving later must still close the alert.
func TestOutOfStockAlertIsResolvedAfterItsOrdersGaveUp(t *testing.T) {
	f := newFixture(t)
	b := f.bot(chat.LangEN)
	sink := &recordSink{}
	f.alerts.forward(renderTo(b, sink))
	f.failed(1) // raises out_of_stock:qb-100, then order_failed:1
	f.importCards(skuBig, "cards-qb100.txt")
	f.review("600.00") // a later alert: once it is out, any resolved alert before it is too
	sink.waitReply(t, "needs review")
	for _, r := range sink.all() {
		if strings.HasPrefix(r.Text, "✅ Restocked: qb-100") {
			return
		}
	}
	t.Errorf("out_of_stock:qb-100 never resolved; announced: %+v", sink.all())
}

// TestCallbackFailingAlertIsRaisedAndResolved lets the storefront refuse a
// callback for over 24 hours on the engine's clock, then recover.
func TestCallbackFailingAlertIsRaisedAndResolved(t *testing.T) {
	f := newFixture(t)
	b := f.bot(chat.LangEN)
	sink := &recordSink{}
	f.alerts.forward(renderTo(b, sink))
	f.importCards(skuSmall, "cards-qb10.txt")
	f.shop.fail.Store(true)
	o := f.delivered(skuSmall)
	testkit.Eventually(f.t, "first callback attempt", func() bool { return f.shop.hits.Load() >= 1 })

	f.clock.Advance(25 * time.Hour)
	raised := sink.waitReply(t, "have failed")
	if want := "⚠️ Callbacks to storefront shop have failed for over 24 h (order #1): callback answered 500 Internal Server Error"; raised.Text != want {
		t.Errorf("raised = %q\nwant     %q", raised.Text, want)
	}
	f.shop.fail.Store(false)
	// The retry is due on the engine's clock; keep it moving until it is sent.
	resolved := chat.Reply{}
	testkit.Eventually(f.t, "callbacks recover", func() bool {
		f.clock.Advance(time.Minute)
		for _, r := range sink.all() {
			if strings.Contains(r.Text, "work again") {
				resolved = r
				return true
			}
		}
		return false
	})
	if want := "✅ Callbacks to storefront shop work again."; resolved.Text != want {
		t.Errorf("resolved = %q, want %q", resolved.Text, want)
	}
	if got := f.order(o.ID); got.Status != storage.StatusDelivered {
		t.Errorf("order #%d is %s after its callback failed, want delivered", o.ID, got.Status)
	}
}

// TestAlertSinkFailureIsRetriedByTheOutbox: a chat outage loses no alert.
func TestAlertSinkFailureIsRetriedByTheOutbox(t *testing.T) {
	f := newFixture(t)
	b := f.bot("")
	sink := &failSink{}
	sink.fails.Store(1)
	f.alerts.forward(renderTo(b, sink))
	f.review("600.00")
	testkit.Eventually(f.t, "first announcement fails", func() bool { return sink.calls.Load() >= 1 })
	var got chat.Reply
	testkit.Eventually(f.t, "the outbox announces again", func() bool {
		f.clock.Advance(time.Second) // the retry is due on the engine's clock
		if all := sink.all(); len(all) > 0 {
			got = all[0]
			return true
		}
		return false
	})
	if want := "🔍 订单 #1（qb-10）待审核：rule:large-order"; got.Text != want {
		t.Errorf("announced %q, want %q", got.Text, want)
	}
	if n := sink.calls.Load(); n != 2 {
		t.Errorf("sink called %d times, want 2 (one failure, one retry)", n)
	}
	if got := f.alerts.all(); len(got) != 1 || got[0].Key != "review:1" {
		t.Errorf("alerts acknowledged = %+v, want review:1 once", got)
	}
}

// TestEveryAlertKindHasItsRendering: each declared kind has an open form,
// and each kind that resolves has a resolved form of its own, in the
// catalogue of both languages.
func TestEveryAlertKindHasItsRendering(t *testing.T) {
	for _, k := range alert.Kinds() {
		view, ok := alertViews[k]
		if !ok || view.open == nil {
			t.Errorf("alert kind %q has no rendering", k)
			continue
		}
		if alert.Resolves(k) && view.resolved == nil {
			t.Errorf("alert kind %q resolves but has no resolved rendering", k)
		}
		for _, lang := range []string{chat.LangZH, chat.LangEN} {
			al := storage.Alert{Key: string(k) + ":x", Type: k, OrderID: 7, Target: "x", Count: 1, Detail: "d"}
			for _, resolved := range []bool{false, alert.Resolves(k)} {
				al.Resolved = resolved
				r := New(Options{Language: lang}).RenderAlert(al)
				if r.Text == "" || strings.HasPrefix(r.Text, "alert_") || strings.Contains(r.Text, "%!") {
					t.Errorf("%s %q resolved=%v renders %q", lang, k, resolved, r.Text)
				}
			}
		}
	}
	for k := range alertViews {
		if !slices.Contains(alert.Kinds(), k) {
			t.Errorf("rendering of %q, which is no declared kind", k)
		}
	}
}
