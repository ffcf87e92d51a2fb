package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"cardflow/internal/demo"
	"cardflow/internal/storefront"

	"cardflow/internal/testkit"
)

// TestReadmeShellSigningExample runs the README's shell signing snippet,
// exactly as written there, against the real binary: a storefront developer
// who copies it gets a 201.
func TestReadmeShellSigningExample(t *testing.T) {
	for _, tool := range []string{"bash", "openssl", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(readme), "<!-- signing-example -->\n```sh\n")
	snippet, _, ok2 := strings.Cut(after, "```")
	if !ok || !ok2 {
		t.Fatal("README has no signing example block")
	}
	s := newService(t, `
[[products]]
sku = "qb-100"
name = "Q币 100元"
  [[products.sources]]
  supplier = "own"
`)
	p := s.start(t)
	cmd := exec.Command("bash", "-c", snippet)
	cmd.Env = append(os.Environ(), "SHOP_SECRET="+testShopSecret, "SHOP_ID=shop1", "CARDFLOW_URL=http://"+s.apiAddr)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("snippet failed: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), `"external_id":"T20261125-0001"`) || !strings.Contains(string(out), `"status":"pending"`) {
		t.Fatalf("snippet answer:\n%s", out)
	}
	p.interrupt(t)
}

// TestReadmeListsEveryMetricTheServiceServes runs the real binary, makes it
// produce every series it has (stock, an order from stock and one from a
// simulated supplier, a rule hit, HTTP requests), scrapes /metrics, and
// compares the cardflow_* families served with the names in the README's
// Metrics paragraph, both ways: a metric added to the code must be listed,
// and a listed one must exist.
func TestReadmeListsEveryMetricTheServiceServes(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, para, ok := strings.Cut(string(readme), "\n- **Metrics.**")
	if !ok {
		t.Fatal("README has no Metrics paragraph under Operations")
	}
	para, _, _ = strings.Cut(para, "\n- **")
	name := regexp.MustCompile(`cardflow_[a-z0-9_]+`)
	listed := slices.Compact(slices.Sorted(slices.Values(name.FindAllString(para, -1))))

	s := newService(t, `
[[suppliers]]
name = "sim"
type = "sim"
latency = "10ms"
[[products]]
sku = "game-50"
name = "游戏点卡 50元"
  [[products.sources]]
  supplier = "sim"
  item = "G50"
[[rules]]
name = "everyone"
when = "order.amount > 0"
action = "allow"
`)
	p := s.start(t)
	ctx := context.Background()
	if _, err := s.adminClient().ImportStock(ctx, "qb-10", strings.NewReader(demo.CardLines("qb-10", 2))); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i, sku := range []string{"qb-10", "game-50"} {
		o, _, err := s.client().Create(ctx, storefront.NewOrder{ExternalID: fmt.Sprintf("M-%d", i), SKU: sku, Quantity: 1,
			Amount: "10.00", Buyer: storefront.Buyer{ID: "b-1"}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, o.ID)
	}
	testkit.EventuallyWithin(t, 20*time.Second, "both orders delivered", func() bool {
		return s.receiver.Delivered(ids[0]) && s.receiver.Delivered(ids[1])
	})
	family := regexp.MustCompile(`(?m)^# TYPE (cardflow_[a-z0-9_]+) `)
	var served []string
	for _, m := range family.FindAllStringSubmatch(s.scrape(t), -1) {
		served = append(served, m[1])
	}
	slices.Sort(served)
	for _, n := range served {
		if !slices.Contains(listed, n) {
			t.Errorf("/metrics serves %s, which the README's Metrics paragraph does not name", n)
		}
	}
	for _, n := range listed {
		if !slices.Contains(served, n) {
			t.Errorf("the README names %s, which /metrics did not serve", n)
		}
	}
	p.interrupt(t)
}
