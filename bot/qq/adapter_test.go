package qq

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"cardflow/bot/bind"
	"cardflow/bot/pager"

	"github.com/rs/zerolog"

	"cardflow/bot/operator"
	"cardflow/bot/qq/qqfake"
	"cardflow/config"
	"cardflow/internal/storefront"
	"cardflow/internal/testkit"
	"cardflow/internal/teststore"
	"cardflow/processor"
	"cardflow/processor/outbox"
	"cardflow/rules"
	"cardflow/storage"
)

const (
	testGroup  = "GROUP-A"
	testMember = "MEMBER-ALICE"
	testUser   = "USER-ALICE"
)

// holdAll sends every order to review: each one is a prompt to deliver.
type holdAll struct{}

func (holdAll) Screen(*storage.Tx, *storage.Order) (rules.Decision, error) {
	return rules.Decision{Action: config.ActionReview, Reason: "rule:hold-all"}, nil
}

// harness is the QQ channel wired as serve wires it — engine, operator
// layer, notifier, one sender for the group — against the fake OpenAPI.
type harness struct {
	t      *testing.T
	fake   *qqfake.Server
	engine *processor.Engine
	binds  *bind.Bindings
	ad     *Adapter
	trap   *trapAuth
	n      int
}

func newHarness(t *testing.T, prepare func(*qqfake.Server)) *harness {
	t.Helper()
	fake := qqfake.New(vectorAppID, vectorSecret)
	t.Cleanup(fake.Close)
	if prepare != nil {
		prepare(fake)
	}
	store := testkit.NewStore(t, teststore.Open)
	binds := bind.New(store, nil)
	shop := httptest.NewServer(storefront.NewReceiver(map[string][]byte{"shop": []byte("shop-secret")}))
	t.Cleanup(shop.Close)
	relay := &relay{}
	engine := processor.New(store, processor.Options{
		Products: []config.Product{{SKU: "qb-10", Name: "Q币10元", Kind: config.KindCard, MaxQuantity: 5,
			Sources: []config.Source{{Supplier: "own", Units: 1}}}},
		Suppliers:   []config.Supplier{{Name: "own", Type: config.SupplierStock}},
		Storefronts: []outbox.Storefront{{ID: "shop", Secret: []byte("shop-secret"), CallbackURL: shop.URL}},
		Screen:      holdAll{}, Alerts: relay, Log: zerolog.Nop(),
	})
	roster := []config.Operator{{Name: "alice", Role: config.RoleOperator}}
	trap := &trapAuth{Authorizer: operator.NewBound(binds, roster)}
	b := operator.New(operator.Options{Orders: engine, Bindings: binds, Auth: trap, Roster: operator.Roster(roster), Log: zerolog.Nop()})
	ad := New(Options{AppID: vectorAppID, Secret: vectorSecret, APIURL: fake.URL(), TokenURL: fake.URL(),
		Groups: []string{testGroup}, Bot: b, Store: store, Log: zerolog.Nop(), Alert: engine.RaiseAlert})
	hook := httptest.NewServer(ad)
	t.Cleanup(hook.Close)
	fake.SetWebhook(hook.URL)
	dest := ad.Dests()[0]
	sender := pager.NewSender(b, store, pager.SenderOptions{Dest: dest, Chat: ChatOf(dest), Channel: ad, NextBatch: NextBatch})
	ad.OnWindow(ChatOf(dest), sender.Kick)
	relay.to = pager.NewNotifier(b, store, []string{dest}, pager.AlertPolicy{RepeatInterval: time.Hour}, nil, sender.Kick, zerolog.Nop())
	ctx, cancel := context.WithCancel(context.Background())
	if err := engine.Start(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{}, 2)
	go func() { sender.Run(ctx); done <- struct{}{} }()
	go func() { _ = ad.Run(ctx); done <- struct{}{} }()
	t.Cleanup(func() { cancel(); <-done; <-done; engine.Stop() })

	code, _, err := binds.Issue(storage.Actor{Name: "test", Platform: "test"}, "alice")
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, fake: fake, engine: engine, binds: binds, ad: ad, trap: trap}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("sent to the fake QQ: %+v", fake.Sent())
		}
	})
	h.say("/bind " + code)
	testkit.Eventually(h.t, "bound", func() bool { return h.saw("alice") })
	if _, err := engine.ImportStock(storage.Actor{Name: "test", Platform: "test"}, "qb-10",
		strings.NewReader("K-1,p\nK-2,p\nK-3,p\nK-4,p\nK-5,p\nK-6,p\nK-7,p\nK-8,p\nK-9,p\nK-10,p\n")); err != nil {
		t.Fatal(err)
	}
	return h
}

