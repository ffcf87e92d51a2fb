package main

// Helpers shared by the tests in which docking shops buy from the real
// binary: one shop of each protocol, the config that connects them, the
// service's own account of a shop's balance and of the stock, and the
// operators' group where held orders are prompted.

import (
	"context"
	"fmt"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"cardflow/api/acgfaka/acgshop"
	"cardflow/api/dujiao"
	"cardflow/api/dujiao/djshop"
	"cardflow/bot/telegram/tgfake"
	"cardflow/internal/adminclient"
	"cardflow/internal/testkit"
)

// The docking shops' storefront ids (what each enters as api key or
// app_id) and secrets.
const (
	djShopID      = "cardflow-djshop"
	hookShopID    = "cardflow-hookshop"
	acgShopID     = "cardflow-acgshop"
	testDJSecret  = "dujiao-shop-secret-0123456"
	testHookToken = "dujiao-hook-token-0123456789"
	testACGKey    = "acg-shop-app-key-7c41d09e"
)

// dockedSKU is the product every docking shop buys: own stock, offered as
// id 1001 at 48.00 a key.
const (
	dockedSKU   = "jd-50"
	dockedID    = 1001
	dockedPrice = 48
)

// dockingShops are one shop of each docking protocol, built as real ones
// call cardflow: a Dujiao-Next shop and a generic-webhook one, each with
// its callback endpoint served, and an acg-faka shop.
type dockingShops struct {
	dj   *djshop.Shop
	hook *djshop.WebhookShop
	acg  *acgshop.Client
	base string // where the shops call: the service once it started
}

// newDockingService is a service whose config connects the three docking
// shops and offers them dockedSKU; acgOptions go into the acg-faka shop's
// [[storefronts]] block, extra after everything.
func newDockingService(t *testing.T, acgOptions, extra string) (*service, *dockingShops) {
	t.Helper()
	d := &dockingShops{dj: djshop.New("", djShopID, []byte(testDJSecret)), hook: djshop.NewWebhookShop("", testHookToken),
		acg: acgshop.New("", acgShopID, testACGKey, 0)}
	djEndpoint := httptest.NewServer(d.dj)
	t.Cleanup(djEndpoint.Close)
	hookEndpoint := httptest.NewServer(d.hook)
	t.Cleanup(hookEndpoint.Close)
	d.dj.CallbackURL = djEndpoint.URL + dujiao.CallbackPath
	d.hook.CallbackURL = hookEndpoint.URL + "/api/v1/upstream/generic-webhook/callback"
	s := newService(t, fmt.Sprintf(`
[[storefronts]]
id = %q
protocol = "dujiao-next"
secret_env = "CARDFLOW_DJSHOP_SECRET"
callback_url = %q

[[storefronts]]
id = %q
protocol = "dujiao-webhook"
secret_env = "CARDFLOW_HOOK_TOKEN"
callback_url = %q

[[storefronts]]
id = %q
protocol = "acg-faka"
secret_env = "CARDFLOW_ACGSHOP_SECRET"
%s
[[products]]
sku = %q
name = "京东E卡 50元"
max_quantity = 5
id = %d
price = "%d.00"
category = "购物卡"
  [[products.sources]]
  supplier = "own"
%s`, djShopID, d.dj.CallbackURL, hookShopID, hookEndpoint.URL, acgShopID, acgOptions, dockedSKU, dockedID, dockedPrice, extra))
	s.env = append(s.env, "CARDFLOW_DJSHOP_SECRET="+testDJSecret, "CARDFLOW_HOOK_TOKEN="+testHookToken,
		"CARDFLOW_ACGSHOP_SECRET="+testACGKey)
	return s, d
}

// start starts the service and points the shops at it. Its ports are
// settled by the first start, so only that one changes the shops, which
// may be calling from other goroutines after.
func (d *dockingShops) start(t *testing.T, s *service) *proc {
	t.Helper()
	p := s.start(t)
	if base := "http://" + s.apiAddr; base != d.base {
		d.base = base
		d.dj.BaseURL, d.hook.Endpoint, d.acg.BaseURL = base, base+dujiao.WebhookPath, base
	}
	return p
}

