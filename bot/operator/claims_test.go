package operator

import (
	"fmt"
	"testing"

	"cardflow/processor"
	"cardflow/storage"
)

// TestAClaimPromptIsResolvedOnceFromItsButtons: a claim's prompt names the
// order, SKU, quantity, reason and count of cards, the buyer's words and the
// supplier; Reissue is for admins; Reject by an operator resolves it and
// says who; a later press of Refund says it was resolved already, by whom,
// and refunds nothing; the typed /claim resolves the next claim.
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
			cl, _, err := f.engine.OpenClaim(storefront, o.ID, processor.ClaimRequest{Reason: processor.ClaimCardInvalid, Message: "提示已使用"})
			if err != nil {
				t.Fatal(err)
			}
			prompt := sink.waitReply(t, fmt.Sprintf("#%d", o.ID))
			containsAll(t, "claim prompt", prompt.Text, l("售后：订单 #1 · qb-10 ×1 · 卡密无效（0 张）", "Claim: order #1 · qb-10 ×1 · card invalid (0 cards)"),
				"提示已使用", "own")
			reissue, refund, reject := findButton(t, prompt, "k:ri:1"), findButton(t, prompt, "k:rf:1"), findButton(t, prompt, "k:rj:1")
			if reissue.Label != l("补发", "Reissue") || refund.Label != l("退款", "Refund") || reject.Label != l("驳回", "Reject") {
				t.Errorf("labels %q %q %q", reissue.Label, refund.Label, reject.Label)
			}

			r := f.press(b, aliceID, reissue.Data)
			containsAll(t, "reissue by an operator", r.Text, "operator")
			r = f.press(b, aliceID, reject.Data)
			if want := l("✅ 售后 #1（订单 #1）已由 alice 驳回。", "✅ Claim #1 (order #1) rejected by alice."); r.Text != want || !r.Replace {
				t.Errorf("reject press = %q (replace %v), want %q", r.Text, r.Replace, want)
			}
			sink.waitReply(t, l("已由 alice 处理：驳回", "resolved by alice: rejected"))
			r = f.press(b, bobID, refund.Data)
			containsAll(t, "second press", r.Text, l("售后 #1 已由 alice", "Claim #1 was already resolved by alice"), l("驳回", "rejected"))
			if got := f.order(o.ID); got.Status != storage.StatusDelivered {
				t.Errorf("a stale Refund press moved the order to %s", got.Status)
			}
			if got, _ := f.engine.ClaimByID(cl.ID); got.Status != storage.ClaimRejected || got.ResolvedBy.Name != "alice" {
				t.Errorf("claim = %+v", got)
			}

			cl2, _, err := f.engine.OpenClaim(storefront, o.ID, processor.ClaimRequest{Reason: processor.ClaimNotReceived})
			if err != nil {
				t.Fatal(err)
			}
			r = f.send(b, adminID, fmt.Sprintf("/claim %d reissue 换卡", cl2.ID))
			containsAll(t, "/claim reissue", r.Text, l("已由 carol 补发", "reissued by carol"))
			if got, _ := f.engine.ClaimByID(cl2.ID); got.Status != storage.ClaimReissued || got.Note != "换卡" {
				t.Errorf("claim after /claim = %+v", got)
			}
			containsAll(t, "/claim on nothing", f.send(b, adminID, "/claim 99 reject").Text, "99")
			containsAll(t, "/claim malformed", f.send(b, adminID, "/claim 1 destroy").Text, "/claim <claim>")
		})
	}
}
