package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"cardflow/bot/qq/qqfake"
	"cardflow/internal/pgtest"
	"cardflow/internal/storefront"
	"cardflow/internal/testkit"
)

// TestAQQGroupsWindowSurvivesTheLeadersDeath runs two real binaries on one
// database against the fake QQ OpenAPI, which refuses active push as QQ
// does by default. The first started leads. Alice binds herself in the
// group through the other's webhook, and the confirmation goes out as the
// first reply to her message. The leader is SIGKILLed; an order held for
// review on the survivor then reaches the group as the next reply to that
// same message, without anyone writing again. While the window lived in
// the leader's memory, the prompt waited for the next operator message.
func TestAQQGroupsWindowSurvivesTheLeadersDeath(t *testing.T) {
	if testing.Short() {
		t.Skip("drives the real binary")
	}
	db := pgtest.URL(t)
	fake := qqfake.New(qqAppID, qqSecret)
	defer fake.Close()
	config := qqConfig(fake)
	leaderSvc, otherSvc := postgresService(t, db, config), postgresService(t, db, config)
	leader := leaderSvc.start(t) // alone: it leads at once
	other := otherSvc.start(t)
	fake.SetWebhook("http://" + otherSvc.apiAddr + "/qq/webhook")

	d, err := fake.GroupAt(qqGroup, qqAlice, "/bind "+bindCode(t, otherSvc, "alice"))
	if err != nil || !d.Acked() {
		t.Fatalf("bind message: %+v %v", d, err)
	}
	testkit.EventuallyWithin(t, 10*time.Second, "the bind confirmed", func() bool { return anyText(fake, qqGroup, "已绑定为操作员 alice") })
	sent := fake.Messages(qqGroup)
	confirmed := sent[len(sent)-1]
	if confirmed.Active || confirmed.MsgID == "" {
		t.Fatalf("the confirmation was not a reply: %+v", confirmed)
	}

	leader.kill()
	killed := time.Now()
	ctx := context.Background()
	if _, err := otherSvc.adminClient().ImportStock(ctx, "qb-10", strings.NewReader("QQC-1,pw1\n")); err != nil {
		t.Fatal(err)
	}
	held, _, err := otherSvc.client().Create(ctx, storefront.NewOrder{ExternalID: "QQC-BIG-1", SKU: "qb-10", Quantity: 1,
		Amount: "600.00", Buyer: storefront.Buyer{ID: "qqc-buyer"}})
	if err != nil || held.Status != "review" {
		t.Fatalf("the ¥600 order: %+v %v", held, err)
	}
	var prompt qqfake.Message
	testkit.EventuallyWithin(t, 20*time.Second, "the prompt sent by the survivor", func() bool {
		for _, m := range fake.Messages(qqGroup) {
			if strings.Contains(m.Content+m.Markdown, "#"+held.ID) {
				prompt = m
				return true
			}
		}
		return false
	})
	t.Logf("the prompt reached the group %v after the leader was killed", time.Since(killed).Round(time.Millisecond))
	if prompt.Active || prompt.MsgID != confirmed.MsgID || prompt.Seq <= confirmed.Seq {
		t.Errorf("the prompt went out as %+v, want a later reply to %s (the confirmation was reply %d)", prompt, confirmed.MsgID, confirmed.Seq)
	}
	seqs := map[int]bool{}
	for _, m := range fake.Sent() {
		if m.Active {
			t.Errorf("an active push although the group never allowed it: %+v", m)
		}
		if m.MsgID == confirmed.MsgID {
			if seqs[m.Seq] {
				t.Errorf("msg_seq %d used twice on %s", m.Seq, m.MsgID)
			}
			seqs[m.Seq] = true
		}
	}
	other.interrupt(t)
}
