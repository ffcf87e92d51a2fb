package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"cardflow/internal/adminclient"
	"cardflow/internal/demo"
	"cardflow/internal/loadgen"
	"cardflow/internal/storefront"
	"cardflow/suppliers/fulu/fulufake"
)

// cmdBench starts `cardflow serve` as a child process on a fresh data dir
// (durable writes: an fsync per commit, as in production), plays the
// storefront from this process over loopback, and reports intake and
// end-to-end (delivered, callback received) throughput and latency, the
// service's peak RSS and the store's size per order.
func cmdBench(args []string) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	o := benchOptions{}
	fs.IntVar(&o.orders, "orders", 20000, "orders to send")
	fs.IntVar(&o.concurrency, "concurrency", 64, "concurrent storefront connections")
	fs.Float64Var(&o.rate, "rate", 0, "orders per second (0: as fast as possible)")
	fs.IntVar(&o.workers, "workers", 16, "engine workers")
	fs.StringVar(&o.dir, "dir", "", "data directory (default: a temporary one, removed afterwards)")
	fs.StringVar(&o.source, "source", "stock", "where the goods come from: stock (own stock), sim (simulated supplier, no latency) or fulu (the Fulu adapter against a fake gateway on loopback)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	o.progress = func(p loadgen.Progress) {
		fmt.Fprintf(os.Stderr, "\r%6.1fs  sent %d  accepted %d  delivered %d   ", p.Elapsed.Seconds(), p.Sent, p.Accepted, p.Delivered)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	rep, err := runBench(ctx, o)
	fmt.Fprintln(os.Stderr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "cardflow bench: %v\n", err)
		return 1
	}
	rep.print(o)
	if rep.Rejected > 0 || rep.DeliveryIncomplete {
		return 1
	}
	return 0
}

type benchOptions struct {
	orders, concurrency, workers int
	rate                         float64
	dir, source                  string
	progress                     func(loadgen.Progress)
}

type benchReport struct {
	loadgen.Result
	peakRSS   int64 // bytes, of the service process
	storeSize int64 // bytes of the database file
}

