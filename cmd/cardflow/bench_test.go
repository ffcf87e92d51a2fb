package main

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"cardflow/internal/demo"
)

// TestBenchReportsEveryFigure runs a small `cardflow bench` end to end (a
// child service, the ceiling, probes, a restart) and checks that each
// figure the report promises is there and that nothing was lost.
func TestBenchReportsEveryFigure(t *testing.T) {
	if testing.Short() {
		t.Skip("drives the real binary")
	}
	code, out := runBinary(t, nil, "bench", "-orders", "400", "-concurrency", "16", "-ceiling", "200ms", "-floor", "200ms",
		"-probe", "20ms", "-restart", "-dir", t.TempDir())
	if code != 0 {
		t.Fatalf("bench exit %d:\n%s", code, out)
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`intake +\d+ accepted/s +p50 \S+ +p95 \S+ +p99 \S+ +\(rejected 0\)`),
		regexp.MustCompile(`delivered 400 of 400, callbacks included`),
		regexp.MustCompile(`ceiling +\d+ writes/s through the group-commit writer alone \(256 producers`),
		regexp.MustCompile(`http floor +\d+ bare exchanges/s over loopback \(256 connections, \S+ of CPU each, this process alone, this run\); at two per order intake ran at \d+% of \d+ orders/s`),
		regexp.MustCompile(`store +\d+\.\d durable writes and \d+\.\d+ commits per order; the ceiling carries \d+ orders/s of 5 writes each: intake ran at \d+% of it`),
		regexp.MustCompile(`service +peak RSS \d+\.\d MB during the load \(\d+\.\d MB while importing 400 card keys before it\); after the load \d+\.\d MB`),
		regexp.MustCompile(`probes +/readyz [1-9]\d*× .*/metrics [1-9]\d*× .*; 0 failed`),
		regexp.MustCompile(`restart +stopped in \S+, ready again in \S+ with 400 orders stored, first order accepted after \S+, RSS \d+\.\d MB \(\d+\.\d MB own, \d+\.\d MB of mapped database pages\)`),
	} {
		if !want.MatchString(out) {
			t.Errorf("report lacks %s:\n%s", want, out)
		}
	}
}

// TestBenchRefusesIncompleteTargetFlags: -target without what it needs, or
// target-only flags without -target, is a usage error that names the flags.
func TestBenchRefusesIncompleteTargetFlags(t *testing.T) {
	for _, args := range [][]string{
		{"bench", "-target", "http://127.0.0.1:1"},
		{"bench", "-target", "http://127.0.0.1:1", "-storefront", "s", "-secret-env", "CARDFLOW_TEST_UNSET_SECRET", "-sku", "x",
			"-metrics", "http://127.0.0.1:2"},
		{"bench", "-target", "http://127.0.0.1:1", "-storefront", "s", "-secret-env", "HOME", "-sku", "x"}, // no -metrics
		{"bench", "-sku", "qb-10"},
		{"bench", "-orders", "0"},
	} {
		code, out := runBinary(t, nil, args...)
		if code != 2 || !strings.Contains(out, "cardflow bench: -") {
			t.Errorf("%v: exit %d, %q", args, code, out)
		}
	}
}

// TestBenchAgainstARunningService: with -target the bench signs orders as
// a configured storefront, loads a service it did not start, and probes it.
func TestBenchAgainstARunningService(t *testing.T) {
	if testing.Short() {
		t.Skip("drives the real binary")
	}
	s := newService(t, "")
	p := s.start(t)
	if _, err := s.adminClient().ImportStock(context.Background(), "qb-10", strings.NewReader(demo.CardLines("qb-10", 200))); err != nil {
		t.Fatal(err)
	}
	code, out := runBinary(t, []string{"CARDFLOW_SHOP1_SECRET=" + testShopSecret, "CARDFLOW_ADMIN_TOKEN=" + testAdminToken}, "bench",
		"-target", "http://"+s.apiAddr, "-metrics", "http://"+s.admin,
		"-storefront", "shop1", "-secret-env", "CARDFLOW_SHOP1_SECRET", "-sku", "qb-10", "-orders", "150",
		"-concurrency", "8", "-ceiling", "0", "-floor", "0", "-probe", "20ms")
	if code != 0 || !strings.Contains(out, "(rejected 0)") || !strings.Contains(out, "0 failed") {
		t.Fatalf("bench -target: exit %d\n%s", code, out)
	}
	waitUntil(t, 10*time.Second, "150 orders delivered", func() bool { return s.receiver.Stats().Accepted >= 150 })
	p.interrupt(t)
}
