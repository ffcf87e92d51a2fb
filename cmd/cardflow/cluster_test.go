package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"cardflow/bot/telegram/tgfake"
	"cardflow/internal/pgtest"
	"cardflow/internal/signing"
	"cardflow/internal/storefront"
	"cardflow/internal/testkit"
)

// botAPI is one process's way to the fake Bot API: it passes every call
// through and counts that process's getUpdates.
type botAPI struct {
	url   string
	polls atomic.Int64
}

func newBotAPI(t *testing.T, fake *tgfake.Server) *botAPI {
	t.Helper()
	target, err := url.Parse(fake.URL())
	if err != nil {
		t.Fatal(err)
	}
	pass := httputil.NewSingleHostReverseProxy(target)
	pass.ErrorLog = log.New(io.Discard, "", 0) // a killed process's poll, cut short
	b := &botAPI{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/getUpdates") {
			b.polls.Add(1)
		}
		pass.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	b.url = srv.URL
	return b
}

// clusterNode is one `cardflow serve` among several on one database.
type clusterNode struct {
	name string
	svc  *service
	bot  *botAPI
	proc *proc
}

// prompts counts the group's messages that prompt a review of order id.
func prompts(fake *tgfake.Server, id string) int {
	prompt := regexp.MustCompile(`^🔍 订单 #` + id + `\D.*待审核`)
	n := 0
	for _, m := range fake.Messages(tgGroup) {
		if prompt.MatchString(m.Text) {
			n++
		}
	}
	return n
}

// TestTwoServesOnOneDatabaseShareOneTelegramBot runs two real binaries on
// one PostgreSQL database with a fake Bot API: exactly one polls
// getUpdates and answers commands; an order held for review on the one
// that does not lead reaches the group once, through the leader's sender;
// once the leader is SIGKILLed, the other polls and sends within 10 s.
func TestTwoServesOnOneDatabaseShareOneTelegramBot(t *testing.T) {
	if testing.Short() {
		t.Skip("drives the real binary")
	}
	db := pgtest.URL(t)
	fake := tgfake.New(tgToken)
	defer fake.Close()
	nodes := make([]*clusterNode, 2)
	for i := range nodes {
		bot := newBotAPI(t, fake)
		svc := postgresService(t, db, fmt.Sprintf(`
[[rules]]
name = "large-order"
when = "order.amount > 500"
action = "review"

[telegram]
token = %q
server_url = %q
groups = [%d]

[alerts]
group_wait = "0s"

[[operators]]
name = "alice"
role = "operator"
telegram_id = %d
`, tgToken, bot.url, tgGroup, tgAlice))
		nodes[i] = &clusterNode{name: fmt.Sprintf("process %d", i+1), svc: svc, bot: bot}
		nodes[i].proc = svc.start(t)
	}
	if _, err := nodes[0].svc.adminClient().ImportStock(context.Background(), "qb-10", strings.NewReader("CL-1,pw1\nCL-2,pw2\nCL-3,pw3\n")); err != nil {
		t.Fatal(err)
	}
	leaderOf := func(nodes ...*clusterNode) *clusterNode {
		var polling []*clusterNode
		for _, n := range nodes {
			if n.bot.polls.Load() > 0 {
				polling = append(polling, n)
			}
		}
		if len(polling) != 1 {
			return nil
		}
		return polling[0]
	}
	testkit.EventuallyWithin(t, 15*time.Second, "one process polling", func() bool { return leaderOf(nodes...) != nil })
	leader := leaderOf(nodes...)
	other := nodes[0]
	if other == leader {
		other = nodes[1]
	}

	// Commands are answered once each, by the leader's polling alone.
	for i := range 3 {
		fake.SendText(tgGroup, tgAlice, "/help")
		testkit.EventuallyWithin(t, 10*time.Second, fmt.Sprintf("answer %d", i+1), func() bool { return len(fake.Messages(tgGroup)) == i+1 })
	}
	if n := other.bot.polls.Load(); n != 0 {
		t.Fatalf("%s, which does not lead, polled getUpdates %d times", other.name, n)
	}

	// An order held on the process that does not lead: its prompt reaches
	// the group once, sent by the leader.
	order := func(n *clusterNode, ext string) storefront.Order {
		t.Helper()
		o, _, err := submit(context.Background(), n.svc.client(), storefront.NewOrder{ExternalID: ext, SKU: "qb-10", Quantity: 1,
			Amount: "600.00", Buyer: storefront.Buyer{ID: ext}})
		if err != nil || o.Status != "review" {
			t.Fatalf("order %s on %s: %+v %v", ext, n.name, o, err)
		}
		return o
	}
	first := order(other, "CL-HELD-1")
	testkit.EventuallyWithin(t, 10*time.Second, "the prompt of the order held on "+other.name, func() bool { return prompts(fake, first.ID) > 0 })
	// The sender sends in order: once a later prompt is in, a second copy
	// of the first would be too.
	second := order(other, "CL-HELD-2")
	testkit.EventuallyWithin(t, 10*time.Second, "the second prompt", func() bool { return prompts(fake, second.ID) > 0 })
	if n := prompts(fake, first.ID); n != 1 {
		t.Fatalf("the prompt of order %s reached the group %d times, want once", first.ID, n)
	}
	if n := other.bot.polls.Load(); n != 0 {
		t.Fatalf("%s polled getUpdates %d times", other.name, n)
	}

	// The leader dies; the other takes over polling and sending.
	leader.proc.kill()
	killed := time.Now()
	testkit.EventuallyWithin(t, 10*time.Second, other.name+" polling", func() bool { return other.bot.polls.Load() > 0 })
	t.Logf("%s polled %v after %s was killed", other.name, time.Since(killed).Round(time.Millisecond), leader.name)
	answered := len(fake.Messages(tgGroup))
	fake.SendText(tgGroup, tgAlice, "/help")
	testkit.EventuallyWithin(t, 10*time.Second, "an answer from "+other.name, func() bool { return len(fake.Messages(tgGroup)) > answered })
	third := order(other, "CL-HELD-3")
	testkit.EventuallyWithin(t, 10*time.Second, "the prompt sent by "+other.name, func() bool { return prompts(fake, third.ID) > 0 })
	t.Logf("the prompt of an order held after the kill reached the group %v after it", time.Since(killed).Round(time.Millisecond))
	if logs := other.proc.logs(); strings.Contains(logs, tgToken) {
		t.Error("the bot token appears in the log")
	}
	other.proc.interrupt(t)
}

