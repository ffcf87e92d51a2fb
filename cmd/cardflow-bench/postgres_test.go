package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"cardflow/internal/pgtest"
)

// runs splits a bench's output into its runs' reports and its summary.
func runs(t *testing.T, out string, want int) (sections []string, summary string) {
	t.Helper()
	parts := regexp.MustCompile(`(?m)^cardflow bench: `).Split(out, -1)[1:]
	if len(parts) != want {
		t.Fatalf("want %d runs, got %d:\n%s", want, len(parts), out)
	}
	last, summary, ok := strings.Cut(parts[want-1], "\nsummary: ")
	if !ok {
		t.Fatalf("no summary:\n%s", out)
	}
	parts[want-1] = last
	return parts, summary
}

// number reads the float that re's first group matches in s, and fails the
// test unless it is within [lo, hi].
func number(t *testing.T, s, re string, lo, hi float64) float64 {
	t.Helper()
	m := regexp.MustCompile(re).FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("no %s in:\n%s", re, s)
	}
	v, err := strconv.ParseFloat(strings.ReplaceAll(m[1], ",", ""), 64)
	if err != nil || v < lo || v > hi {
		t.Fatalf("%s: %s is not within [%g, %g] in:\n%s", re, m[1], lo, hi, s)
	}
	return v
}

// checkPostgresRun checks the report of a run on PostgreSQL: every order
// delivered, the server's settings, what the database spent, and that the
// run's database is gone.
func checkPostgresRun(t *testing.T, url, section string, orders int) {
	t.Helper()
	for _, want := range []string{
		`intake +\d+ accepted/s +p50 \S+ +p95 \S+ +p99 \S+ +\(rejected 0\)`,
		`delivered ` + strconv.Itoa(orders) + ` of ` + strconv.Itoa(orders) + `, callbacks included\)`,
		`ceiling +\d+ commits/s one after another on one connection`,
		`store +\d+\.\d durable writes and \d+\.\d\d commits per order; \d+ commits/s during the load, \d+% of the ceiling; writer busy \d+% of the load, \S+ per commit`,
		`database +cardflow_bench_[0-9a-f]{12}: PostgreSQL 15\.\S* .*fsync (on|off), synchronous_commit on: `,
		`sessions +\d+\.\d sessions busy on average \(\d+ samples, every 20ms\): \d+% `,
		`probes +/readyz [1-9]\d*× .*; 0 failed`,
	} {
		if !regexp.MustCompile(want).MatchString(section) {
			t.Errorf("report lacks %s:\n%s", want, section)
		}
	}
	number(t, section, `intake +(\d+) accepted/s`, 1, 1e6)
	number(t, section, `server +per order (\d+\.\d\d) write transactions`, 0.01, 100)
	number(t, section, `write transactions, (\d+) bytes of WAL`, 100, 1e7)
	number(t, section, `disk +\d+ bytes, (\d+) bytes per order`, 100, 1e7)
	if strings.Contains(section, "orders still open") {
		t.Errorf("orders left open:\n%s", section)
	}
	name := regexp.MustCompile(`database +(cardflow_bench_[0-9a-f]+)`).FindStringSubmatch(section)[1]
	if left := pgtest.Int(t, url, "SELECT count(*) FROM pg_database WHERE datname = $1", name); left != 0 {
		t.Errorf("database %s left behind", name)
	}
}

