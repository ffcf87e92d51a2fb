package operator

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"cardflow/bot/chat"
	"cardflow/internal/testkit"
	"cardflow/storage"
)

// seeded are the orders every command test starts from.
type seeded struct {
	delivered  *storage.Order // #1, card …9901
	delivered2 *storage.Order // #2, card …9902, reissued below
	review     *storage.Order // #3, ¥800.00
	review2    *storage.Order // #4, ¥900.00, refunded below
	failed     *storage.Order // #5, qb-100 out of stock
}

func seed(f *fixture) seeded {
	f.t.Helper()
	f.importCards(skuSmall, "cards-qb10.txt") // six cards
	s := seeded{
		delivered:  f.delivered(skuSmall),
		delivered2: f.delivered(skuSmall),
		review:     f.review("800.00"),
		review2:    f.review("900.00"),
	}
	s.failed = f.failed(1)[0]
	return s
}

// cmdCase is one message to the handler, in order: the cases of a language run
// against one store and build on each other (an approve, then its /order).
type cmdCase struct {
	name    string
	text    string
	prefix  string   // the reply starts with it
	want    []string // the reply contains each
	notWant []string
	buttons []chat.Button // exactly these buttons (nil: none)
	after   func(t *testing.T, f *fixture)
	// confirm: the command asks for a confirmation (a reissue of a
	// delivered order), which is pressed; the checks apply to the press.
	confirm bool
}

