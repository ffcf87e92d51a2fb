package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"cardflow/bot/chat"
	"cardflow/bot/telegram/tgfake"
	"cardflow/internal/pgtest"
	"cardflow/internal/storefront"
	"cardflow/internal/testkit"
)

// postgresService is a service whose state is in a PostgreSQL database of
// its own, reached at url (the database itself, or a proxy to it).
func postgresService(t *testing.T, url, extra string) *service {
	t.Helper()
	s := newService(t, extra+"\n[storage]\nbackend = \"postgres\"\ndsn_env = \"CARDFLOW_TEST_DSN\"\n")
	s.env = append(s.env, "CARDFLOW_TEST_DSN="+url)
	return s
}

// readyz is the status /readyz answers.
func (s *service) readyz() int {
	res, err := http.Get("http://" + s.apiAddr + "/readyz")
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, res.Body)
	_ = res.Body.Close()
	return res.StatusCode
}

// TestServeOnPostgresAnswers503WhileItsDatabaseIsAwayAndResumesAfter runs
// the real binary on PostgreSQL through a proxy, cuts every connection (a
// database restart or a network cut) and restores them: meanwhile /readyz
// fails and an order is refused with 503 unavailable, nothing half done;
// after, without a restart, /readyz answers again and the refused order,
// sent again, is delivered.
func TestServeOnPostgresAnswers503WhileItsDatabaseIsAwayAndResumesAfter(t *testing.T) {
	if testing.Short() {
		t.Skip("drives the real binary")
	}
	proxy := pgtest.NewProxy(t, pgtest.URL(t))
	s := postgresService(t, proxy.URL(), "")
	p := s.start(t)
	ctx := context.Background()
	if res, err := s.adminClient().ImportStock(ctx, "qb-10", strings.NewReader("PG-1,pw1\nPG-2,pw2\n")); err != nil || res.Added != 2 {
		t.Fatalf("import: %+v %v", res, err)
	}
	order := func(ext string) storefront.NewOrder {
		return storefront.NewOrder{ExternalID: ext, SKU: "qb-10", Quantity: 1, Amount: "10.00", Buyer: storefront.Buyer{ID: "b1"}}
	}
	client := s.client()
	if got, _, err := submit(ctx, client, order("BEFORE")); err != nil || got.Status != "delivered" {
		t.Fatalf("order before the cut: %+v %v", got, err)
	}

	proxy.Cut()
	testkit.Poll(10*time.Second, 50*time.Millisecond, func() bool { return s.readyz() == http.StatusServiceUnavailable })
	if code := s.readyz(); code != http.StatusServiceUnavailable {
		t.Fatalf("/readyz answers %d with the database away, want 503", code)
	}
	refusedAt := time.Now()
	_, status, err := client.Create(ctx, order("DURING"))
	var apiErr *storefront.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusServiceUnavailable || apiErr.Code != "unavailable" {
		t.Fatalf("an order with the database away: %d %v, want 503 unavailable", status, err)
	}

	proxy.Restore()
	testkit.Poll(10*time.Second, 50*time.Millisecond, func() bool { return s.readyz() == http.StatusOK })
	if code := s.readyz(); code != http.StatusOK {
		t.Fatalf("/readyz answers %d after the database came back, want 200:\n%s", code, p.logs())
	}
	// The refused request's signature is spent: a storefront signs its
	// next try afresh, which takes a new second to differ.
	<-time.After(time.Until(refusedAt.Truncate(time.Second).Add(time.Second)))
	got, _, err := submit(ctx, client, order("DURING"))
	if err != nil || got.Status != "delivered" {
		t.Fatalf("the refused order sent again: %+v %v", got, err)
	}
	if logs := p.logs(); !strings.Contains(logs, "storage unavailable") {
		t.Errorf("the logs do not say the storage was lost:\n%s", logs)
	}
	// Without a chat channel the operators' alerts are logged: the outage
	// is told, raised and resolved, once the database answers.
	testkit.Poll(10*time.Second, 50*time.Millisecond, func() bool { return strings.Count(p.logs(), `"alert":"storage_unavailable:`) >= 2 })
	if logs := p.logs(); !strings.Contains(logs, `"alert":"storage_unavailable:`) || !strings.Contains(logs, `"resolved":true`) {
		t.Errorf("no storage_unavailable alert raised and resolved:\n%s", lastLines(logs, 20))
	}
	p.interrupt(t)
}

// TestOperatorsHearOfALostDatabaseWhileItIsAway runs the real binary on
// PostgreSQL through a proxy, with a Telegram group (a fake Bot API), and
// cuts the database off: within the grace and a little more, the group
// gets a notice sent straight through Telegram (nothing can be stored),
// naming the process. When the database is back the stored alert follows,
// saying how long the outage lasted.
func TestOperatorsHearOfALostDatabaseWhileItIsAway(t *testing.T) {
	if testing.Short() {
		t.Skip("drives the real binary")
	}
	fake := tgfake.New(tgToken)
	defer fake.Close()
	proxy := pgtest.NewProxy(t, pgtest.URL(t))
	s := postgresService(t, proxy.URL(), telegramSection(fake, "100ms"))
	p := s.start(t)
	said := func(text string) bool {
		return slices.ContainsFunc(fake.Messages(tgGroup), func(m tgfake.Message) bool { return strings.Contains(m.Text, text) })
	}

	proxy.Cut()
	cut := time.Now()
	testkit.Poll(30*time.Second, 100*time.Millisecond, func() bool { return said("无法连接数据库") })
	if !said("无法连接数据库") {
		t.Fatalf("no notice in the group %v after the database went away:\n%s", time.Since(cut).Round(time.Second), lastLines(p.logs(), 20))
	}
	if took := time.Since(cut); took < 9*time.Second {
		t.Errorf("the notice came %v after the cut, before the grace: a blip would page the operators", took.Round(time.Millisecond))
	}
	host, _ := os.Hostname()
	if shown := chat.Untrusted(host).String() + ":"; !said(shown) {
		t.Errorf("the notice does not name the process (%spid): %+v", shown, fake.Messages(tgGroup))
	}

	proxy.Restore()
	testkit.Poll(30*time.Second, 100*time.Millisecond, func() bool { return said("数据库已恢复") })
	if !said("数据库已恢复") {
		t.Errorf("no alert in the group that the database answers again:\n%s", lastLines(p.logs(), 20))
	}
	notices := 0
	for _, m := range fake.Messages(tgGroup) {
		if strings.Contains(m.Text, "无法连接数据库") {
			notices++
		}
	}
	if notices != 1 {
		t.Errorf("%d notices of one outage, want 1", notices)
	}
	p.interrupt(t)
}
