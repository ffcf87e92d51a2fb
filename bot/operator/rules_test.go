package operator

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"cardflow/alert"
	"cardflow/bot/chat"
	"cardflow/config"
	"cardflow/internal/testkit"
	"cardflow/rules"
	"cardflow/storage"
)

func TestRulesCommandsListTryAndChangeRules(t *testing.T) {
	f := newFixture(t)
	book, err := rules.New(f.store, config.DefaultRules(), chat.Shanghai(), f.clock.Now, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	b := New(Options{Orders: f.engine, Reports: f.reports(), Bindings: f.bindings(), Silences: f.silences(), Rules: book, Auth: operators, RefundLimit: refundLimit, Log: zerolog.Nop()})
	f.importCards(skuSmall, "cards-qb10.txt")
	for _, amount := range []string{"10.00", "20.00", "30.00"} {
		f.submit(skuSmall, amount)
	}

	list := f.send(b, viewerID, "/rules").Text
	containsAll(t, "/rules", list, "📏 规则", "1. large-order：order.amount > 500 → 人工审核 · 0 / 0",
		"2. buyer-velocity：buyer.orders_1h >= 5 → 人工审核")

	containsAll(t, "/rules test", f.send(b, aliceID, "/rules test order.amount >= 20").Text,
		"最近 7 天 3 单中，有 2 单会命中", "例如：#3 #2")
	containsAll(t, "/rules test of a typo", f.send(b, aliceID, "/rules test order.amout > 1").Text,
		"规则无效", "order has no field amout")
	containsAll(t, "/rules test of an unbounded expression", f.send(b, aliceID, `/rules test len(repeat("x", 999999)) > 0`).Text,
		"规则无效", "repeat() is not available")
	containsAll(t, "/rules set of an unbounded expression", f.send(b, adminID, "/rules set glue review buyer.contact matches buyer.id").Text,
		"规则无效", "glue", "matches needs a constant pattern")

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

	en := New(Options{Orders: f.engine, Reports: f.reports(), Bindings: f.bindings(), Silences: f.silences(), Rules: book, Auth: operators, Language: chat.LangEN, Log: zerolog.Nop()})
	containsAll(t, "/rules in English", f.send(en, viewerID, "/rules").Text, "📏 Rules (hits: today / 7 days)",
		"night: now.hour < 6 && order.amount > 200 → refund", "(off) (changed by carol at")

	noRules := f.bot("")
	containsAll(t, "/rules without a rule engine", f.send(noRules, viewerID, "/rules").Text, "没有启用规则引擎")
}

// TestRulesTestIsForOperatorsAndARefusalIsAudited: trying an expression
// costs the service work, so a viewer may list rules but not try one.
func TestRulesTestIsForOperatorsAndARefusalIsAudited(t *testing.T) {
	f := newFixture(t)
	book, err := rules.New(f.store, config.DefaultRules(), chat.Shanghai(), f.clock.Now, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	b := New(Options{Orders: f.engine, Reports: f.reports(), Bindings: f.bindings(), Silences: f.silences(), Rules: book, Auth: operators, RefundLimit: refundLimit, Log: zerolog.Nop()})
	containsAll(t, "/rules by a viewer", f.send(b, viewerID, "/rules").Text, "1. large-order")
	r := f.send(b, viewerID, "/rules test order.amount > 1").Text
	containsAll(t, "/rules test by a viewer", r, "抱歉，您的角色（viewer）不能执行 /rules test")
	containsNone(t, "/rules test by a viewer", r, "最近 7 天")
	audit, err := f.engine.AuditLog(1)
	if err != nil {
		t.Fatal(err)
	}
	if len(audit) != 1 || audit[0].Action != "/rules test" || audit[0].Outcome != "refused" || audit[0].Actor.Name != "vera" {
		t.Fatalf("audit = %+v", audit)
	}
	containsAll(t, "/rules test by an operator", f.send(b, aliceID, "/rules test order.amount > 1").Text, "最近 7 天 0 单中")
}

// holdingClock stops its first caller until released (it holds a /rules
// test at its start); later callers pass.
type holdingClock struct {
	at       time.Time
	calls    atomic.Int32
	entered  chan struct{}
	released chan struct{}
}

func (c *holdingClock) Now() time.Time {
	if c.calls.Add(1) == 1 {
		close(c.entered)
		<-c.released
	}
	return c.at
}

func TestASecondRulesTestWhileOneRunsIsAnsweredThatOneIsRunning(t *testing.T) {
	f := newFixture(t)
	clock := &holdingClock{at: t0(), entered: make(chan struct{}), released: make(chan struct{})}
	book, err := rules.New(f.store, nil, chat.Shanghai(), clock.Now, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	zh := New(Options{Orders: f.engine, Reports: f.reports(), Bindings: f.bindings(), Silences: f.silences(), Rules: book, Auth: operators, Log: zerolog.Nop()})
	en := New(Options{Orders: f.engine, Reports: f.reports(), Bindings: f.bindings(), Silences: f.silences(), Rules: book, Auth: operators, Language: chat.LangEN, Log: zerolog.Nop()})
	first := make(chan chat.Reply)
	go func() {
		r, _ := zh.Handle(t.Context(), chat.Message{From: aliceID, Text: "/rules test order.amount > 1"})
		first <- r
	}()
	<-clock.entered
	containsAll(t, "a second /rules test", f.send(zh, adminID, "/rules test order.amount > 2").Text, "已有一个规则测试正在运行")
	containsAll(t, "a second /rules test in English", f.send(en, adminID, "/rules test order.amount > 2").Text,
		"A test is already running")
	close(clock.released)
	select {
	case r := <-first:
		containsAll(t, "the first /rules test", r.Text, "最近 7 天 0 单中")
	case <-time.After(10 * time.Second):
		t.Fatal("the first /rules test did not end")
	}
	containsAll(t, "a /rules test after the first", f.send(zh, adminID, "/rules test order.amount > 2").Text, "最近 7 天 0 单中")
}

// TestRulesTestSaysWhenItsResultIsPartial runs a test whose clock finds a
// minute gone at every look: it stops after its first chunk and says so.
func TestRulesTestSaysWhenItsResultIsPartial(t *testing.T) {
	f := newFixture(t)
	const n = 1200
	err := f.store.Update(func(tx *storage.Tx) error {
		for i := range n {
			o := &storage.Order{ExternalID: fmt.Sprintf("P%d", i), Storefront: storefront, SKU: skuSmall, Quantity: 1, Amount: 1000,
				CreatedAt: t0().Add(-time.Duration(n-i) * time.Second)}
			o.Move(storage.StatusPending, "", storage.System, o.CreatedAt)
			if err := tx.CreateOrder(o); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	clock := testkit.NewClock(t0())
	everyReadAMinuteLater := func() time.Time { return clock.Advance(time.Minute) }
	book, err := rules.New(f.store, nil, chat.Shanghai(), everyReadAMinuteLater, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	zh := New(Options{Orders: f.engine, Reports: f.reports(), Bindings: f.bindings(), Silences: f.silences(), Rules: book, Auth: operators, Log: zerolog.Nop()})
	containsAll(t, "a test over its time limit", f.send(zh, aliceID, "/rules test order.amount > 5").Text,
		"最近 7 天 500 单中，有 500 单会命中", "测试超过 10s 时限已停止，以上只是部分结果")
	en := New(Options{Orders: f.engine, Reports: f.reports(), Bindings: f.bindings(), Silences: f.silences(), Rules: book, Auth: operators, Language: chat.LangEN, Log: zerolog.Nop()})
	containsAll(t, "a test over its time limit in English", f.send(en, aliceID, "/rules test order.amount > 5").Text,
		"The test stopped at its 10s time limit: this is a partial result")
	// A cap reached is said the same way.
	containsAll(t, "a capped test", zh.testReply(rules.TestResult{Orders: 20000, Matched: 3, Capped: true}).Text,
		"最近 7 天 20000 单中，有 3 单会命中", "7 天内订单超过 20000 单，只试了最近的 20000 单")
	containsAll(t, "a capped test in English", en.testReply(rules.TestResult{Orders: 20000, Matched: 3, Capped: true}).Text,
		"only the newest 20000 of the last 7 days' orders were tried")
}

func TestARuleSwitchedOffForItsCostIsAnAlertInChineseAndEnglish(t *testing.T) {
	f := newFixture(t)
	zh, en := f.bot(""), f.bot(chat.LangEN)
	raised := storage.Alert{Key: "rule_off:night", Type: alert.RuleOff, Target: "night", OrderID: 42, Detail: "took 3.2ms, limit 1ms"}
	containsAll(t, "zh", zh.RenderAlert(raised).Text, "⚠️ 规则 night 在订单 #42 上超出限额（took 3.2ms, limit 1ms），已自动关闭",
		"/rules test", "/rules set")
	containsAll(t, "en", en.RenderAlert(raised).Text, "⚠️ Rule night went over its limits on order #42 (took 3.2ms, limit 1ms) and is switched off",
		"/rules test", "/rules set")
	stored := storage.Alert{Key: "rule_off:glue", Type: alert.RuleOff, Target: "glue", Detail: "matches needs a constant pattern"}
	containsAll(t, "zh, a stored rule", zh.RenderAlert(stored).Text, "⚠️ 规则 glue 超出限额（matches needs a constant pattern），已停用")
	containsAll(t, "en, a stored rule", en.RenderAlert(stored).Text, "⚠️ Rule glue is over its limits (matches needs a constant pattern) and is off")
	resolved := storage.Alert{Key: "rule_off:night", Type: alert.RuleOff, Target: "night", Resolved: true}
	containsAll(t, "zh resolved", zh.RenderAlert(resolved).Text, "✅ 规则 night 已重新设置")
	containsAll(t, "en resolved", en.RenderAlert(resolved).Text, "✅ Rule night was set again")
}
