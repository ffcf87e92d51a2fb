package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"cardflow/internal/loopback"
	"cardflow/internal/outbound"
	"cardflow/suppliers/fulu/fulufake"
)

// serviceBinary finds the cardflow binary the bench runs as its service:
// the one named (`cardflow bench` names itself), else cardflow beside this
// binary, else one built with `go build` from the module in the working
// directory (so that `go run ./cmd/cardflow-bench` in a checkout measures
// that checkout), else cardflow on PATH. cleanup removes what was built.
func serviceBinary(ctx context.Context, named string) (path string, cleanup func(), err error) {
	none := func() {}
	if named != "" {
		path, err := exec.LookPath(named)
		if err != nil {
			return "", none, fmt.Errorf("-cardflow: %w", err)
		}
		return path, none, nil
	}
	if self, err := os.Executable(); err == nil {
		if path, err := exec.LookPath(filepath.Join(filepath.Dir(self), "cardflow")); err == nil {
			return path, none, nil
		}
	}
	tmp, err := os.MkdirTemp("", "cardflow-bench-bin-")
	if err != nil {
		return "", none, err
	}
	cleanup = func() { _ = os.RemoveAll(tmp) }
	path = filepath.Join(tmp, "cardflow")
	fmt.Fprintln(os.Stderr, "no cardflow beside cardflow-bench: building cardflow/cmd/cardflow from the module here…")
	out, berr := exec.CommandContext(ctx, "go", "build", "-o", path, "cardflow/cmd/cardflow").CombinedOutput()
	if berr == nil {
		return path, cleanup, nil
	}
	cleanup()
	if path, err := exec.LookPath("cardflow"); err == nil {
		fmt.Fprintf(os.Stderr, "not in the cardflow module: running %s from PATH\n", path)
		return path, none, nil
	}
	return "", none, fmt.Errorf("no cardflow binary: none beside this one or on PATH, and go build failed (%v): %s",
		berr, strings.TrimSpace(string(out)))
}

// benchService is the `cardflow serve` child process under test.
type benchService struct {
	bin        string // the cardflow binary
	cmd        *exec.Cmd
	api, admin string
	config     string   // path of its config file
	env        []string // its secrets
	done       chan struct{}
}

// benchSource is the supplier side of a bench run: config lines for the
// service, and whatever runs in this process (the fake Fulu gateway).
type benchSource struct {
	config string // TOML: [[suppliers]] and the qb-10 product's sources
	close  func()
}

func benchSupplier(source, api string) (benchSource, error) {
	switch source {
	case "stock":
		return benchSource{config: "\n" + benchProduct("own", ""), close: func() {}}, nil
	case "sim":
		return benchSource{config: `
[[suppliers]]
name = "sim"
type = "sim"
latency = "0s"
` + benchProduct("sim", "QB10"), close: func() {}}, nil
	case "fulu":
		gw := fulufake.New(fulufake.Options{NotifyURL: "http://" + api + "/notify/fulu"})
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return benchSource{}, err
		}
		srv := &http.Server{Handler: gw, ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		return benchSource{config: fmt.Sprintf(`
[[suppliers]]
name = "fulu"
type = "fulu"
base_url = "http://%s"
app_key = %q
app_secret = %q
notify_path = "/notify/fulu"
`, ln.Addr(), fulufake.SandboxAppKey, fulufake.SandboxAppSecret) + benchProduct("fulu", strconv.FormatInt(fulufake.ProductCard, 10)),
			close: func() { _ = srv.Close(); gw.Close() }}, nil
	}
	return benchSource{}, fmt.Errorf("-source %q: use stock, sim or fulu", source)
}

// benchProduct is the one product every run sells, docked so that the
// docking protocols can buy it too, from supplier (item as it names it).
func benchProduct(supplier, item string) string {
	product := fmt.Sprintf(`[[products]]
sku = "qb-10"
name = "Q币 10元"
max_quantity = 1
id = 1001
price = "10.00"
  [[products.sources]]
  supplier = %q
`, supplier)
	if item != "" {
		product += fmt.Sprintf("  item = %q\n", item)
	}
	return product
}

// serviceSpec is what the `cardflow serve` processes of a run share: the
// storefront block shop (its secret in BENCH_SHOP_SECRET), the products and
// suppliers of source, and the [storage] block (empty: bbolt in the data
// directory) with the environment it reads.
type serviceSpec struct {
	bin, dir      string
	workers       int
	shop, source  string
	secret, token string
	storage       string
	storageEnv    []string
}