// importKeys adds n keys of dockedSKU to own stock, numbered from prefix.
func importKeys(t *testing.T, s *service, prefix string, n int) {
	t.Helper()
	var lines strings.Builder
	for i := range n {
		fmt.Fprintf(&lines, "%s-%04d,PW-%d\n", prefix, i+1, i+1)
	}
	res, err := s.adminClient().ImportStock(context.Background(), dockedSKU, strings.NewReader(lines.String()))
	if err != nil || res.Added != n {
		t.Fatalf("import %d keys: %+v %v", n, res, err)
	}
}

// balanceOf is a storefront's balance as the admin API reports it.
func balanceOf(t *testing.T, s *service, id string) string {
	t.Helper()
	all, err := s.adminClient().Storefronts(context.Background())
	i := slices.IndexFunc(all, func(sf adminclient.StorefrontBalance) bool { return sf.ID == id })
	if err != nil || i < 0 {
		t.Fatalf("no storefront %s in %+v, %v", id, all, err)
	}
	return all[i].Balance
}

// dockedStock is dockedSKU's own stock level as the admin API reports it.
func dockedStock(t *testing.T, s *service) int {
	t.Helper()
	levels, err := s.adminClient().Stock(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if i := slices.IndexFunc(levels, func(l adminclient.Level) bool { return l.SKU == dockedSKU }); i >= 0 {
		return levels[i].Level
	}
	return 0
}

// yuan writes a whole number of yuan as the shops and the admin API do.
func yuan(n int) string { return fmt.Sprintf("%d.00", n) }

// reviewDesk is the operators' Telegram group of a service that holds
// every docking order of 3 keys or more for review: an operator learns of
// a held order from its prompt there, which names it as #id, and acts on
// it through the admin API.
type reviewDesk struct {
	fake *tgfake.Server
	seen map[string]bool
}

// startReview starts a docking service (acgOptions as newDockingService
// takes them) with that rule and that group, and tops storefront up by
// amount yuan.
func startReview(t *testing.T, acgOptions, storefront string, amount int) (*service, *dockingShops, *reviewDesk) {
	t.Helper()
	fake := tgfake.New(tgToken)
	t.Cleanup(fake.Close)
	s, d := newDockingService(t, acgOptions, fmt.Sprintf(ruleConfig, "order.quantity >= 3")+telegramSection(fake, "0s"))
	d.start(t, s)
	topUp(t, s, storefront, fmt.Sprintf(`{"amount":%q,"reason":"e2e top-up"}`, yuan(amount)), yuan(amount))
	return s, d, &reviewDesk{fake: fake, seen: map[string]bool{}}
}

var promptedOrder = regexp.MustCompile(`#(\d+)（` + dockedSKU + `）`)

// next waits for the review prompt of an order not prompted before and
// returns the order's id. A test that needs the ids of several held orders
// places each after the previous one's prompt arrived, so that their
// prompts are not gathered into one digest.
func (r *reviewDesk) next(t *testing.T) string {
	t.Helper()
	id := ""
	testkit.EventuallyWithin(t, 20*time.Second, "a new review prompt", func() bool {
		for _, m := range r.fake.Messages(tgGroup) {
			if mm := promptedOrder.FindStringSubmatch(m.Text); mm != nil && strings.Contains(m.Text, "待审核") && !r.seen[mm[1]] {
				id = mm[1]
				r.seen[id] = true
				return true
			}
		}
		return false
	})
	return id
}

// keyLines says whether payload is n card keys of the imported form.
func keyLines(payload string, n int) bool {
	lines := strings.Split(payload, "\n")
	for _, l := range lines {
		if !strings.HasPrefix(l, "JD-") || !strings.Contains(l, "----PW-") {
			return false
		}
	}
	return len(lines) == n
}