func commandCases(s seeded, lang string) []cmdCase {
	l := func(zh, en string) string { return tr(lang, zh, en) }
	id := func(o *storage.Order) string { return fmt.Sprint(o.ID) }
	d, d2, r, r2, fl := s.delivered, s.delivered2, s.review, s.review2, s.failed
	help := []string{l("可用命令", "Commands"), "/order", "/pending", "/approve", "/retry", "/refund", "/reissue", "/stock"}
	deliveredTitle := l("订单 #1 · qb-10 ×1 · ¥10.00", "Order #1 · qb-10 ×1 · ¥10.00")
	var approvedAt string
	return []cmdCase{
		{name: "help", text: "/help", want: help},
		{name: "start is help", text: "/start", want: help},
		{
			name: "order by id", text: "/order " + id(d), prefix: deliveredTitle,
			want: []string{
				l("状态：已发货", "Status: delivered"),
				l("卡密：****9901", "Cards: ****9901"),
				l("商城单号：EXT-1（shop）", "Storefront order: EXT-1 (shop)"),
				l("买家：buyer-7 · wx:lucky7", "Buyer: buyer-7 · wx:lucky7"),
				l("下单：03-14 02:00:00", "Placed: 03-14 02:00:00"),
				l("发货：03-14 02:00:00", "Delivered: 03-14 02:00:00"),
			},
			notWant: []string{"9902", "PW-"},
		},
		{name: "order by external id", text: "/order EXT-1", prefix: deliveredTitle, want: []string{"****9901"}},
		{name: "order with hash", text: "/order #1", prefix: deliveredTitle, want: []string{"****9901"}},
		{name: "upper-case command", text: "/ORDER 1", prefix: deliveredTitle},
		{
			name: "order in review shows its buttons", text: "/order " + id(r),
			prefix: l("订单 #3 · qb-10 ×1 · ¥800.00", "Order #3 · qb-10 ×1 · ¥800.00"),
			want:   []string{l("状态：待审核", "Status: in review"), l("原因：rule:large-order", "Reason: rule:large-order")},
			buttons: []chat.Button{
				{Label: l("批准", "Approve"), Data: "o:ap:3"},
				{Label: l("退款", "Refund"), Data: "o:rf:3:r"},
			},
		},
		{
			name: "failed order shows its buttons", text: "/order " + id(fl),
			prefix: l("订单 #5 · qb-100 ×1 · ¥100.00", "Order #5 · qb-100 ×1 · ¥100.00"),
			want:   []string{l("状态：失败", "Status: failed"), l("原因：out_of_stock", "Reason: out_of_stock")},
			buttons: []chat.Button{
				{Label: l("重试", "Retry"), Data: "o:rt:5"},
				{Label: l("退款", "Refund"), Data: "o:rf:5:f"},
			},
		},
		{name: "order without id", text: "/order", want: []string{l("用法：/order <#id|storefront:external_id|id>", "Usage: /order <#id|storefront:external_id|id>")}},
		{name: "order with two ids", text: "/order 1 2", want: []string{l("用法：", "Usage: ")}},
		{name: "order not found", text: "/order 999", want: []string{l("找不到订单 999。", "No order 999.")}},
		{name: "external id not found", text: "/order NOPE-1", want: []string{l("找不到订单 NOPE-1。", "No order NOPE-1.")}},
		{
			name: "pending lists review and failed", text: "/pending",
			prefix: l("待处理：审核 2 单，失败 1 单", "Waiting for a person: 2 in review, 1 failed"),
			want: []string{
				"#3 qb-10 ×1 ¥800.00 " + l("待审核", "in review") + " · rule:large-order",
				"#4 qb-10 ×1 ¥900.00 " + l("待审核", "in review"),
				"#5 qb-100 ×1 ¥100.00 " + l("失败", "failed") + " · out_of_stock",
			},
			notWant: []string{"#1 ", "#2 "},
			buttons: []chat.Button{{Label: "#3", Data: "o:dt:3"}, {Label: "#4", Data: "o:dt:4"}, {Label: "#5", Data: "o:dt:5"}},
		},
		{
			name: "stock lists every stocked sku", text: "/stock", prefix: l("📦 库存", "📦 Stock"),
			want: []string{l("qb-10 Q币10元：4", "qb-10 Q币10元: 4"), l("qb-100 Q币100元：0（低于 2）", "qb-100 Q币100元: 0 (below 2)")},
		},
		{name: "stock of one sku", text: "/stock qb-10", want: []string{l("qb-10 Q币10元：4", "qb-10 Q币10元: 4")}, notWant: []string{"qb-100"}},
		{name: "stock sku is case-insensitive", text: "/stock QB-100", want: []string{"qb-100 Q币100元"}, notWant: []string{"qb-10 "}},
		{name: "approve without id", text: "/approve", want: []string{l("用法：/approve <#id|storefront:external_id|id>", "Usage: /approve <#id|storefront:external_id|id>")}},
		{name: "approve not found", text: "/approve 999", want: []string{l("找不到订单 999。", "No order 999.")}},
		{
			name: "approve", text: "/approve " + id(r),
			prefix: l("✅ 订单 #3 已由 carol 批准，进入发货队列。", "✅ Order #3 approved by carol; it is on its way."),
			after: func(t *testing.T, f *fixture) {
				approvedAt = f.clock.Now().In(chat.Shanghai()).Format("15:04")
				o := f.waitStatus(r.ID, storage.StatusDelivered)
				if last, _ := o.Last(storage.StatusPending); last.Actor.Name != "carol" || last.Reason != "operator:carol" {
					t.Errorf("approve transition = %+v, want by carol with reason operator:carol", last)
				}
			},
		},
		{
			name: "approve again says what happened", text: "/approve #3",
			prefix: l("订单 #3 当前为「已发货」，已由 carol 于 ", "Order #3 is delivered: already "),
			after: func(t *testing.T, f *fixture) {
				// checked here because approvedAt is only known after the approve
				r := f.send(f.bot(lang), adminID, "/approve 3")
				containsAll(t, "second approve", r.Text, "carol", approvedAt)
			},
		},
		{
			name: "approved order shows the operator in its history", text: "/order 3",
			want: []string{l("状态：已发货", "Status: delivered"), "operator:carol · carol", "****9903"},
		},
		{name: "retry without id", text: "/retry", want: []string{l("用法：/retry <#id|storefront:external_id|id>", "Usage: /retry <#id|storefront:external_id|id>")}},
		{
			name: "retry", text: "/retry " + id(fl),
			prefix: l("🔁 订单 #5 已由 carol 重新提交处理。", "🔁 Order #5 sent back to fulfilment by carol."),
			after: func(t *testing.T, f *fixture) {
				testkit.Eventually(f.t, "order #5 waits for stock again", func() bool { return f.engine.Waiting(skuBig) == 1 })
				if o := f.order(fl.ID); o.Status != storage.StatusPending || o.Reason != "out_of_stock" {
					t.Errorf("retried order is %s/%s, want pending/out_of_stock", o.Status, o.Reason)
				}
			},
		},
		{name: "retry a delivered order", text: "/retry 1", prefix: l("订单 #1 当前为「已发货」，已由 system 于 ", "Order #1 is delivered: already delivered by system at ")},
		{name: "refund without id", text: "/refund", want: []string{l("用法：/refund <#id|storefront:external_id|id> [reason]", "Usage: /refund <#id|storefront:external_id|id> [reason]")}},
		{name: "refund not found", text: "/refund 999 gone", want: []string{l("找不到订单 999。", "No order 999.")}},
		{
			name: "refund with a reason", text: "/refund " + id(r2) + " buyer asked   twice",
			prefix: l("↩️ 订单 #4 已由 carol 退款。", "↩️ Order #4 refunded by carol."),
			after: func(t *testing.T, f *fixture) {
				if o := f.order(r2.ID); o.Status != storage.StatusRefunded {
					t.Errorf("order #4 is %s, want refunded", o.Status)
				}
				got := f.audit(1)[0]
				want := storage.AuditEntry{Actor: storage.Actor{Name: "carol", Platform: "telegram"}, Action: "refund",
					Target: "4", Outcome: "ok", Detail: "buyer asked twice"}
				if got.Actor != want.Actor || got.Action != want.Action || got.Target != want.Target ||
					got.Outcome != want.Outcome || got.Detail != want.Detail {
					t.Errorf("audit = %+v, want %+v", got, want)
				}
			},
		},
		{name: "reissue without id", text: "/reissue", want: []string{l("用法：/reissue <#id|storefront:external_id|id>", "Usage: /reissue <#id|storefront:external_id|id>")}},
		{name: "reissue with extra words", text: "/reissue 2 now", want: []string{l("用法：/reissue <#id|storefront:external_id|id>", "Usage: /reissue <#id|storefront:external_id|id>")}},
		{
			name: "reissue", text: "/reissue " + id(d2), confirm: true,
			prefix: l("🔄 订单 #2 已由 carol 安排补发新卡密。", "🔄 Order #2: new card keys on the way (by carol)."),
			after:  func(_ *testing.T, f *fixture) { f.waitStatus(d2.ID, storage.StatusDelivered) },
		},
		{name: "reissued order shows only its new card", text: "/order 2", want: []string{"****9904"}, notWant: []string{"9902"}},
		{
			name: "stock after the day's work", text: "/stock",
			want: []string{
				l("qb-10 Q币10元：2（低于 3）", "qb-10 Q币10元: 2 (below 3)"),
				l("qb-100 Q币100元：0（低于 2），1 单等待补货", "qb-100 Q币100元: 0 (below 2), 1 orders waiting"),
			},
		},
		{
			name: "pending after the day's work", text: "/pending",
			want: []string{l("没有待处理的订单。🎉", "Nothing is waiting for a person. 🎉")},
		},
		{name: "unknown command", text: "/frobnicate now", want: []string{l("未知命令 /frobnicate，发送 /help 查看可用命令。", "Unknown command /frobnicate; send /help for the list.")}},
		{name: "unknown unicode command", text: "/退款 3", want: []string{l("未知命令 /退款", "Unknown command /退款")}},
	}
}

