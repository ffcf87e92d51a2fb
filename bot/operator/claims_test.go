package operator

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"cardflow/bot/chat"

	"cardflow/processor"
	"cardflow/storage"
)

// TestAClaimPromptIsResolvedOnceFromItsButtons: a claim's prompt names the
// order, SKU, quantity, reason and count of cards, the buyer's words, the
// supplier and the buyer's claim history; Reissue is for admins; Reject
// asks for the reason and rejects nothing; "/reject <order> <reason>"
// rejects it and says who; a later press of Refund, or a second /reject,
// says it was resolved already, by whom, and changes nothing; the typed
// /claim resolves the next claim, whose prompt counts the first.
func TestAClaimPromptIsResolvedOnceFromItsButtons(t *testing.T) {
	for _, lg := range langs {
		t.Run(lg.name, func(t *testing.T) {
			l := func(zh, en string) string { return tr(lg.lang, zh, en) }
			f := newFixture(t)
			f.importCards(skuSmall, "cards-qb10.txt")
			b := f.bot(lg.lang)
			sink := &recordSink{}
			f.alerts.forward(renderTo(b, sink))
			o := f.delivered(skuSmall)
			cl, _, err := f.engine.OpenClaim(storefront, o.ID, processor.ClaimRequest{Reason: processor.ClaimCardInvalid, Message: "提示已使用",
				Cards: []string{f.cardNumber(o, 0)}})
			if err != nil {
				t.Fatal(err)
			}
			prompt := sink.waitReply(t, fmt.Sprintf("#%d", o.ID))
			containsAll(t, "claim prompt", prompt.Text, l("🧾 售后：订单 #1 · qb-10 ×1 · 卡密无效（1 张）\n买家留言：提示已使用\n卡密来源：own #1\n该买家此前无售后",
				"🧾 Claim: order #1 · qb-10 ×1 · card invalid (1 cards)\nBuyer says: 提示已使用\nCards from: own #1\nThis buyer made no claim before"))
			reissue, refund, reject := findButton(t, prompt, "k:ri:1"), findButton(t, prompt, "k:rf:1"), findButton(t, prompt, "k:rj:1")
			if reissue.Label != l("补发", "Reissue") || refund.Label != l("退款", "Refund") || reject.Label != l("驳回", "Reject") {
				t.Errorf("labels %q %q %q", reissue.Label, refund.Label, reject.Label)
			}

			r := f.press(b, aliceID, reissue.Data)
			containsAll(t, "reissue by an operator", r.Text, "operator")
			r = f.press(b, aliceID, reject.Data)
			if want := l("驳回售后需要写明理由（会告知商城），请发送：\n/reject 1 <理由>",
				"A rejection needs a reason (the storefront hears it); send:\n/reject 1 <reason>"); r.Text != want || r.Replace {
				t.Errorf("reject press = %q (replace %v), want %q, the prompt kept", r.Text, r.Replace, want)
			}
			if got, _ := f.engine.ClaimByID(cl.ID); got.Status != storage.ClaimOpen {
				t.Fatalf("the Reject button resolved the claim without a reason: %+v", got)
			}
			r = f.send(b, aliceID, "/reject 1 已核实可用")
			if want := l("✅ 售后 #1（订单 #1）已由 alice 驳回。", "✅ Claim #1 (order #1) rejected by alice."); r.Text != want {
				t.Errorf("/reject = %q, want %q", r.Text, want)
			}
			sink.waitReply(t, l("已由 alice 处理：驳回", "resolved by alice: rejected"))
			r = f.press(b, bobID, refund.Data)
			containsAll(t, "second press", r.Text, l("售后 #1 已由 alice", "Claim #1 was already resolved by alice"), l("驳回", "rejected"))
			r = f.send(b, bobID, "/reject #1 不对")
			containsAll(t, "second /reject", r.Text, l("售后 #1 已由 alice", "Claim #1 was already resolved by alice"), l("驳回", "rejected"))
			if r = f.press(b, bobID, reject.Data); !r.Replace || !strings.Contains(r.Text, l("已由 alice", "already resolved by alice")) {
				t.Errorf("Reject pressed on a resolved claim = %q (replace %v)", r.Text, r.Replace)
			}
			if got := f.order(o.ID); got.Status != storage.StatusDelivered {
				t.Errorf("a stale Refund press moved the order to %s", got.Status)
			}
			if got, _ := f.engine.ClaimByID(cl.ID); got.Status != storage.ClaimRejected || got.ResolvedBy.Name != "alice" || got.Note != "已核实可用" {
				t.Errorf("claim = %+v", got)
			}

			cl2, _, err := f.engine.OpenClaim(storefront, o.ID, processor.ClaimRequest{Reason: processor.ClaimNotReceived})
			if err != nil {
				t.Fatal(err)
			}
			prompt = sink.waitReply(t, l("未到账", "not received"))
			containsAll(t, "second prompt", prompt.Text, l("未到账（未指明卡密）", "not received (no card named)"),
				l("该买家此前售后 1 次", "This buyer's earlier claims: 1"))
			r = f.send(b, adminID, fmt.Sprintf("/claim %d reissue 换卡", cl2.ID))
			containsAll(t, "/claim reissue", r.Text, l("已由 carol 补发", "reissued by carol"))
			if got, _ := f.engine.ClaimByID(cl2.ID); got.Status != storage.ClaimReissued || got.Note != "换卡" {
				t.Errorf("claim after /claim = %+v", got)
			}
			containsAll(t, "/claim on nothing", f.send(b, adminID, "/claim 99 reject 理由").Text, "99")
			containsAll(t, "/claim malformed", f.send(b, adminID, "/claim 1 destroy").Text, "/claim <claim>")
		})
	}
}