// TestBenchSetsPostgresBesideBboltInOneRun: -storage postgres runs the
// load on a bbolt file and then on a fresh PostgreSQL database of the
// server named, delivers every order on both, reports what the database
// spent, drops the database, and sums the two up as ratios.
func TestBenchSetsPostgresBesideBboltInOneRun(t *testing.T) {
	if testing.Short() {
		t.Skip("drives the real binary")
	}
	url, dir := pgtest.URL(t), t.TempDir()
	code, out := run(t, nil, "cardflow", "bench", "-storage", "postgres", "-database-url", url, "-orders", "300",
		"-concurrency", "16", "-ceiling", "200ms", "-floor", "0", "-probe", "20ms", "-dir", dir)
	if code != 0 {
		t.Fatalf("bench exit %d:\n%s", code, out)
	}
	sections, summary := runs(t, out, 2)
	if !strings.HasPrefix(sections[0], "300 orders from stock, 16 connections, as fast as possible, bbolt, durable writes,") ||
		!strings.Contains(sections[0], "delivered 300 of 300, callbacks included") {
		t.Errorf("bbolt run:\n%s", sections[0])
	}
	if !strings.HasPrefix(sections[1], "300 orders from stock, 16 connections, as fast as possible, PostgreSQL, 1 process, ") {
		t.Errorf("postgres run's heading:\n%s", sections[1])
	}
	checkPostgresRun(t, url, sections[1], 300)
	for _, want := range []string{
		`(?m)^PostgreSQL beside bbolt, as fast as possible, PostgreSQL 15\S* .*fsync (on|off), synchronous_commit on: .*; ratios are postgres / bbolt$`,
		`(?m)^  bbolt +\d+ accepted/s +\d+ delivered/s  intake p50 \S+ +p99 \S+ +service CPU \S+ per order$`,
		`(?m)^  postgres ×1 +\d+ accepted/s +\d+ delivered/s  intake p50 \S+ +p99 \S+ +service CPU \S+ per order( \+ database \S+)?; ` +
			`of bbolt: accepted \d+\.\d\d, delivered \d+\.\d\d, p50 \d+\.\d\d, p99 \d+\.\d\d, CPU \d+\.\d\d ` +
			`\((not durable: no verdict|≥ 1500 accepted/s: (meets|misses), ≥ 1000 delivered/s: (meets|misses))\)$`,
	} {
		if !regexp.MustCompile(want).MatchString(summary) {
			t.Errorf("summary lacks %s:\n%s", want, summary)
		}
	}
	number(t, summary, `postgres ×1 .*of bbolt: accepted (\d+\.\d\d)`, 0.001, 1000)
	for _, sub := range []string{"bbolt", "postgres"} {
		if _, err := os.Stat(filepath.Join(dir, sub, "bench.toml")); err != nil {
			t.Errorf("no directory of its own for the %s run: %v", sub, err)
		}
	}
}

// TestBenchSpreadsOrdersOverTwoProcessesOnOneDatabase: -processes 2 runs
// bbolt, one process and two on one database; the two share the orders
// round robin, deliver every one through the one receiver, and are set
// beside the one.
func TestBenchSpreadsOrdersOverTwoProcessesOnOneDatabase(t *testing.T) {
	if testing.Short() {
		t.Skip("drives the real binary")
	}
	url := pgtest.URL(t)
	code, out := run(t, nil, "cardflow", "bench", "-storage", "postgres", "-processes", "2", "-database-url", url,
		"-orders", "300", "-concurrency", "16", "-ceiling", "100ms", "-floor", "0", "-probe", "20ms")
	if code != 0 {
		t.Fatalf("bench exit %d:\n%s", code, out)
	}
	sections, summary := runs(t, out, 3)
	if !strings.HasPrefix(sections[2], "300 orders from stock, 16 connections, as fast as possible, PostgreSQL, 2 processes on one database, ") {
		t.Errorf("two-process run's heading:\n%s", sections[2])
	}
	checkPostgresRun(t, url, sections[1], 300)
	checkPostgresRun(t, url, sections[2], 300)
	// Every order is accepted, so round robin gives each process half.
	if !regexp.MustCompile(`processes +2 on one database, orders sent round robin: 150 accepted, \S+ CPU per order; 150 accepted, \S+ CPU per order`).MatchString(sections[2]) {
		t.Errorf("two-process run lacks each process's share:\n%s", sections[2])
	}
	if strings.Contains(sections[1], "round robin") {
		t.Errorf("one-process run reports processes:\n%s", sections[1])
	}
	want := `(?m)^  postgres ×2 +\d+ accepted/s +\d+ delivered/s .*; of bbolt: .*; of one process: accepted (\d+\.\d\d), delivered \d+\.\d\d ` +
		`\((not durable: no verdict|not slower than one: (meets|misses))\)$`
	if !regexp.MustCompile(want).MatchString(summary) {
		t.Errorf("summary lacks %s:\n%s", want, summary)
	}
	number(t, summary, want, 0.001, 1000)
}