func TestCommandsAnswerInTheOperatorsLanguage(t *testing.T) {
	for _, lg := range langs {
		t.Run(lg.name, func(t *testing.T) {
			f := newFixture(t)
			s := seed(f)
			b := f.bot(lg.lang)
			for _, tc := range commandCases(s, lg.lang) {
				ok := t.Run(tc.name, func(t *testing.T) {
					f := f.with(t)
					r := f.send(b, adminID, tc.text)
					if tc.confirm {
						containsAll(t, tc.text, r.Text, "EXT-2", "¥10.00")
						r = f.press(b, adminID, confirmButton(t, r).Data)
					}
					if tc.prefix != "" && !strings.HasPrefix(r.Text, tc.prefix) {
						t.Errorf("%s: want prefix %q in:\n%s", tc.text, tc.prefix, r.Text)
					}
					containsAll(t, tc.text, r.Text, tc.want...)
					containsNone(t, tc.text, r.Text, tc.notWant...)
					if !slices.Equal(r.Buttons, tc.buttons) {
						t.Errorf("%s: buttons = %q, want %q", tc.text, r.Buttons, tc.buttons)
					}
					if tc.after != nil {
						tc.after(t, f)
					}
				})
				if !ok {
					return // later cases build on this one
				}
			}
		})
	}
}

