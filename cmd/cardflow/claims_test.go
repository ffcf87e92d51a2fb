package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"cardflow/bot/telegram/tgfake"
	"cardflow/internal/storefront"
	"cardflow/internal/testkit"
	"cardflow/mail/smtpfake"
)

// TestClaimThroughTheRealBinary: an order delivered; the storefront posts a
// claim naming its card, and the service is killed (SIGKILL) right after
// the 201; after a restart the same claim_id answers the same claim, and
// the prompt, with Reissue / Refund / Reject, is in the Telegram group. The
// operator presses Reissue while the mail server answers 451 once: the
// prompt says who did, the storefront hears claim.resolved and then
// order.delivered (reissue) with a new card, and the buyer gets both by
// mail (the new key in the delivery letter, each Message-ID once; only the
// first delivery letter may go twice, if the kill came between its sending
// and its acknowledgement). A stale Refund
// press says it was resolved already; /stock counts the claim against the
// import batch of the bad card. A second claim is rejected through
// the admin API and the service killed right after the 200: claim.resolved
// still arrives after the restart, and its mail, refused with a 550, is
// given up with a mail_rejected alert in the group.
func TestClaimThroughTheRealBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("drives the real binary")
	}
	fake := tgfake.New(tgToken)
	defer fake.Close()
	smtp, err := smtpfake.Start(smtpfake.Options{Security: smtpfake.None})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(smtp.Close)
	s := newService(t, fmt.Sprintf(`%s
[[operators]]
name = "alice"
role = "admin"
telegram_id = %d

[email]
host = %q
port = %d
security = "none"
from = "Shop <noreply@shop.example.com>"
`, telegramSection(fake, "100ms"), tgAlice, smtp.Host(), smtp.Port()))
	mailEvents(t, s, "shop1", `["order.delivered", "claim.resolved"]`)
	p := s.start(t)
	ctx := context.Background()
	var cards strings.Builder
	for i := range 6 {
		fmt.Fprintf(&cards, "CLAIM-%04d,pw%d\n", i, i)
	}
	if _, err := s.adminClient().ImportStock(ctx, "qb-10", strings.NewReader(cards.String())); err != nil {
		t.Fatal(err)
	}
	client := s.client()
	delivered := func(ext string) storefront.Order {
		o, _, err := client.Create(ctx, storefront.NewOrder{ExternalID: ext, SKU: "qb-10", Quantity: 1, Amount: "10.00",
			Buyer: storefront.Buyer{ID: "buyer-" + ext, Contact: strings.ToLower(ext) + "@example.com"}})
		if err != nil {
			t.Fatal(err)
		}
		testkit.EventuallyWithin(t, 10*time.Second, "order "+o.ID+" delivered", func() bool { return s.receiver.Delivered(o.ID) })
		o, _, err = client.Get(ctx, o.ID)
		if err != nil || len(o.Cards) != 1 {
			t.Fatalf("order %s: %+v, %v", o.ID, o, err)
		}
		return o
	}

	// The claim, then a kill at once: its prompt was in the same write.
	o := delivered("CLAIM-ORDER-1")
	oldCard := o.Cards[0].Number
	req := storefront.NewClaim{Reason: "card_invalid", Message: "提示卡密已被使用", Cards: []string{oldCard}, ClaimID: "TK-1"}
	cl, status, err := client.Claim(ctx, o.ID, req)
	if err != nil || status != 201 || cl.Status != "open" || !slices.Equal(cl.Cards, []string{oldCard}) {
		t.Fatalf("claim: %d %+v %v", status, cl, err)
	}
	p.kill()
	p = s.start(t)
	again, status, err := client.Claim(ctx, o.ID, req)
	if err != nil || status != 200 || again.ID != cl.ID {
		t.Fatalf("the claim repeated after a restart: %d %+v %v", status, again, err)
	}

	var prompt tgfake.Message
	line := fmt.Sprintf("售后：订单 #%s · qb-10 ×1 · 卡密无效（1 张）", o.ID)
	testkit.EventuallyWithin(t, 20*time.Second, "the claim prompt in the group", func() bool {
		for _, m := range fake.Messages(tgGroup) {
			if strings.Contains(m.Text, line) {
				prompt = m
				return true
			}
		}
		return false
	})
	if strings.Contains(prompt.Text, oldCard) || !strings.Contains(prompt.Text, "提示卡密已被使用") || !strings.Contains(prompt.Text, "own") {
		t.Fatalf("prompt = %q", prompt.Text)
	}
	buttons := map[string]string{}
	for _, b := range prompt.Buttons() {
		buttons[b.Text] = b.Data
	}
	if buttons["补发"] == "" || buttons["退款"] == "" || buttons["驳回"] == "" {
		t.Fatalf("prompt buttons = %+v", prompt.Buttons())
	}

	testkit.EventuallyWithin(t, 10*time.Second, "the delivery mail", func() bool { return len(lettersTo(smtp, "claim-order-1@example.com")) == 1 })
	smtp.Refuse(451, 1) // the next letter is put off once
	fake.Press(tgGroup, tgAlice, prompt.ID, buttons["补发"])
	testkit.EventuallyWithin(t, 20*time.Second, "claim.resolved, then the new card", func() bool {
		return slices.Equal(s.receiver.Types(o.ID), []string{"order.delivered", "claim.resolved", "order.delivered"})
	})
	cbs := s.receiver.Callbacks(o.ID)
	if c := cbs[1].Claim; c == nil || c.ID != cl.ID || c.Status != "reissued" || c.ResolvedBy == nil || *c.ResolvedBy != "alice" {
		t.Fatalf("claim.resolved carries %+v", cbs[1].Claim)
	}
	if n := cbs[2].Order; n.Reason != "reissue" || len(n.Cards) != 1 || n.Cards[0].Number == oldCard {
		t.Fatalf("order.delivered after the reissue = %+v", n)
	}
	testkit.EventuallyWithin(t, 20*time.Second, "the claim's letter and the new key's", func() bool {
		return len(lettersTo(smtp, "claim-order-1@example.com")) == 3
	})
	letters := lettersTo(smtp, "claim-order-1@example.com")
	subjects := []string{letters[1].Subject, letters[2].Subject}
	slices.Sort(subjects) // the two letters are in lanes of their own: either may go first
	if !strings.Contains(subjects[0], "已补发") || !strings.Contains(subjects[1], "售后已处理") {
		t.Fatalf("letters after the reissue: %q", subjects)
	}
	for _, l := range letters[1:] {
		hasNew, hasOld := strings.Contains(l.Text, cbs[2].Order.Cards[0].Number), strings.Contains(l.Text, oldCard)
		if hasOld || hasNew != strings.Contains(l.Subject, "已补发") {
			t.Fatalf("letter %q carries the new key %v, the old %v:\n%s", l.Subject, hasNew, hasOld, l.Text)
		}
	}
	if n := len(lettersToRaw(smtp, "claim-order-1@example.com")) - len(lettersTo(smtp, "claim-order-1@example.com")); n > 1 {
		t.Fatalf("%d letters went twice; only the delivery letter may, sent again after the kill", n)
	}
	testkit.EventuallyWithin(t, 10*time.Second, "the prompt edited with who resolved it", func() bool {
		m, _ := fake.Message(tgGroup, prompt.ID)
		return strings.Contains(m.Text, "alice") && strings.Contains(m.Text, "补发") && len(m.Buttons()) == 0
	})
	// The upheld claim counts against the import batch its card came in.
	fake.SendText(tgGroup, tgAlice, "/stock")
	testkit.EventuallyWithin(t, 10*time.Second, "/stock naming the batch of the bad card", func() bool {
		return slices.ContainsFunc(fake.Messages(tgGroup), func(m tgfake.Message) bool {
			return strings.Contains(m.Text, "售后成立：批次 #1 1 张")
		})
	})
	stale := fake.Press(tgGroup, tgAlice, prompt.ID, buttons["退款"])
	testkit.EventuallyWithin(t, 10*time.Second, "the stale press answered", func() bool { _, ok := fake.Answer(stale); return ok })
	if a, _ := fake.Answer(stale); !strings.Contains(a.Text, "已由 alice") {
		t.Fatalf("the stale press was answered %q", a.Text)
	}
	if got, _, _ := client.Get(ctx, o.ID); got.Status != "delivered" || len(got.Claims) != 1 || got.Claims[0].Status != "reissued" {
		t.Fatalf("after a stale Refund press the order is %s with claims %+v", got.Status, got.Claims)
	}

	// A second claim, rejected, and a kill right after the answer.
	o2 := delivered("CLAIM-ORDER-2")
	cl2, _, err := client.Claim(ctx, o2.ID, storefront.NewClaim{Reason: "not_received"})
	if err != nil {
		t.Fatal(err)
	}
	testkit.EventuallyWithin(t, 10*time.Second, "the second delivery mail", func() bool { return len(lettersTo(smtp, "claim-order-2@example.com")) == 1 })
	// The rejection's letter is refused for good, its retry too should the
	// kill below land between the 550 and the write that gives it up.
	smtp.Refuse(550, 3)
	rejected, err := s.adminClient().ResolveClaim(ctx, cl2.ID, "reject", "已核实到账")
	if err != nil || rejected.Status != "rejected" {
		t.Fatalf("reject: %+v %v", rejected, err)
	}
	p.kill()
	p = s.start(t)
	testkit.EventuallyWithin(t, 20*time.Second, "claim.resolved of the rejection after the restart", func() bool {
		return slices.Equal(s.receiver.Types(o2.ID), []string{"order.delivered", "claim.resolved"})
	})
	if c := s.receiver.Callbacks(o2.ID)[1].Claim; c == nil || c.Status != "rejected" || c.Note != "已核实到账" {
		t.Fatalf("claim.resolved of the rejection = %+v", c)
	}
	gaveUp := fmt.Sprintf("订单 #%s 的买家邮件被邮件服务器拒收", o2.ID)
	testkit.EventuallyWithin(t, 20*time.Second, "the mail_rejected alert in the group", func() bool {
		return slices.ContainsFunc(fake.Messages(tgGroup), func(m tgfake.Message) bool { return strings.Contains(m.Text, gaveUp) })
	})
	if n := len(lettersTo(smtp, "claim-order-2@example.com")); n != 1 {
		t.Fatalf("%d letters to the second buyer, want the delivery only", n)
	}
	if _, err := s.adminClient().ResolveClaim(ctx, cl2.ID, "refund", ""); err == nil || !strings.Contains(err.Error(), "409") {
		t.Fatalf("a second resolution: %v, want a 409", err)
	}
	if open, err := s.adminClient().Claims(ctx, "open"); err != nil || len(open) != 0 {
		t.Fatalf("open claims at the end: %+v %v", open, err)
	}
	if probs := s.receiver.Problems(); len(probs) > 0 {
		t.Fatalf("the storefront saw problems: %v", probs)
	}
	if strings.Contains(p.logs(), oldCard) {
		t.Fatal("a card number is in the service's log")
	}
	p.interrupt(t)
}

// lettersTo is what the mail server took for one buyer, parsed, in the
// order it took them, each Message-ID once: a letter taken just before a
// kill, and not yet marked sent, goes again after the restart.
func lettersTo(srv *smtpfake.Server, to string) []smtpfake.Parsed {
	var out []smtpfake.Parsed
	seen := map[string]bool{}
	for _, p := range lettersToRaw(srv, to) {
		if !seen[p.MessageID] {
			seen[p.MessageID] = true
			out = append(out, p)
		}
	}
	return out
}

// lettersToRaw is every letter the mail server took for one buyer.
func lettersToRaw(srv *smtpfake.Server, to string) []smtpfake.Parsed {
	var out []smtpfake.Parsed
	for _, m := range srv.Mails() {
		if len(m.To) == 1 && m.To[0] == to {
			if p, err := m.Parse(); err == nil {
				out = append(out, p)
			}
		}
	}
	return out
}