// TestTwoServesOnOneDatabaseRefuseEachOthersReplays runs two real binaries
// on one database. Signed requests answered by the first are replayed,
// headers and all, to the second, one after another: once the first's
// signatures have reached the second (a notification, about a tenth of a
// second), a replay is refused with 401. Before processes shared
// their signatures, every replay was answered.
func TestTwoServesOnOneDatabaseRefuseEachOthersReplays(t *testing.T) {
	if testing.Short() {
		t.Skip("drives the real binary")
	}
	db := pgtest.URL(t)
	first, second := postgresService(t, db, ""), postgresService(t, db, "")
	first.start(t)
	second.start(t)
	// get sends a GET of order ext, signed now or with the headers given,
	// and returns the status.
	get := func(svc *service, ext string, h http.Header) (int, http.Header) {
		req, err := http.NewRequest(http.MethodGet, "http://"+svc.apiAddr+"/v1/orders?external_id="+ext, nil)
		if err != nil {
			t.Fatal(err)
		}
		if h == nil {
			signing.Apply(req, "shop1", []byte(testShopSecret), time.Now(), nil)
		} else {
			req.Header = h
		}
		sent := req.Header.Clone()
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		_ = res.Body.Close()
		return res.StatusCode, sent
	}
	answered := 0
	for i := range 50 {
		ext := fmt.Sprintf("RP-%d", i) // no such order: a signed request all the same
		code, sent := get(first, ext, nil)
		if code != http.StatusNotFound {
			t.Fatalf("request %d to the first process: %d, want 404", i, code)
		}
		<-time.After(100 * time.Millisecond)
		if code, _ := get(second, ext, sent); code == http.StatusUnauthorized {
			t.Logf("replay %d refused by the second process (%d answered before it)", i, answered)
			return
		}
		answered++
	}
	t.Fatalf("all %d replays to the second process were answered", answered)
}