// cardNumber is the number of the order's i-th card.
func (f *fixture) cardNumber(o *storage.Order, i int) string {
	f.t.Helper()
	cards, err := f.engine.Vault().OpenAll(o.Cards)
	if err != nil || len(cards) <= i {
		f.t.Fatalf("open the cards of order #%d: %d cards, %v", o.ID, len(cards), err)
	}
	return cards[i].Number
}

// claimOn opens a claim on a delivered order.
func (f *fixture) claimOn(o *storage.Order, reason, message string) *storage.Claim {
	f.t.Helper()
	cl, _, err := f.engine.OpenClaim(storefront, o.ID, processor.ClaimRequest{Reason: reason, Message: message})
	if err != nil {
		f.t.Fatalf("claim on #%d: %v", o.ID, err)
	}
	return cl
}

// TestClaimsListsTheOpenClaimsOldestFirst: /claims, for viewers too, lists
// each open claim with its order, SKU and quantity, reason and cards, age,
// claim id and the buyer's message on one line, cut at 40 characters; a
// Details button per order; resolved claims leave the list; none open
// says so; a stranger learns nothing.
func TestClaimsListsTheOpenClaimsOldestFirst(t *testing.T) {
	for _, lg := range langs {
		t.Run(lg.name, func(t *testing.T) {
			l := func(zh, en string) string { return tr(lg.lang, zh, en) }
			f := newFixture(t)
			f.importCards(skuSmall, "cards-qb10.txt")
			b := f.bot(lg.lang)
			if r := f.send(b, viewerID, "/claims"); r.Text != l("没有待处理的售后。", "No open claims.") {
				t.Errorf("/claims with none = %q", r.Text)
			}
			first, second := f.delivered(skuSmall), f.delivered(skuSmall)
			f.claimOn(first, processor.ClaimCardInvalid, "提示已使用\n第二行")
			f.clock.Advance(30 * time.Minute)
			long := strings.Repeat("长", 45)
			f.claimOn(second, processor.ClaimWrongItem, long)
			f.clock.Advance(30 * time.Minute)

			r := f.send(b, viewerID, "/claims")
			want := l("🧾 待处理售后 2 件（最早的在前）：\n"+
				"#1 qb-10 ×1 · 卡密无效（未指明卡密） · 1.0h前 · 售后 1 · 买家：提示已使用 第二行\n"+
				"#2 qb-10 ×1 · 商品不符（未指明卡密） · 30.0min前 · 售后 2 · 买家："+strings.Repeat("长", 40)+"…\n"+
				"处理：/claim <售后号> reissue|refund，驳回：/reject <单号> <理由>",
				"🧾 2 open claims, oldest first:\n"+
					"#1 qb-10 ×1 · card invalid (no card named) · 1.0h ago · claim 1 · buyer: 提示已使用 第二行\n"+
					"#2 qb-10 ×1 · wrong item (no card named) · 30.0min ago · claim 2 · buyer: "+strings.Repeat("长", 40)+"…\n"+
					"Resolve: /claim <claim> reissue|refund; reject: /reject <order> <reason>")
			if r.Text != want {
				t.Errorf("/claims =\n%s\nwant\n%s", r.Text, want)
			}
			if got := buttonData(r); !slices.Equal(got, []string{"o:dt:1", "o:dt:2"}) {
				t.Errorf("/claims buttons = %q", got)
			}

			f.send(b, aliceID, "/reject 1 已核实可用")
			r = f.send(b, viewerID, "/claims")
			containsAll(t, "/claims after a rejection", r.Text, l("待处理售后 1 件", "1 open claims"), "#2 ")
			containsNone(t, "/claims after a rejection", r.Text, "#1 ")
			f.send(b, aliceID, "/claim 2 refund")
			if r = f.send(b, aliceID, "/claims"); r.Text != l("没有待处理的售后。", "No open claims.") {
				t.Errorf("/claims with all resolved = %q", r.Text)
			}
			if r = f.send(b, strangerID, "/claims"); r.Text != chat.T(lg.lang, "not_operator") {
				t.Errorf("/claims by a stranger = %q", r.Text)
			}
		})
	}
}

