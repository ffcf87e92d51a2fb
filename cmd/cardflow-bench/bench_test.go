package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"cardflow/internal/adminclient"
	"cardflow/internal/demo"
	"cardflow/internal/loopback"
)

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// binaries builds cardflow and cardflow-bench side by side, once, and
// returns their directory.
func binaries(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		if binDir, buildErr = os.MkdirTemp("", "cardflow-bench-test-"); buildErr != nil {
			return
		}
		out, err := exec.Command("go", "build", "-o", binDir+string(filepath.Separator), "cardflow/cmd/cardflow", ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binDir
}

// run runs one of the binaries (cardflow or cardflow-bench) to completion
// and returns its exit code and combined output.
func run(t *testing.T, env []string, name string, args ...string) (int, string) {
	t.Helper()
	return runPath(t, env, filepath.Join(binaries(t), name), args...)
}

func runPath(t *testing.T, env []string, path string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(path, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode(), string(out)
		}
		t.Fatal(err)
	}
	return 0, string(out)
}

// TestBenchReportsEveryFigure runs a small `cardflow bench` end to end (a
// child service, the ceiling, probes, a restart) and checks that each
// figure the report promises is there and that nothing was lost.
func TestBenchReportsEveryFigure(t *testing.T) {
	if testing.Short() {
		t.Skip("drives the real binary")
	}
	code, out := run(t, nil, "cardflow", "bench", "-orders", "400", "-concurrency", "16", "-ceiling", "200ms", "-floor", "200ms",
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

// TestBenchPlaysEachDockingProtocolBesideTheNativeAPI runs a small
// `cardflow bench -protocol all`: the native API, a Dujiao-Next shop and an
// acg-faka shop one after another, each delivering every order (by callback,
// or in the trade's answer), the Dujiao-Next run polling orders and syncing
// 500 products while its orders flow, and a summary naming each protocol's
// share of the native intake. Timings are not judged.
func TestBenchPlaysEachDockingProtocolBesideTheNativeAPI(t *testing.T) {
	if testing.Short() {
		t.Skip("drives the real binary")
	}
	dir := t.TempDir()
	code, out := run(t, nil, "cardflow", "bench", "-protocol", "all", "-orders", "120", "-concurrency", "8",
		"-ceiling", "0", "-floor", "0", "-poll", "5ms", "-dir", dir)
	if code != 0 {
		t.Fatalf("bench exit %d:\n%s", code, out)
	}
	sections := regexp.MustCompile(`(?m)^cardflow bench: `).Split(out, -1)[1:]
	if len(sections) != 3 {
		t.Fatalf("want three runs, got %d:\n%s", len(sections), out)
	}
	intake := regexp.MustCompile(`intake +\d+ accepted/s +p50 \S+ +p95 \S+ +p99 \S+ +\(rejected 0\)`)
	for i, want := range [][]*regexp.Regexp{
		{regexp.MustCompile(`^120 orders from stock, 8 connections, .*storefront protocol cardflow\n`), intake,
			regexp.MustCompile(`delivered 120 of 120, callbacks included\)`)},
		{regexp.MustCompile(`^120 orders from stock, 8 connections, .*storefront protocol dujiao-next\n`), intake,
			regexp.MustCompile(`delivered 120 of 120, callbacks included, each held 2 s after its answer\)`),
			regexp.MustCompile(`polls +GET /orders/\{id\} [1-9]\d*× p50 \S+ +p99 \S+ +max \S+; GET /products page_size=50 of 500 products [1-9]\d*× p50 \S+ +p99 \S+ +max \S+; 0 failed`)},
		{regexp.MustCompile(`^120 orders from stock, 8 connections, .*storefront protocol acg-faka\n`), intake,
			regexp.MustCompile(`end to end +\d+ delivered/s +\(delivered 120 of 120, keys in the answers\)`)},
	} {
		for _, w := range want {
			if !w.MatchString(sections[i]) {
				t.Errorf("run %d lacks %s:\n%s", i+1, w, sections[i])
			}
		}
		if strings.Contains(sections[i], "orders still open") {
			t.Errorf("run %d left orders open:\n%s", i+1, sections[i])
		}
	}
	for _, w := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^summary: accepted/s as a share of the native API's \(target ≥ 0\.70\); poll and product sync p99 while the orders flow (as fast as possible|at \d+/s) \(target < 10ms\)$`),
		regexp.MustCompile(`(?m)^  cardflow +\d+ accepted/s  1\.00 of native$`),
		regexp.MustCompile(`(?m)^  dujiao-next +\d+ accepted/s  \d+\.\d\d of native \((meets|misses) the target\); poll p99 \S+ \((meets|misses)\), product sync p99 \S+ \((meets|misses)\)$`),
		regexp.MustCompile(`(?m)^  acg-faka +\d+ accepted/s  \d+\.\d\d of native \((meets|misses) the target\)$`),
	} {
		if !w.MatchString(out) {
			t.Errorf("summary lacks %s:\n%s", w, out)
		}
	}
	for _, p := range []string{"cardflow", "dujiao-next", "acg-faka"} {
		if _, err := os.Stat(filepath.Join(dir, p, "data")); err != nil {
			t.Errorf("no data directory of its own for %s: %v", p, err)
		}
	}
}

// TestBenchRefusesBadOrIncompleteFlags: -target without what it needs,
// target-only flags without -target, an unknown -protocol, -target or
// -restart with a docking protocol, a page size outside 1–200, an empty
// catalogue or no poll interval is a usage error that names the flags.
func TestBenchRefusesBadOrIncompleteFlags(t *testing.T) {
	for _, args := range [][]string{
		{"bench", "-target", "http://127.0.0.1:1"},
		{"bench", "-target", "http://127.0.0.1:1", "-storefront", "s", "-secret-env", "CARDFLOW_TEST_UNSET_SECRET", "-sku", "x",
			"-metrics", "http://127.0.0.1:2"},
		{"bench", "-target", "http://127.0.0.1:1", "-storefront", "s", "-secret-env", "HOME", "-sku", "x"}, // no -metrics
		{"bench", "-sku", "qb-10"},
		{"bench", "-orders", "0"},
		{"bench", "-protocol", "dujiao"},
		{"bench", "-protocol", ""},
		{"bench", "-protocol", "acg-faka", "-restart"},
		{"bench", "-protocol", "dujiao-next", "-target", "http://127.0.0.1:1"},
		{"bench", "-protocol", "dujiao-next", "-page-size", "201"},
		{"bench", "-protocol", "dujiao-next", "-page-size", "0"},
		{"bench", "-protocol", "dujiao-next", "-poll", "0s"},
		{"bench", "-protocol", "acg-faka", "-catalogue", "0"},
	} {
		code, out := run(t, nil, "cardflow", args...)
		if code != 2 || !strings.Contains(out, "cardflow bench: -") {
			t.Errorf("%v: exit %d, %q", args, code, out)
		}
	}
}

// TestBenchAgainstARunningService: with -target the bench signs orders as
// a configured storefront, loads a service it did not start, probes it,
// and receives its callbacks on -callback-listen.
func TestBenchAgainstARunningService(t *testing.T) {
	if testing.Short() {
		t.Skip("drives the real binary")
	}
	ctx := context.Background()
	api, err := loopback.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	callbacks, err := loopback.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	stock, _ := benchSupplier("stock", api)
	secret, token := randomHex(24), randomHex(24)
	svc, err := startBenchService(ctx, serviceSpec{bin: filepath.Join(binaries(t), "cardflow"), dir: t.TempDir(), workers: 8,
		shop: nativeStorefront("http://" + callbacks + "/cb"), source: stock.config, secret: secret, token: token}, "bench", api)
	if err != nil {
		t.Fatal(err)
	}
	defer svc.stop()
	admin := &adminclient.Client{BaseURL: "http://" + svc.admin, Token: token}
	if _, err := admin.ImportStock(ctx, "qb-10", strings.NewReader(demo.CardLines("qb-10", 200))); err != nil {
		t.Fatal(err)
	}
	code, out := run(t, []string{"BENCH_SHOP_SECRET=" + secret, "BENCH_ADMIN_TOKEN=" + token}, "cardflow-bench",
		"-target", "http://"+api, "-metrics", "http://"+svc.admin, "-token-env", "BENCH_ADMIN_TOKEN",
		"-storefront", demo.StorefrontID, "-secret-env", "BENCH_SHOP_SECRET", "-sku", "qb-10", "-orders", "150",
		"-callback-listen", callbacks, "-concurrency", "8", "-ceiling", "0", "-floor", "0", "-probe", "20ms")
	for _, want := range []string{"(rejected 0)", "delivered 150 of 150", "; 0 failed"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("bench -target: exit %d, want %q in\n%s", code, want, out)
		}
	}
}

// TestBenchBuildsTheServiceWhenNoneIsBesideIt: run alone (as `go run
// ./cmd/cardflow-bench` does), the bench builds cardflow from the module in
// its working directory and measures that, not a cardflow on PATH.
func TestBenchBuildsTheServiceWhenNoneIsBesideIt(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and drives the real binary")
	}
	alone := filepath.Join(t.TempDir(), "cardflow-bench")
	if err := os.Link(filepath.Join(binaries(t), "cardflow-bench"), alone); err != nil {
		t.Fatal(err)
	}
	code, out := runPath(t, nil, alone,
		"-orders", "50", "-concurrency", "4", "-ceiling", "0", "-floor", "0")
	if code != 0 || !strings.Contains(out, "building cardflow/cmd/cardflow") || !strings.Contains(out, "delivered 50 of 50") {
		t.Fatalf("cardflow-bench alone: exit %d\n%s", code, out)
	}
}