// relay forwards the engine's alerts to the notifier built after it.
type relay struct{ to *pager.Notifier }

func (r *relay) Deliver(ctx context.Context, ev *storage.Event) error { return r.to.Deliver(ctx, ev) }

func (h *harness) say(text string) {
	h.t.Helper()
	d, err := h.fake.GroupAt(testGroup, testMember, text)
	if err != nil || !d.Acked() {
		h.t.Fatalf("%q: %+v %v", text, d, err)
	}
}

func (h *harness) order() {
	h.t.Helper()
	h.n++
	if _, _, err := h.engine.Submit(processor.Request{Storefront: "shop", ExternalID: fmt.Sprint("E-", h.n), SKU: "qb-10",
		Quantity: 1, Amount: 1000, Buyer: storage.Buyer{ID: "b"}}); err != nil {
		h.t.Fatal(err)
	}
}

// spendWindow marks a configured group's stored window used up, as QQ's
// "reply limit" answer does.
func (h *harness) spendWindow(chatID string) {
	h.t.Helper()
	var w storage.ReplyWindow
	if err := h.engine.Store().View(func(tx *storage.Tx) error {
		var err error
		w, _, err = tx.ReplyWindows().Get(chatID)
		return err
	}); err != nil {
		h.t.Fatal(err)
	}
	h.ad.spend(chatID, w.MsgID, w.EventID)
}

func (h *harness) saw(sub string) bool {
	for _, m := range h.fake.Messages(testGroup) {
		if strings.Contains(m.Content+m.Markdown, sub) {
			return true
		}
	}
	return false
}

// TestPromptsWaitForAWindowAndComeAsDigests: with active push refused,
// prompts raised after the bind's window was used up stay queued (nothing
// is sent, nothing is lost); when alice speaks, they arrive as replies to
// her message, folded into digests, never more than 5 replies to it; a
// digest that leaves prompts queued carries 下一批, whose click opens a new
// window for the rest.
func TestPromptsWaitForAWindowAndComeAsDigests(t *testing.T) {
	h := newHarness(t, nil)
	h.spendWindow("group:" + testGroup) // the bind's window: used up
	before := len(h.fake.Messages(testGroup))
	posts := "/v2/groups/" + testGroup + "/messages"
	tried := h.fake.Calls(posts)
	for range 8 {
		h.order()
	}
	// Every prompt is queued and the sender has tried an active push and
	// been refused: from here nothing can go out until someone speaks.
	testkit.Eventually(t, "8 prompts queued and an active push refused", func() bool {
		return queued(h) == 8 && h.fake.Calls(posts) > tried
	})
	if sent := h.fake.Messages(testGroup)[before:]; len(sent) != 0 {
		t.Fatalf("sent without a window: %+v", sent)
	}
	h.say("在吗")
	testkit.Eventually(h.t, "a digest", func() bool { return len(h.fake.Messages(testGroup)) > before })
	perHandle := map[string]int{}
	for _, m := range h.fake.Messages(testGroup)[before:] {
		if m.Active {
			t.Fatalf("active push: %+v", m)
		}
		perHandle[m.MsgID+m.EventID]++
	}
	for handle, n := range perHandle {
		if n > 5 {
			t.Fatalf("%d replies to %s", n, handle)
		}
	}
	testkit.Eventually(h.t, "every prompt delivered or offered as a next batch", func() bool {
		if queued(h) == 0 {
			return true
		}
		for _, m := range h.fake.Messages(testGroup) {
			for _, b := range m.Buttons() {
				if b.Data == NextBatch {
					if d, err := h.fake.Click(testGroup, testMember, NextBatch, m.ID); err != nil || !d.Acked() {
						t.Fatalf("next batch: %+v %v", d, err)
					}
					return false
				}
			}
		}
		h.say("/inbox")
		return false
	})
	if !h.saw("待审核") {
		t.Fatal("no review prompt in the group")
	}
}