func runBench(ctx context.Context, o benchOptions) (benchReport, error) {
	var rep benchReport
	dir := o.dir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "cardflow-bench-")
		if err != nil {
			return rep, err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	secret, token := randomHex(24), randomHex(24)
	receiver := storefront.NewReceiver(map[string][]byte{demo.StorefrontID: []byte(secret)})
	cbLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return rep, err
	}
	cbSrv := &http.Server{Handler: receiver, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = cbSrv.Serve(cbLn) }()
	defer cbSrv.Close()

	api, err := freeLoopback()
	if err != nil {
		return rep, err
	}
	supplier, err := benchSupplier(o.source, api)
	if err != nil {
		return rep, err
	}
	defer supplier.close()
	svc, err := startBenchService(ctx, dir, api, o.workers, "http://"+cbLn.Addr().String()+"/cb", secret, token, supplier.config)
	if err != nil {
		return rep, err
	}
	defer svc.stop()
	if o.source == "stock" {
		admin := &adminclient.Client{BaseURL: "http://" + svc.admin, Token: token}
		if _, err := admin.ImportStock(ctx, "qb-10", strings.NewReader(demo.CardLines("qb-10", o.orders))); err != nil {
			return rep, fmt.Errorf("import stock: %w", err)
		}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = o.concurrency
	client := &storefront.Client{BaseURL: "http://" + svc.api, ID: demo.StorefrontID, Secret: []byte(secret),
		HTTP: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
	rep.Result = loadgen.Run(ctx, loadgen.Options{Client: client, Receiver: receiver, Orders: o.orders, Concurrency: o.concurrency,
		Rate: o.rate, SKU: "qb-10", Amount: "10.00", Prefix: "B" + randomHex(4), Progress: o.progress}, 2*time.Minute)
	if p := receiver.Problems(); len(p) > 0 {
		return rep, fmt.Errorf("storefront saw broken promises: %v", p[0])
	}
	rep.peakRSS = peakRSS(svc.cmd.Process.Pid)
	if st, err := os.Stat(filepath.Join(dir, "data", "cardflow.db")); err == nil {
		rep.storeSize = st.Size()
	}
	return rep, nil
}

// benchService is the `cardflow serve` child process under test.
type benchService struct {
	cmd        *exec.Cmd
	api, admin string
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
		return benchSource{config: `
[[products]]
sku = "qb-10"
name = "Q币 10元"
max_quantity = 1
  [[products.sources]]
  supplier = "own"
`, close: func() {}}, nil
	case "sim":
		return benchSource{config: `
[[suppliers]]
name = "sim"
type = "sim"
latency = "0s"
[[products]]
sku = "qb-10"
name = "Q币 10元"
max_quantity = 1
  [[products.sources]]
  supplier = "sim"
  item = "QB10"
`, close: func() {}}, nil
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
[[products]]
sku = "qb-10"
name = "Q币 10元"
max_quantity = 1
  [[products.sources]]
  supplier = "fulu"
  item = "%d"
`, ln.Addr(), fulufake.SandboxAppKey, fulufake.SandboxAppSecret, fulufake.ProductCard),
			close: func() { _ = srv.Close(); gw.Close() }}, nil
	}
	return benchSource{}, fmt.Errorf("-source %q: use stock, sim or fulu", source)
}

func startBenchService(ctx context.Context, dir, api string, workers int, callbackURL, secret, token, sourceConfig string) (*benchService, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	admin, err := freeLoopback()
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
[[storefronts]]
id = %q
secret_env = "BENCH_SHOP_SECRET"
callback_url = %q
[[suppliers]]
name = "own"
type = "stock"
[[rules]] # evaluated for every order (with the buyer-history lookup), never matching here
name = "large-order"
when = "order.amount > 500"
action = "review"
[processing]
workers = %d
%s`, api, admin, demo.StorefrontID, callbackURL, workers, sourceConfig)
	path := filepath.Join(dir, "bench.toml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, self, "serve", "-config", path)
	cmd.Env = append(os.Environ(), "BENCH_ADMIN_TOKEN="+token, "BENCH_SHOP_SECRET="+secret,
		"CARDFLOW_MASTER_KEY="+strings.Repeat("A", 43)+"=")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &benchService{cmd: cmd, api: api, admin: admin, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(s.done) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + api + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		select {
		case <-s.done:
			return nil, errors.New("cardflow serve exited during start-up")
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, errors.New("cardflow serve not ready after 30 s")
		}
	}
}

func (s *benchService) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// freeLoopback returns a loopback address that is free right now.
func freeLoopback() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// peakRSS reads a process's high-water resident set size (Linux).
func peakRSS(pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func (r benchReport) print(o benchOptions) {
	mode := "as fast as possible"
	if o.rate > 0 {
		mode = fmt.Sprintf("at %.0f/s", o.rate)
	}
	round := func(d time.Duration) time.Duration { return d.Round(10 * time.Microsecond) }
	fmt.Printf("cardflow bench: %d orders from %s, %d connections, %s, durable writes\n", o.orders, o.source, o.concurrency, mode)
	fmt.Printf("  intake     %8.0f accepted/s   p50 %-9v p95 %-9v p99 %-9v (rejected %d)\n",
		r.AcceptedPerSecond(), round(r.Intake.P50), round(r.Intake.P95), round(r.Intake.P99), r.Rejected)
	fmt.Printf("  end to end %8.0f delivered/s  p50 %-9v p95 %-9v p99 %-9v (delivered %d of %d, callbacks included)\n",
		r.DeliveredPerSecond(), round(r.EndToEnd.P50), round(r.EndToEnd.P95), round(r.EndToEnd.P99), r.Delivered, r.Accepted)
	if r.storeSize > 0 && r.Accepted > 0 {
		fmt.Printf("  store      %d bytes, %.0f bytes per order (stock included)\n", r.storeSize, float64(r.storeSize)/float64(r.Accepted))
	}
	if r.peakRSS > 0 {
		fmt.Printf("  service    peak RSS %.1f MB\n", float64(r.peakRSS)/(1<<20))
	}
	if r.FirstError != nil {
		fmt.Printf("  first error: %v\n", r.FirstError)
	}
}