// TestRejectNeedsAReasonAnOpenClaimAndAnOperator tries the bad ways to
// reject: no order, no reason, an unknown order, an order without claims,
// a viewer, a reason over 500 characters, /claim reject without a reason,
// a malformed claim id. None rejects anything; the one good /reject is
// audited with its reason, the viewer's refusal too.
func TestRejectNeedsAReasonAnOpenClaimAndAnOperator(t *testing.T) {
	for _, lg := range langs {
		t.Run(lg.name, func(t *testing.T) {
			l := func(zh, en string) string { return tr(lg.lang, zh, en) }
			f := newFixture(t)
			f.importCards(skuSmall, "cards-qb10.txt")
			b := f.bot(lg.lang)
			o, _ := f.delivered(skuSmall), f.delivered(skuSmall) // #2 has no claim
			cl := f.claimOn(o, processor.ClaimCardInvalid, "")
			reason := l("驳回售后需要写明理由（会告知商城），请发送：\n%s <理由>", "A rejection needs a reason (the storefront hears it); send:\n%s <reason>")
			for _, tc := range []struct{ who, text, want string }{
				{"alice", "/reject", l("用法：", "Usage: ") + "/reject " + orderUsage + " <reason>"},
				{"alice", "/reject 1", fmt.Sprintf(reason, "/reject 1")},
				{"alice", "/reject shop:EXT-1", fmt.Sprintf(reason, "/reject 1")},
				{"alice", "/reject 99 已核实可用", l("找不到订单 99。", "No order 99.")},
				{"alice", "/reject 2 已核实可用", l("订单 #2 没有售后。", "Order #2 has no claim.")},
				{"alice", "/reject 2", l("订单 #2 没有售后。", "Order #2 has no claim.")},
				{"vera", "/reject 1 已核实可用", l("抱歉，您的角色（viewer）不能执行 /reject。", "Sorry, your role (viewer) cannot /reject.")},
				{"alice", "/reject 1 " + strings.Repeat("长", 501), l("备注至多 500 字，且不能含控制字符（is 501 characters; at most 500），未处理。",
					"A note is at most 500 characters of plain text (is 501 characters; at most 500); nothing was done.")},
				{"alice", "/claim 1 reject", fmt.Sprintf(reason, "/claim 1 reject")},
				{"alice", "/claim 1 REJECT", fmt.Sprintf(reason, "/claim 1 reject")},
				{"alice", "/claim x reject 理由", l("用法：", "Usage: ") + "/claim <claim> <reissue|refund|reject> [note]"},
				{"alice", "/claim 0 reject 理由", l("用法：", "Usage: ") + "/claim <claim> <reissue|refund|reject> [note]"},
				{"alice", "/claim 1 reissue", l("抱歉，您的角色（operator）不能执行 /claim reissue。", "Sorry, your role (operator) cannot /claim reissue.")},
			} {
				who := map[string]chat.Identity{"alice": aliceID, "vera": viewerID}[tc.who]
				if r := f.send(b, who, tc.text); !strings.Contains(r.Text, tc.want) {
					t.Errorf("%s typed %q: %q, want %q in it", tc.who, tc.text, r.Text, tc.want)
				}
				if got, _ := f.engine.ClaimByID(cl.ID); got.Status != storage.ClaimOpen {
					t.Fatalf("%s typed %q and the claim is %s", tc.who, tc.text, got.Status)
				}
			}
			r := f.send(b, bobID, "/reject #1 已核实可用，卡密已被买家本人使用")
			containsAll(t, "/reject", r.Text, l("已由 bob 驳回", "rejected by bob"))
			var rejected, refused bool
			for _, e := range f.audit(20) {
				rejected = rejected || e.Action == "claim.reject" && e.Actor.Name == "bob" && e.Outcome == "ok" &&
					strings.Contains(e.Detail, "已核实可用，卡密已被买家本人使用")
				refused = refused || e.Action == "/reject" && e.Actor.Name == "vera" && e.Outcome == "refused"
			}
			if !rejected || !refused {
				t.Errorf("audit: bob's rejection %v, vera's refusal %v:\n%+v", rejected, refused, f.audit(20))
			}
		})
	}
}

