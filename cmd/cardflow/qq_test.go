package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"cardflow/bot/qq/qqfake"
	"cardflow/internal/storefront"
	"cardflow/internal/testkit"
)

const (
	qqAppID  = "102012345"
	qqSecret = "DG5g3B4j9X2KOErG"
	qqGroup  = "GROUPOPENID1"
	qqAlice  = "MEMBER-ALICE"
	qqMallet = "MEMBER-MALLET"
)

// TestQQOperatorApprovesAHeldOrderFromAGroup runs the real binary against a
// fake QQ OpenAPI that enforces QQ's reply rules and a driver that sends
// signed webhook calls: an admin gets a bind code from the admin API, alice
// binds herself in the group; a ¥600 order is held and its prompt waits (no
// active push) until alice @-mentions the bot; the prompt arrives as a reply
// with Approve; a stranger's click is acknowledged and refused; alice's
// click approves, the order is delivered. A call with a bad signature is a
// 401.
func TestQQOperatorApprovesAHeldOrderFromAGroup(t *testing.T) {
	if testing.Short() {
		t.Skip("drives the real binary")
	}
	fake := qqfake.New(qqAppID, qqSecret)
	defer fake.Close()
	s := newService(t, qqConfig(fake))
	p := s.start(t)
	fake.SetWebhook("http://" + s.apiAddr + "/qq/webhook")
	ctx := context.Background()

	code := bindCode(t, s, "alice")
	d, err := fake.GroupAt(qqGroup, qqAlice, "/bind "+code)
	if err != nil || !d.Acked() {
		t.Fatalf("bind message: %+v %v", d, err)
	}
	testkit.EventuallyWithin(t, 10*time.Second, "the bind confirmed", func() bool { return anyText(fake, qqGroup, "已绑定为操作员 alice") })

	if _, err := s.adminClient().ImportStock(ctx, "qb-10", strings.NewReader("QQ-00001,pw1\nQQ-00002,pw2\n")); err != nil {
		t.Fatal(err)
	}
	big, _, err := s.client().Create(ctx, storefront.NewOrder{ExternalID: "QQ-BIG-1", SKU: "qb-10", Quantity: 1,
		Amount: "600.00", Buyer: storefront.Buyer{ID: "qq-buyer"}})
	if err != nil || big.Status != "review" {
		t.Fatalf("the ¥600 order: %+v %v", big, err)
	}
	// The /bind window may still carry the prompt; a new message surely
	// opens one.
	if _, err := fake.GroupAt(qqGroup, qqAlice, "/inbox"); err != nil {
		t.Fatal(err)
	}
	var prompt qqfake.Message
	approve := ""
	testkit.EventuallyWithin(t, 15*time.Second, "the review prompt as a reply", func() bool {
		for _, m := range fake.Messages(qqGroup) {
			for _, b := range m.Buttons() {
				if strings.Contains(b.Label, "批准") && strings.Contains(m.Content+m.Markdown, "#"+big.ID) {
					prompt, approve = m, b.Data
					return true
				}
			}
		}
		return false
	})
	if prompt.Active || (prompt.MsgID == "" && prompt.EventID == "") {
		t.Fatalf("the prompt was not a reply: %+v", prompt)
	}

	d, err = fake.Click(qqGroup, qqMallet, approve, prompt.ID)
	if err != nil || !d.Acked() {
		t.Fatalf("stranger's click: %+v %v", d, err)
	}
	testkit.EventuallyWithin(t, 10*time.Second, "the stranger's click acknowledged and refused", func() bool {
		_, acked := fake.Acks()[d.InteractionID]
		return acked && anyText(fake, qqGroup, "不是本店的操作员")
	})
	if o, _, _ := s.client().Get(ctx, big.ID); o.Status != "review" {
		t.Fatalf("a stranger's click moved the order to %s", o.Status)
	}

	d, err = fake.Click(qqGroup, qqAlice, approve, prompt.ID)
	if err != nil || !d.Acked() {
		t.Fatalf("alice's click: %+v %v", d, err)
	}
	testkit.EventuallyWithin(t, 10*time.Second, "the order delivered", func() bool {
		o, _, _ := s.client().Get(ctx, big.ID)
		return o.Status == "delivered"
	})
	testkit.EventuallyWithin(t, 10*time.Second, "the approval said in the group", func() bool { return anyText(fake, qqGroup, "alice") && anyText(fake, qqGroup, "批准") })

	bad, err := fake.SendRaw([]byte(`{"id":"forged","op":0,"t":"GROUP_AT_MESSAGE_CREATE","d":{}}`), fmt.Sprint(time.Now().Unix()), false)
	if err != nil || bad.Status != http.StatusUnauthorized {
		t.Fatalf("an unsigned call answered %+v %v", bad, err)
	}
	for _, m := range fake.Sent() {
		if m.Active {
			t.Errorf("an active push although the group never allowed it: %+v", m)
		}
	}
	if strings.Contains(p.logs(), qqSecret) {
		t.Error("the QQ secret appears in the service's log")
	}
	p.interrupt(t)
}

// qqConfig is a service that holds orders over ¥500 for review and speaks
// to operators in one QQ group through fake, with alice as an operator.
func qqConfig(fake *qqfake.Server) string {
	return fmt.Sprintf(`
[[rules]]
name = "large-order"
when = "order.amount > 500"
action = "review"

[qq]
app_id = %q
secret = %q
api_url = %q
token_url = %q
groups = [%q]

[alerts]
group_wait = "0s"

[[operators]]
name = "alice"
role = "operator"
`, qqAppID, qqSecret, fake.URL(), fake.URL(), qqGroup)
}

// bindCode asks the admin API for a one-time bind code.
func bindCode(t *testing.T, s *service, operator string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://"+s.admin+"/v1/operators/"+operator+"/bind", bytes.NewReader(nil))
	req.Header.Set("Authorization", "Bearer "+testAdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var res struct {
		Code string `json:"code"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &res) != nil || res.Code == "" {
		t.Fatalf("bind code: %d %s", resp.StatusCode, body)
	}
	return res.Code
}

func anyText(fake *qqfake.Server, group, sub string) bool {
	for _, m := range fake.Messages(group) {
		if strings.Contains(m.Content+m.Markdown, sub) {
			return true
		}
	}
	return false
}
