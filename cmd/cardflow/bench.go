package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"cardflow/internal/adminclient"
	"cardflow/internal/demo"
	"cardflow/internal/loadgen"
	"cardflow/internal/storefront"
)

// cmdBench runs cardflow in this process on a fresh data dir with a fake
// storefront on loopback, sends signed orders and reports intake and
// end-to-end (delivered with callback) throughput and latency. Writes are
// durable (fsync per commit), as in production.
func cmdBench(args []string) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	orders := fs.Int("orders", 20000, "orders to send")
	conc := fs.Int("concurrency", 64, "concurrent storefront connections")
	rate := fs.Float64("rate", 0, "orders per second (0: as fast as possible)")
	workers := fs.Int("workers", 16, "engine workers")
	dir := fs.String("dir", "", "data directory (default: a temporary one, removed afterwards)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to this file")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintf(os.Stderr, "cardflow bench: %v\n", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(os.Stderr, "cardflow bench: %v\n", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, size, err := runBench(ctx, benchOptions{orders: *orders, concurrency: *conc, rate: *rate, workers: *workers, dir: *dir,
		progress: func(p loadgen.Progress) {
			fmt.Fprintf(os.Stderr, "\r%6.1fs  sent %d  accepted %d  delivered %d   ", p.Elapsed.Seconds(), p.Sent, p.Accepted, p.Delivered)
		}})
	fmt.Fprintln(os.Stderr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "cardflow bench: %v\n", err)
		return 1
	}
	printBench(*orders, *conc, *rate, res, size)
	if res.Rejected > 0 || res.DeliveryIncomplete {
		return 1
	}
	return 0
}

type benchOptions struct {
	orders, concurrency, workers int
	rate                         float64
	dir                          string
	progress                     func(loadgen.Progress)
}

func runBench(ctx context.Context, o benchOptions) (loadgen.Result, int64, error) {
	dir := o.dir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "cardflow-bench-")
		if err != nil {
			return loadgen.Result{}, 0, err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	master := make([]byte, 32)
	secret, token := randomHex(24), randomHex(24)
	receiver := storefront.NewReceiver(map[string][]byte{demo.StorefrontID: []byte(secret)})
	cbLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return loadgen.Result{}, 0, err
	}
	cbSrv := &http.Server{Handler: receiver, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = cbSrv.Serve(cbLn) }()
	defer cbSrv.Close()
	apiLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return loadgen.Result{}, 0, err
	}
	adminLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return loadgen.Result{}, 0, err
	}
	cfg := demo.Config(dir, apiLn.Addr().String(), adminLn.Addr().String(), "http://"+cbLn.Addr().String()+"/cb", secret, token)
	cfg.Processing.Workers = o.workers
	cfg.Products[0].MaxQuantity = 1
	if err := cfg.Validate(); err != nil {
		return loadgen.Result{}, 0, err
	}
	a, err := newApp(cfg, master, zerolog.New(os.Stderr).Level(zerolog.ErrorLevel), appOptions{})
	if err != nil {
		return loadgen.Result{}, 0, err
	}
	if err := a.start(ctx, apiLn, adminLn); err != nil {
		a.stop()
		return loadgen.Result{}, 0, err
	}
	defer a.stop()
	admin := &adminclient.Client{BaseURL: "http://" + a.adminAddr, Token: token}
	if _, err := admin.ImportStock(ctx, "qb-10", strings.NewReader(demo.CardLines("qb-10", o.orders))); err != nil {
		return loadgen.Result{}, 0, fmt.Errorf("import stock: %w", err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = o.concurrency
	client := &storefront.Client{BaseURL: "http://" + a.apiAddr, ID: demo.StorefrontID, Secret: []byte(secret),
		HTTP: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
	res := loadgen.Run(ctx, loadgen.Options{Client: client, Receiver: receiver, Orders: o.orders, Concurrency: o.concurrency,
		Rate: o.rate, SKU: "qb-10", Amount: "10.00", Prefix: "B" + randomHex(4), Progress: o.progress}, 2*time.Minute)
	if p := receiver.Problems(); len(p) > 0 {
		return res, 0, fmt.Errorf("storefront saw broken promises: %v", p[0])
	}
	return res, a.store.Size(), nil
}

func printBench(orders, conc int, rate float64, r loadgen.Result, size int64) {
	mode := "as fast as possible"
	if rate > 0 {
		mode = fmt.Sprintf("at %.0f/s", rate)
	}
	fmt.Printf("cardflow bench: %d orders, %d connections, %s, durable writes\n", orders, conc, mode)
	fmt.Printf("  intake     %8.0f accepted/s   p50 %-9v p95 %-9v p99 %-9v (rejected %d)\n",
		r.AcceptedPerSecond(), r.Intake.P50.Round(10*time.Microsecond), r.Intake.P95.Round(10*time.Microsecond), r.Intake.P99.Round(10*time.Microsecond), r.Rejected)
	fmt.Printf("  end to end %8.0f delivered/s  p50 %-9v p95 %-9v p99 %-9v (delivered %d of %d, callbacks included)\n",
		r.DeliveredPerSecond(), r.EndToEnd.P50.Round(10*time.Microsecond), r.EndToEnd.P95.Round(10*time.Microsecond), r.EndToEnd.P99.Round(10*time.Microsecond), r.Delivered, r.Accepted)
	if size > 0 && r.Accepted > 0 {
		fmt.Printf("  store      %d bytes, %.0f bytes per order\n", size, float64(size)/float64(r.Accepted))
	}
	if r.FirstError != nil {
		fmt.Printf("  first error: %v\n", r.FirstError)
	}
}