// TestOrderShowsItsClaims: /order and the Details button list the order's
// claims, oldest first, with status, reason, who resolved each and their
// note, and the open claim's buttons; an order without claims shows none.
func TestOrderShowsItsClaims(t *testing.T) {
	for _, lg := range langs {
		t.Run(lg.name, func(t *testing.T) {
			l := func(zh, en string) string { return tr(lg.lang, zh, en) }
			f := newFixture(t)
			f.importCards(skuSmall, "cards-qb10.txt")
			b := f.bot(lg.lang)
			o, plain := f.delivered(skuSmall), f.delivered(skuSmall)
			f.claimOn(o, processor.ClaimCardInvalid, "")
			f.send(b, aliceID, "/reject 1 已核实可用")
			f.clock.Advance(time.Hour)
			f.claimOn(o, processor.ClaimNotReceived, "")
			for _, r := range []chat.Reply{f.send(b, viewerID, "/order 1"), f.press(b, viewerID, "o:dt:1")} {
				containsAll(t, "/order with claims", r.Text, l("\n售后：\n"+
					"  售后 1 · 已驳回 · 卡密无效（未指明卡密） · 03-14 02:00:00 · alice 于 03-14 02:00:00 处理 · 备注：已核实可用\n"+
					"  售后 2 · 待处理 · 未到账（未指明卡密） · 03-14 03:00:00",
					"\nClaims:\n"+
						"  claim 1 · rejected · card invalid (no card named) · 03-14 02:00:00 · by alice at 03-14 02:00:00 · note: 已核实可用\n"+
						"  claim 2 · open · not received (no card named) · 03-14 03:00:00"))
				if got := buttonData(r); !slices.Equal(got, []string{"k:ri:2", "k:rf:2", "k:rj:2"}) {
					t.Errorf("/order buttons = %q, want the open claim's", got)
				}
			}
			r := f.send(b, viewerID, fmt.Sprintf("/order %d", plain.ID))
			containsNone(t, "/order without claims", r.Text, l("售后", "Claim"))
			if len(r.Buttons) != 0 {
				t.Errorf("/order of a delivered order without claims has buttons %q", buttonData(r))
			}
		})
	}
}