func TestOrderRepliesNeverShowAFullCard(t *testing.T) {
	f := newFixture(t)
	f.importCards(skuSmall, "cards-qb10.txt")
	f.importCards(skuBig, "cards-qb100.txt")
	var ids []uint64
	for range 2 { // qb-100 has two cards
		ids = append(ids, f.delivered(skuSmall).ID, f.delivered(skuBig).ID)
	}
	for _, lg := range langs {
		b := f.bot(lg.lang)
		for _, id := range ids {
			for _, text := range []string{fmt.Sprintf("/order %d", id), fmt.Sprintf("/order EXT-%d", id)} {
				r := f.send(b, adminID, text) // send fails on any card number or password
				if !strings.Contains(r.Text, "****") {
					t.Errorf("%s (%s): no masked card in:\n%s", text, lg.name, r.Text)
				}
			}
		}
	}
	// The masked form is exactly the last four characters.
	r := f.send(f.bot(""), adminID, "/order 2")
	containsAll(t, "/order 2", r.Text, "卡密：****0001")
	containsNone(t, "/order 2", r.Text, "QB100", "ZX93", "4471", "SEC-")
}

func TestPendingShowsTenOfEachQueueAndCountsTheRest(t *testing.T) {
	f := newFixture(t)
	for range 12 {
		f.review("600.00")
	}
	for _, lg := range langs {
		t.Run(lg.name, func(t *testing.T) {
			r := f.send(f.bot(lg.lang), viewerID, "/pending")
			containsAll(t, "/pending", r.Text,
				tr(lg.lang, "待处理：审核 12 单，失败 0 单", "Waiting for a person: 12 in review, 0 failed"),
				"#1 qb-10", "#10 qb-10",
				tr(lg.lang, "…另有 2 单", "…and 2 more"))
			containsNone(t, "/pending", r.Text, "#11 ", "#12 ")
			if len(r.Buttons) != 10 || r.Buttons[0].Data != "o:dt:1" || r.Buttons[9].Data != "o:dt:10" {
				t.Errorf("buttons = %q, want details of #1..#10", buttonData(r))
			}
		})
	}
}

func TestStockWarnsOnlyBelowTheLowStockLevel(t *testing.T) {
	f := newFixture(t)
	f.importCards(skuSmall, "cards-qb10.txt") // six cards; low_stock is 3
	b := f.bot(chat.LangEN)
	for _, tt := range []struct {
		deliver int
		line    string
	}{
		{0, "qb-10 Q币10元: 6\n"},
		{3, "qb-10 Q币10元: 3\n"},
		{1, "qb-10 Q币10元: 2 (below 3)\n"},
	} {
		for range tt.deliver {
			f.delivered(skuSmall)
		}
		r := f.send(b, viewerID, "/stock")
		containsAll(t, "/stock", r.Text+"\n", tt.line, "qb-100 Q币100元: 0 (below 2)")
	}
}

func TestStockOfAnUnknownSKUSaysSo(t *testing.T) {
	f := newFixture(t)
	r := f.send(f.bot(chat.LangEN), viewerID, "/stock nosuch")
	containsAll(t, "/stock nosuch", r.Text, "nosuch")
}