// TestBenchRefusesStorageFlagsThatDoNotFit: -processes without postgres or
// out of 1–8, an unknown -storage, -database-url without postgres,
// postgres with -protocol all, -mail, -restart or -target, several
// processes with a docking protocol, and database URLs that do not parse
// (a word, a port that is no number: its password is not echoed) or whose
// server does not answer are usage errors that name the flag or variable.
func TestBenchRefusesStorageFlagsThatDoNotFit(t *testing.T) {
	unreachable := "postgres://cardflow@/postgres?host=" + filepath.Join(t.TempDir(), "nothing") + "&port=1"
	for _, c := range []struct {
		env  []string
		args []string
		want string
	}{
		{nil, []string{"-processes", "2"}, "-processes goes with -storage postgres"},
		{nil, []string{"-storage", "postgres", "-processes", "0"}, "-processes 0: use 1 to 8"},
		{nil, []string{"-storage", "postgres", "-processes", "9"}, "-processes 9: use 1 to 8"},
		{nil, []string{"-storage", "mysql"}, `-storage "mysql": use bbolt or postgres`},
		{nil, []string{"-database-url", unreachable}, "-database-url goes with -storage postgres"},
		{nil, []string{"-storage", "postgres", "-protocol", "all"}, "-storage postgres compares"},
		{nil, []string{"-storage", "postgres", "-mail"}, "-storage postgres compares"},
		{nil, []string{"-storage", "postgres", "-restart"}, "-restart goes with -storage bbolt"},
		{nil, []string{"-storage", "postgres", "-target", "http://127.0.0.1:1", "-storefront", "s", "-secret-env", "HOME",
			"-sku", "x", "-metrics", "http://127.0.0.1:2"}, "-storage postgres starts its services; -target loads"},
		{nil, []string{"-storage", "postgres", "-processes", "2", "-protocol", "acg-faka"}, "-processes spreads orders of -protocol cardflow"},
		{nil, []string{"-storage", "postgres", "-database-url", "nowhere"}, "-database-url is not a PostgreSQL URL"},
		{nil, []string{"-storage", "postgres", "-database-url", "postgres://u:s3cret@db:port/x"}, "-database-url is not a PostgreSQL URL"},
		{[]string{envDatabaseURL + "=postgres://u:s3cret@db:port/x"}, []string{"-storage", "postgres"}, envDatabaseURL + " is not a PostgreSQL URL"},
		{nil, []string{"-storage", "postgres", "-database-url", unreachable, "-orders", "10"}, "-database-url: cannot connect"},
		{[]string{envDatabaseURL + "=" + unreachable}, []string{"-storage", "postgres", "-orders", "10"}, envDatabaseURL + ": cannot connect"},
	} {
		code, out := run(t, c.env, "cardflow", append([]string{"bench"}, c.args...)...)
		if code != 2 || !strings.Contains(out, "cardflow bench: "+c.want) || strings.Contains(out, "s3cret") {
			t.Errorf("%v %v: exit %d, want 2 and %q in %q", c.env, c.args, code, c.want, out)
		}
	}
}

// TestBenchWithoutAServerOutsideACheckoutSaysWhatToGive: with no URL the
// bench starts a cluster with the checkout's scripts/pg; run outside any
// checkout it says to give -database-url instead, and exits 2.
func TestBenchWithoutAServerOutsideACheckoutSaysWhatToGive(t *testing.T) {
	bin := binaries(t)
	cmd := exec.Command(filepath.Join(bin, "cardflow-bench"), "-cardflow", filepath.Join(bin, "cardflow"), "-storage", "postgres", "-orders", "10")
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), envDatabaseURL+"=")
	out, err := cmd.CombinedOutput()
	if cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != 2 ||
		!strings.Contains(string(out), "cardflow bench: -storage postgres needs a server: give -database-url (or "+envDatabaseURL+"), or run from a cardflow checkout") {
		t.Fatalf("exit %v: %s", err, out)
	}
}

// ownCluster skips a test that starts a cluster of its own where
// PostgreSQL is not installed, unless the run requires PostgreSQL (then
// scripts/pg installs it).
func ownCluster(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a PostgreSQL cluster and drives the real binary")
	}
	if _, err := os.Stat("/usr/lib/postgresql/15/bin/postgres"); err != nil && os.Getenv(pgtest.EnvPostgres) != "required" {
		t.Skip("PostgreSQL 15 is not installed")
	}
}

// clusterDir finds the directory the bench said it started its cluster in.
var clusterDir = regexp.MustCompile(`starting a throwaway durable PostgreSQL cluster in (\S+) \(scripts/pg\)`)

// TestBenchStartsADurableClusterOfItsOwnAndRemovesIt: without a URL the
// bench starts a durable cluster with scripts/pg, runs on it, and stops
// and removes it at the end.
func TestBenchStartsADurableClusterOfItsOwnAndRemovesIt(t *testing.T) {
	ownCluster(t)
	code, out := run(t, []string{envDatabaseURL + "="}, "cardflow", "bench", "-storage", "postgres", "-orders", "100",
		"-concurrency", "8", "-ceiling", "100ms", "-floor", "0")
	if code != 0 {
		t.Fatalf("bench exit %d:\n%s", code, out)
	}
	m := clusterDir.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no cluster started:\n%s", out)
	}
	if _, err := os.Stat(m[1]); !os.IsNotExist(err) {
		t.Errorf("cluster directory %s left behind (%v)", m[1], err)
	}
	sections, summary := runs(t, out, 2)
	if !strings.Contains(sections[1], "PostgreSQL, 1 process, durable writes,") ||
		!regexp.MustCompile(`fsync on, synchronous_commit on: durable writes`).MatchString(sections[1]) ||
		!strings.Contains(sections[1], "delivered 100 of 100") {
		t.Errorf("run on its own cluster:\n%s", sections[1])
	}
	if strings.Contains(summary, "no verdict") {
		t.Errorf("a durable run has no verdict:\n%s", summary)
	}
}

