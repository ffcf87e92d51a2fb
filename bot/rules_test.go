package bot

import (
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"cardflow/config"
	"cardflow/processor/rules"
)

func TestRulesCommandsListTryAndChangeRules(t *testing.T) {
	f := newFixture(t)
	book, err := rules.New(f.store, config.DefaultRules(), Shanghai(), f.clock.Now, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	b := New(Options{Engine: f.engine, Rules: book, Auth: operators, RefundLimit: refundLimit, Log: zerolog.Nop()})
	f.importCards(skuSmall, "cards-qb10.txt")
	for _, amount := range []string{"10.00", "20.00", "30.00"} {
		f.submit(skuSmall, amount)
	}

	list := f.send(b, viewerID, "/rules").Text
	containsAll(t, "/rules", list, "📏 规则", "1. large-order：order.amount > 500 → 人工审核 · 0 / 0",
		"2. buyer-velocity：buyer.orders_1h >= 5 → 人工审核")

	containsAll(t, "/rules test", f.send(b, viewerID, "/rules test order.amount >= 20").Text,
		"最近 7 天 3 单中，有 2 单会命中", "例如：#3 #2")
	containsAll(t, "/rules test of a typo", f.send(b, viewerID, "/rules test order.amout > 1").Text,
		"规则无效", "order has no field amout")

	if r := f.send(b, aliceID, "/rules set night refund now.hour < 6"); !strings.Contains(r.Text, "不能执行 /rules set") {
		t.Fatalf("an operator changed a rule: %q", r.Text)
	}
	containsAll(t, "/rules set", f.send(b, adminID, "/rules set night refund now.hour < 6 && order.amount > 200").Text,
		"✅ 规则 night 已保存")
	containsAll(t, "/rules set with a bad action", f.send(b, adminID, "/rules set x block true").Text, "规则无效")
	containsAll(t, "/rules off", f.send(b, adminID, "/rules off buyer-velocity").Text, "✅ 规则 buyer-velocity 已保存")
	containsAll(t, "/rules off of an unknown rule", f.send(b, adminID, "/rules off nosuch").Text, "没有名为 nosuch 的规则")
	containsAll(t, "/rules set without enough words", f.send(b, adminID, "/rules set night").Text, "用法：/rules set")

	list = f.send(b, viewerID, "/rules").Text
	containsAll(t, "/rules after changes", list, "buyer-velocity：buyer.orders_1h >= 5 → 人工审核 · 0 / 0（已关闭）（carol 于",
		"3. night：now.hour < 6 && order.amount > 200 → 拒单退款")

	en := New(Options{Engine: f.engine, Rules: book, Auth: operators, Language: LangEN, Log: zerolog.Nop()})
	containsAll(t, "/rules in English", f.send(en, viewerID, "/rules").Text, "📏 Rules (hits: today / 7 days)",
		"night: now.hour < 6 && order.amount > 200 → refund", "(off) (changed by carol at")

	noRules := f.bot("")
	containsAll(t, "/rules without a rule engine", f.send(noRules, viewerID, "/rules").Text, "没有启用规则引擎")
}
