package operator

import (
	"fmt"
	"strings"
	"testing"

	"cardflow/bot/chat"
	"cardflow/storage"
)

// authCase is one message or press; the cases of a language run in order
// against one store.
type authCase struct {
	name   string
	from   chat.Identity
	text   string // a command, or
	press  string // a button's data
	prefix string // the reply starts with it
	// audit, when set, must be the newest audit entry (Seq and At aside).
	audit *storage.AuditEntry
	// status, when set, is the order's status afterwards.
	order  *storage.Order
	status storage.Status
	// confirm: the command asks for a confirmation, which the same
	// operator then presses; the checks apply to that press.
	confirm bool
}

func TestOnlyOperatorsActAndEachWithinTheirRole(t *testing.T) {
	for _, lg := range langs {
		t.Run(lg.name, func(t *testing.T) {
			f := newFixture(t)
			f.importCards(skuSmall, "cards-qb10.txt")
			delivered := f.delivered(skuSmall) // #1
			small := f.review("800.00")        // #2, under the refund limit
			atLimit := f.review("1000.00")     // #3, exactly the refund limit
			big := f.review("1500.00")         // #4, over it
			big2 := f.review("1200.00")        // #5, over it
			b := f.bot(lg.lang)
			l := func(zh, en string) string { return tr(lg.lang, zh, en) }
			notOperator := l("抱歉，您不是本店的操作员，无法执行此操作。", "Sorry, you are not an operator of this shop.")
			refused := func(name, platform, action, role string) *storage.AuditEntry {
				return &storage.AuditEntry{Actor: storage.Actor{Name: name, Platform: platform}, Action: action,
					Outcome: "refused", Detail: "role " + role}
			}
			ap := func(o *storage.Order) string { return fmt.Sprintf("o:ap:%d", o.ID) }
			rf := func(o *storage.Order) string { return fmt.Sprintf("o:rf:%d", o.ID) }
			cases := []authCase{
				{
					name: "stranger command", from: strangerID, text: "/order 1", prefix: notOperator,
					audit: refused("unknown:999", "telegram", "/order", "none"),
				},
				{
					name: "stranger approve command", from: strangerID, text: "/approve 2", prefix: notOperator,
					audit: refused("unknown:999", "telegram", "/approve", "none"), order: small, status: storage.StatusReview,
				},
				{
					name: "stranger button", from: strangerID, press: ap(small), prefix: notOperator,
					audit: refused("unknown:999", "telegram", "button:o:ap:2", "none"), order: small, status: storage.StatusReview,
				},
				{
					name: "stranger details button", from: strangerID, press: "o:dt:1", prefix: notOperator,
					audit: refused("unknown:999", "telegram", "button:o:dt:1", "none"),
				},
				{
					name: "stranger using an operator's display name", from: chat.Identity{Platform: "telegram", UserID: "998", Name: "Alice"},
					press: ap(small), prefix: notOperator,
					audit: refused("unknown:998", "telegram", "button:o:ap:2", "none"), order: small, status: storage.StatusReview,
				},
				{
					name: "operator's user id on another platform", from: chat.Identity{Platform: "qq", UserID: "200", Name: "Alice"},
					text: "/approve 2", prefix: notOperator,
					audit: refused("unknown:200", "qq", "/approve", "none"), order: small, status: storage.StatusReview,
				},
				{name: "viewer reads an order", from: viewerID, text: "/order 1", prefix: l("订单 #1 · qb-10", "Order #1 · qb-10")},
				{name: "viewer reads the queues", from: viewerID, text: "/pending", prefix: l("待处理：审核 4 单", "Waiting for a person: 4 in review")},
				{name: "viewer reads stock", from: viewerID, text: "/stock", prefix: l("📦 库存", "📦 Stock")},
				{name: "viewer presses details", from: viewerID, press: "o:dt:2", prefix: l("订单 #2 · qb-10 ×1 · ¥800.00", "Order #2 · qb-10 ×1 · ¥800.00")},
				{
					name: "viewer cannot approve", from: viewerID, text: "/approve 2",
					prefix: l("抱歉，您的角色（viewer）不能执行 /approve。", "Sorry, your role (viewer) cannot /approve."),
					audit:  refused("vera", "telegram", "/approve", "viewer"), order: small, status: storage.StatusReview,
				},
				{
					name: "viewer cannot press approve", from: viewerID, press: ap(small),
					prefix: l("抱歉，您的角色（viewer）不能执行 approve。", "Sorry, your role (viewer) cannot approve."),
					audit:  refused("vera", "telegram", "button:o:ap:2", "viewer"), order: small, status: storage.StatusReview,
				},
				{
					name: "viewer cannot refund", from: viewerID, text: "/refund 2 fraud",
					prefix: l("抱歉，您的角色（viewer）不能执行 /refund。", "Sorry, your role (viewer) cannot /refund."),
					audit:  refused("vera", "telegram", "/refund", "viewer"), order: small, status: storage.StatusReview,
				},
				{
					name: "operator cannot reissue", from: aliceID, text: "/reissue 1",
					prefix: l("抱歉，您的角色（operator）不能执行 /reissue。", "Sorry, your role (operator) cannot /reissue."),
					audit:  refused("alice", "telegram", "/reissue", "operator"), order: delivered, status: storage.StatusDelivered,
				},
				{
					name: "operator cannot refund over the limit", from: aliceID, text: "/refund 4 buyer asked",
					prefix: l("抱歉，您的角色（operator）不能执行 /refund ¥1500.00。", "Sorry, your role (operator) cannot /refund ¥1500.00."),
					audit:  refused("alice", "telegram", "refund 4 over limit", "operator"), order: big, status: storage.StatusReview,
				},
				{
					name: "operator cannot press refund over the limit", from: bobID, press: rf(big2),
					prefix: l("抱歉，您的角色（operator）不能执行 /refund ¥1200.00。", "Sorry, your role (operator) cannot /refund ¥1200.00."),
					audit:  refused("bob", "qq", "refund 5 over limit", "operator"), order: big2, status: storage.StatusReview,
				},
				{
					name: "operator refunds exactly the limit", from: aliceID, text: "/refund 3",
					prefix: l("↩️ 订单 #3 已由 alice 退款。", "↩️ Order #3 refunded by alice."),
					audit:  &storage.AuditEntry{Actor: storage.Actor{Name: "alice", Platform: "telegram"}, Action: "refund", Target: "3", Outcome: "ok"},
					order:  atLimit, status: storage.StatusRefunded,
				},
				{
					name: "admin refunds over the limit", from: adminID, text: "/refund 4 chargeback",
					prefix: l("↩️ 订单 #4 已由 carol 退款。", "↩️ Order #4 refunded by carol."),
					audit: &storage.AuditEntry{Actor: storage.Actor{Name: "carol", Platform: "telegram"}, Action: "refund", Target: "4",
						Outcome: "ok", Detail: "chargeback"},
					order: big, status: storage.StatusRefunded,
				},
				{
					name: "admin presses refund over the limit", from: adminID, press: rf(big2),
					prefix: l("↩️ 订单 #5 已由 carol 退款。", "↩️ Order #5 refunded by carol."),
					order:  big2, status: storage.StatusRefunded,
				},
				{
					name: "operator approves", from: bobID, press: ap(small),
					prefix: l("✅ 订单 #2 已由 bob 批准", "✅ Order #2 approved by bob"),
					audit:  &storage.AuditEntry{Actor: storage.Actor{Name: "bob", Platform: "qq"}, Action: "approve", Target: "2", Outcome: "ok"},
				},
				{
					name: "admin reissues, confirmed", from: adminID, text: "/reissue 1", confirm: true,
					prefix: l("🔄 订单 #1 已由 carol 安排补发新卡密。", "🔄 Order #1: new card keys on the way (by carol)."),
					audit:  &storage.AuditEntry{Actor: storage.Actor{Name: "carol", Platform: "telegram"}, Action: "reissue", Target: "1", Outcome: "ok"},
				},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					f := f.with(t)
					// A minute apart: a stranger refused again within the
					// minute is counted, not audited (strangers_test.go).
					f.clock.Advance(strangerQuiet)
					var r chat.Reply
					if tc.press != "" {
						r = f.press(b, tc.from, tc.press)
					} else {
						r = f.send(b, tc.from, tc.text)
					}
					if tc.confirm {
						r = f.press(b, tc.from, confirmButton(t, r).Data)
					}
					if !strings.HasPrefix(r.Text, tc.prefix) {
						t.Errorf("reply = %q, want prefix %q", r.Text, tc.prefix)
					}
					if tc.audit != nil {
						got := f.audit(1)[0]
						if got.Actor != tc.audit.Actor || got.Action != tc.audit.Action || got.Target != tc.audit.Target ||
							got.Outcome != tc.audit.Outcome || got.Detail != tc.audit.Detail {
							t.Errorf("newest audit entry = %+v, want %+v", got, *tc.audit)
						}
						if !got.At.Equal(f.clock.Now()) {
							t.Errorf("audit time = %v, want the engine clock's %v", got.At, f.clock.Now())
						}
					}
					if tc.order != nil {
						if o := f.order(tc.order.ID); o.Status != tc.status {
							t.Errorf("order #%d is %s, want %s", o.ID, o.Status, tc.status)
						}
					}
				})
			}
		})
	}
}