// TestBenchStopsItsClusterWhenInterrupted: an interrupt during the load
// ends the bench, which stops its services and its cluster and removes it.
func TestBenchStopsItsClusterWhenInterrupted(t *testing.T) {
	ownCluster(t)
	cmd := exec.Command(filepath.Join(binaries(t), "cardflow-bench"), "-storage", "postgres", "-orders", "5000", "-rate", "100",
		"-concurrency", "4", "-ceiling", "0", "-floor", "0")
	cmd.Env = append(os.Environ(), envDatabaseURL+"=")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill() }()
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Split(scanLinesOrReturns)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var dir string
	deadline := time.After(2 * time.Minute)
	for loading := false; !loading; {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("the bench ended before its load")
			}
			if m := clusterDir.FindStringSubmatch(l); m != nil {
				dir = m[1]
			}
			loading = dir != "" && strings.Contains(l, "accepted")
		case <-deadline:
			t.Fatal("no load within two minutes")
		}
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	go func() {
		for range lines {
		}
	}()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		t.Fatal("the bench did not end within two minutes of the interrupt")
	}
	// The bench stops and removes its cluster before it exits.
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("cluster directory %s left behind (%v)", dir, err)
	}
}

// scanLinesOrReturns splits at a newline or a carriage return: the
// progress line is rewritten in place.
func scanLinesOrReturns(data []byte, atEOF bool) (int, []byte, error) {
	for i, b := range data {
		if b == '\n' || b == '\r' {
			return i + 1, data[:i], nil
		}
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}

// TestSeveralProcessesAtARateAreJudgedByWhatTheyKeepUpWith: at a rate,
// both runs were sent the orders on one schedule, so the processes are
// not slower than one if they delivered as many a second once the run was
// under way (Steady), whatever their slower tail did to delivered/s. Inputs:
// two processes at 0.99 of one's steady deliveries (meets), at 0.90
// (misses, though their delivered/s matched), and a server that does not
// flush its commits (no verdict). As fast as possible the verdict stays on
// accepted and delivered a second.
func TestSeveralProcessesAtARateAreJudgedByWhatTheyKeepUpWith(t *testing.T) {
	durable := pgSettings{version: "15", fsync: "on", synchronousCommit: "on"}
	report := func(store string, delivered, steady float64) benchReport {
		r := benchReport{store: store}
		r.Accepted, r.Delivered, r.Steady = 20000, 20000, steady
		r.IntakeDuration = 10 * time.Second
		r.DeliveredDuration = time.Duration(float64(r.Delivered) / delivered * float64(time.Second))
		return r
	}
	for _, c := range []struct {
		name     string
		rate     float64
		two      benchReport
		settings pgSettings
		want     string
	}{
		{"keeps up", 2000, report("postgres ×2", 1950, 1980), durable, `of one process: accepted 1\.00, delivered 0\.98, steady 0\.99 \(not slower than one: meets\)$`},
		{"falls behind", 2000, report("postgres ×2", 1990, 1800), durable, `steady 0\.90 \(not slower than one: misses\)$`},
		{"not durable", 2000, report("postgres ×2", 1990, 1800), pgSettings{version: "15", fsync: "off", synchronousCommit: "on"}, `steady 0\.90 \(not durable: no verdict\)$`},
		{"as fast as possible", 0, report("postgres ×2", 1900, 1980), durable, `delivered 0\.95 \(not slower than one: misses\)$`},
	} {
		var out strings.Builder
		reports := []benchReport{report("bbolt", 4000, 4000), report("postgres ×1", 1990, 2000), c.two}
		printStorageSummary(&out, reports, benchOptions{rate: c.rate, processes: 2}, c.settings)
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		if got := lines[len(lines)-1]; !regexp.MustCompile(c.want).MatchString(got) {
			t.Errorf("%s: the two processes' line\n%s\nlacks %s", c.name, got, c.want)
		}
	}
}