func queued(h *harness) int {
	n := 0
	_ = h.engine.Store().View(func(tx *storage.Tx) error { n = tx.Chat().Count("qq:group:" + testGroup); return nil })
	return n
}

// TestActivePushWhereTheGroupAllowsIt: a group whose owner allowed active
// messages gets prompts at once, without anyone speaking.
func TestActivePushWhereTheGroupAllowsIt(t *testing.T) {
	h := newHarness(t, func(f *qqfake.Server) { f.AllowActive(testGroup) })
	h.spendWindow("group:" + testGroup)
	h.order()
	testkit.Eventually(h.t, "an active prompt", func() bool {
		for _, m := range h.fake.Messages(testGroup) {
			if m.Active && strings.Contains(m.Content+m.Markdown, "待审核") {
				return true
			}
		}
		return false
	})
}

// TestButtonsDegradeWhenRefused: a bot not allowed buttons gets markdown
// with the commands to type; one not allowed markdown gets plain text with
// them. The prompt is never lost.
func TestButtonsDegradeWhenRefused(t *testing.T) {
	for name, refuse := range map[string]func(*qqfake.Server){
		"no buttons":  (*qqfake.Server).RefuseKeyboard,
		"no markdown": (*qqfake.Server).RefuseMarkdown,
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, refuse)
			h.order()
			h.say("/inbox")
			testkit.Eventually(h.t, "a prompt with typed commands", func() bool {
				for _, m := range h.fake.Messages(testGroup) {
					text := m.Content + m.Markdown
					if strings.Contains(text, "待审核") && strings.Contains(text, "/approve") {
						if len(m.Keyboard) > 0 || (name == "no markdown" && m.MsgType != 0) {
							t.Fatalf("%s: sent %+v", name, m)
						}
						return true
					}
				}
				return false
			})
		})
	}
}

// TestC2CCommandsAnswerInTheirWindow: alice binds herself in a private
// chat too (a C2C identity is its own) and /pending is answered there as a
// reply; a stranger's /pending in C2C is refused.
func TestC2CCommandsAnswerInTheirWindow(t *testing.T) {
	h := newHarness(t, nil)
	code, _, err := h.binds.Issue(storage.Actor{Name: "test", Platform: "test"}, "alice")
	if err != nil {
		t.Fatal(err)
	}
	c2c := func(user, text string) {
		t.Helper()
		if d, err := h.fake.C2C(user, text); err != nil || !d.Acked() {
			t.Fatalf("%q: %+v %v", text, d, err)
		}
	}
	said := func(user, sub string) bool {
		for _, m := range h.fake.Messages(user) {
			if strings.Contains(m.Content+m.Markdown, sub) && (m.MsgID != "" || m.EventID != "") {
				return true
			}
		}
		return false
	}
	c2c("USER-STRANGER", "/pending")
	testkit.Eventually(h.t, "the stranger refused", func() bool { return said("USER-STRANGER", "不是本店的操作员") })
	c2c(testUser, "/bind "+code)
	testkit.Eventually(h.t, "bound in C2C", func() bool { return said(testUser, "已绑定为操作员 alice") })
	c2c(testUser, "/pending")
	testkit.Eventually(h.t, "/pending answered", func() bool { return said(testUser, "待审核") || said(testUser, "没有") })
}