// startBenchService starts one `cardflow serve` of spec whose storefront
// listener is api; name names its config file in spec.dir.
func startBenchService(ctx context.Context, spec serviceSpec, name, api string) (*benchService, error) {
	admin, err := loopback.FreeAddr()
	if err != nil {
		return nil, err
	}
	cfg := fmt.Sprintf(`data_dir = "data"
[api]
listen = %q
[admin]
listen = %q
token_env = "BENCH_ADMIN_TOKEN"
[log]
level = "error"
%s
[[suppliers]]
name = "own"
type = "stock"
[[rules]] # evaluated for every order (with the buyer-history lookup), never matching here
name = "large-order"
when = "order.amount > 500"
action = "review"
[processing]
workers = %d
%s
%s`, api, admin, spec.shop, spec.workers, spec.storage, spec.source)
	s := &benchService{bin: spec.bin, api: api, admin: admin, config: filepath.Join(spec.dir, name+".toml"),
		env: append([]string{"BENCH_ADMIN_TOKEN=" + spec.token, "BENCH_SHOP_SECRET=" + spec.secret,
			"CARDFLOW_MASTER_KEY=" + strings.Repeat("A", 43) + "="}, spec.storageEnv...)}
	if err := os.WriteFile(s.config, []byte(cfg), 0o600); err != nil {
		return nil, err
	}
	if _, err := s.launch(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// launch starts the process and returns how long it took to be ready
// (/readyz answering 200: the store open and recovery done).
func (s *benchService) launch(ctx context.Context) (time.Duration, error) {
	start := time.Now()
	cmd := exec.CommandContext(ctx, s.bin, "serve", "-config", s.config)
	cmd.Env = append(os.Environ(), s.env...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	s.cmd, s.done = cmd, make(chan struct{})
	done := s.done
	go func() { _ = cmd.Wait(); close(done) }()
	deadline := start.Add(60 * time.Second)
	client := outbound.New(outbound.Options{Timeout: 5 * time.Second})
	for {
		resp, err := client.Get("http://" + s.api + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(start), nil
			}
		}
		select {
		case <-done:
			return 0, errors.New("cardflow serve exited during start-up")
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			return 0, errors.New("cardflow serve not ready after 60 s")
		}
	}
}

// stop asks the service to shut down (SIGTERM) and waits; it kills it if
// that takes more than a minute.
func (s *benchService) stop() time.Duration {
	start := time.Now()
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(time.Minute):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	return time.Since(start)
}

// rss is a process's resident memory now (Linux): its own (heap, stacks)
// and the pages of files it maps that are in memory — for cardflow, the
// parts of the bbolt file it touched, which the kernel's page cache holds
// and reclaims under pressure.
type rss struct{ anon, file int64 }

func currentRSS(pid int) rss {
	return rss{anon: procStatusKB(pid, "RssAnon:"), file: procStatusKB(pid, "RssFile:")}
}

func (r rss) String() string {
	return fmt.Sprintf("%.1f MB (%.1f MB own, %.1f MB of mapped database pages)",
		float64(r.anon+r.file)/(1<<20), float64(r.anon)/(1<<20), float64(r.file)/(1<<20))
}

// peakRSS reads a process's high-water resident set size (Linux).
func peakRSS(pid int) int64 { return procStatusKB(pid, "VmHWM:") }

// resetPeakRSS starts the high-water mark again from the current resident
// set (Linux: "5" to /proc/PID/clear_refs), so that the peak of the load
// is not the peak of the stock import before it.
func resetPeakRSS(pid int) error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
}

func procStatusKB(pid int, field string) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, field); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (s *benchService) pid() int { return s.cmd.Process.Pid }

// fleet is the `cardflow serve` processes of a run: one on a bbolt file,
// one or more on a PostgreSQL database.
type fleet []*benchService

// startFleet starts a service of spec on each of apis, one after another.
func startFleet(ctx context.Context, spec serviceSpec, apis []string) (fleet, error) {
	var f fleet
	for i, api := range apis {
		name := "bench"
		if i > 0 {
			name = fmt.Sprintf("bench-%d", i+1)
		}
		s, err := startBenchService(ctx, spec, name, api)
		if err != nil {
			f.stop()
			if len(apis) > 1 {
				err = fmt.Errorf("cardflow serve %d of %d: %w", i+1, len(apis), err)
			}
			return nil, err
		}
		f = append(f, s)
	}
	return f, nil
}

// stop stops every service at once and waits for them; a service stopped
// already is left as it is.
func (f fleet) stop() {
	var wg sync.WaitGroup
	for _, s := range f {
		wg.Go(func() { s.stop() })
	}
	wg.Wait()
}

// cpu is each service's CPU time so far.
func (f fleet) cpu() []time.Duration {
	t := make([]time.Duration, len(f))
	for i, s := range f {
		t[i] = processCPU(s.pid())
	}
	return t
}

// endpoints are where the load and the probes reach the services.
func (f fleet) endpoints(token string) []endpoint {
	e := make([]endpoint, len(f))
	for i, s := range f {
		e[i] = endpoint{base: "http://" + s.api, scraper: newScraper("http://"+s.admin, token)}
	}
	return e
}

// peakRSS is the services' high-water resident sets, added up.
func (f fleet) peakRSS() int64 {
	var n int64
	for _, s := range f {
		n += peakRSS(s.pid())
	}
	return n
}

// currentRSS is the services' resident sets now, added up.
func (f fleet) currentRSS() rss {
	var r rss
	for _, s := range f {
		c := currentRSS(s.pid())
		r.anon, r.file = r.anon+c.anon, r.file+c.file
	}
	return r
}

// resetPeakRSS starts every service's high-water mark again.
func (f fleet) resetPeakRSS() error {
	var errs []error
	for _, s := range f {
		errs = append(errs, resetPeakRSS(s.pid()))
	}
	return errors.Join(errs...)
}
