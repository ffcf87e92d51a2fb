package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"time"

	"cardflow/config"
	"cardflow/internal/adminclient"
	"cardflow/internal/demo"
	"cardflow/internal/loadgen"
	"cardflow/internal/outbound"
	"cardflow/internal/storefront"
	"cardflow/mail/smtpfake"
	"cardflow/storage"
)

// cmdBench measures cardflow under load. By default it starts `cardflow
// serve` (the binary serviceBinary finds) as a child process on a fresh data directory (durable writes: two
// fsyncs per commit, as in production), plays the storefront from this
// process over loopback, and reports intake and end-to-end (delivered,
// callback received) throughput and latency, how /readyz and /metrics
// answered meanwhile, the service's CPU, peak RSS and store bytes per order
// — next to the store's own write ceiling, measured on the same disk in the
// same run, and the CPU floor of bare HTTP over loopback, measured on the
// same cores in the same run. With -target it loads a cardflow that is
// already running.
func cmdBench(args []string) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	o := benchOptions{}
	fs.StringVar(&o.protocol, "protocol", protoNative, "the storefront the bench plays: cardflow (the native signed API), dujiao-next (a Dujiao-Next shop docked by the upstream API: callbacks, and polls and product syncs while the orders flow), acg-faka (an acg-faka shop's shared-store trades, keys in the answer) or all (the three one after another, each on a fresh data directory, and their ratios)")
	fs.IntVar(&o.pageSize, "page-size", 50, "with -protocol dujiao-next: the page_size of the product sync during the load (shops ask 50, at most 200)")
	fs.IntVar(&o.catalogue, "catalogue", 500, "with a docking protocol: the docked products offered (the one ordered and the rest out of stock), the catalogue a product sync pages through")
	fs.DurationVar(&o.pollEvery, "poll", 20*time.Millisecond, "with -protocol dujiao-next: how often to poll an order and pull a page of products during the load")
	fs.StringVar(&o.cardflow, "cardflow", "", "the cardflow binary to run as the service (default: cardflow beside this binary, else one built from the module in the working directory, else cardflow on PATH)")
	fs.IntVar(&o.orders, "orders", 20000, "orders to send")
	fs.IntVar(&o.concurrency, "concurrency", 64, "concurrent storefront connections")
	fs.Float64Var(&o.rate, "rate", 0, "orders per second (0: as fast as possible)")
	fs.IntVar(&o.workers, "workers", 16, "engine workers")
	fs.StringVar(&o.dir, "dir", "", "data directory (default: a temporary one, removed afterwards); the ceiling is measured on its disk")
	fs.StringVar(&o.source, "source", "stock", "where the goods come from: stock (own stock), sim (simulated supplier, no latency) or fulu (the Fulu adapter against a fake gateway on loopback)")
	fs.DurationVar(&o.ceiling, "ceiling", 3*time.Second, "how long to measure the store's write ceiling before the load (0: skip)")
	fs.DurationVar(&o.floor, "floor", 2*time.Second, "how long to measure bare HTTP exchanges over loopback before the load, the floor under CPU per order (0: skip)")
	fs.BoolVar(&o.restart, "restart", false, "after the load, stop the service and time its restart on the data just written")
	fs.DurationVar(&o.probeEvery, "probe", 250*time.Millisecond, "how often to check /readyz and /metrics during the load")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write the service's CPU profile over the load to this file, this process's (load generator, receiver, fake supplier) to FILE.bench and the service's allocations to FILE.allocs")
	fs.StringVar(&o.target, "target", "", "load a running cardflow at this storefront API URL instead of starting one (needs -storefront, -secret-env, -sku, -metrics)")
	fs.StringVar(&o.storefront, "storefront", "", "with -target: the storefront id to sign as")
	fs.StringVar(&o.secretEnv, "secret-env", "", "with -target: the environment variable holding that storefront's secret")
	fs.StringVar(&o.sku, "sku", "", "with -target: the SKU to order (one unit at a time)")
	fs.StringVar(&o.amount, "amount", "10.00", "with -target: the amount of each order")
	fs.StringVar(&o.callbackListen, "callback-listen", "", "with -target: receive callbacks on this address (the storefront's callback_url must point at it) to measure delivery")
	fs.StringVar(&o.metrics, "metrics", "", "with -target: the URL that serves /metrics: the admin listener (http://127.0.0.1:8081, with the token from -token-env) or [metrics] listen")
	fs.BoolVar(&o.mail, "mail", false, "with -protocol cardflow: run twice in this invocation, without and then with buyer mails (order.delivered to every buyer, through a loopback SMTP server in this process), and set the accepted orders/s side by side")
	fs.BoolVar(&o.mailDown, "mail-down", false, "with -mail: keep the SMTP server down while the orders flow and bring it up after, timing how fast the burst of queued mails drains")
	fs.StringVar(&o.tokenEnv, "token-env", config.DefaultAdminTokenEnv, "with -target: the environment variable holding the admin token sent to -metrics (unset: none)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := o.check(); err != nil {
		fmt.Fprintf(os.Stderr, "cardflow bench: %v\n", err)
		return 2
	}
	o.progress = func(p loadgen.Progress) {
		fmt.Fprintf(os.Stderr, "\r%6.1fs  sent %d  accepted %d  delivered %d   ", p.Elapsed.Seconds(), p.Sent, p.Accepted, p.Delivered)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if o.mail {
		return benchMail(ctx, o)
	}
	protocols := []string{o.protocol}
	if o.protocol == protoAll {
		protocols = []string{protoNative, protoDujiao, protoAcg}
	}
	var reports []benchReport
	code := 0
	for _, p := range protocols {
		one := o
		one.protocol = p
		if o.dir != "" && len(protocols) > 1 {
			one.dir = filepath.Join(o.dir, p) // each protocol on a fresh data directory
		}
		rep, err := runBench(ctx, one)
		fmt.Fprintln(os.Stderr)
		if err != nil {
			fmt.Fprintf(os.Stderr, "cardflow bench: -protocol %s: %v\n", p, err)
			return 1
		}
		rep.print(one)
		if rep.failed(one) {
			code = 1
		}
		reports = append(reports, rep)
	}
	if len(reports) > 1 {
		printSummary(reports, o)
	}
	return code
}

type benchOptions struct {
	protocol                          string
	pageSize, catalogue               int
	pollEvery                         time.Duration
	orders, concurrency, workers      int
	rate                              float64
	cardflow, dir, source, cpuProfile string
	ceiling, floor, probeEvery        time.Duration
	restart                           bool
	mail, mailDown                    bool
	mailSink                          *smtpfake.Server // set by benchMail for the run with mail
	target, storefront, secretEnv,
	sku, amount, callbackListen,
	metrics, tokenEnv string
	progress func(loadgen.Progress)
}

func (o *benchOptions) check() error {
	if o.orders <= 0 || o.concurrency <= 0 {
		return errors.New("-orders and -concurrency must be positive")
	}
	switch o.protocol {
	case protoNative, protoDujiao, protoAcg, protoAll:
	default:
		return fmt.Errorf("-protocol %q: use cardflow, dujiao-next, acg-faka or all", o.protocol)
	}
	if o.pageSize < 1 || o.pageSize > 200 || o.pollEvery <= 0 || o.catalogue < 1 || o.catalogue > 100_000 {
		return errors.New("-page-size must be 1 to 200, -catalogue 1 to 100000 and -poll positive")
	}
	if o.protocol != protoNative && (o.target != "" || o.restart || o.mail) {
		return errors.New("-target, -restart and -mail go with -protocol cardflow only")
	}
	if (o.mail && o.target != "") || (o.mailDown && !o.mail) {
		return errors.New("-mail needs a service started by the bench (no -target); -mail-down goes with -mail")
	}
	if o.target == "" {
		if o.storefront != "" || o.secretEnv != "" || o.sku != "" || o.callbackListen != "" || o.metrics != "" {
			return errors.New("-storefront, -secret-env, -sku, -metrics and -callback-listen go with -target")
		}
		return nil
	}
	if o.storefront == "" || o.secretEnv == "" || o.sku == "" || o.metrics == "" {
		return errors.New("-target needs -storefront, -secret-env, -sku and -metrics (the storefront listener serves no /metrics)")
	}
	if os.Getenv(o.secretEnv) == "" {
		return fmt.Errorf("-secret-env %s: the variable is empty", o.secretEnv)
	}
	if o.restart || o.cpuProfile != "" {
		return errors.New("-restart and -cpuprofile need a service started by the bench (no -target)")
	}
	return nil
}

type benchReport struct {
	loadgen.Result
	protocol     string
	sync         bool        // the keys came in the answers: delivered as accepted
	polls        *pollReport // dujiao-next: polls and product syncs during the load
	ceiling      storage.Ceiling
	floor        loadgen.Floor
	probes       probeReport
	writes       float64 // store writes during the load, from /metrics
	commits      float64
	peakRSS      int64 // bytes, of the service process during the load
	importRSS    int64 // bytes, the service's peak while the bench's stock was imported; 0: not measured apart
	imported     int   // card keys imported before the load
	endRSS       rss   // after the load
	storeSize    int64 // bytes of the database file
	serviceCPU   time.Duration
	benchCPU     time.Duration // this process: load generator, callback receiver, fake supplier
	stopTook     time.Duration // -restart: SIGTERM to exit
	restartTook  time.Duration // -restart: start to ready
	restartRSS   rss           // -restart: RSS once ready
	firstOrder   time.Duration // -restart: start to the first order accepted
	stored       float64       // -restart: orders in the store
	openAfter    float64       // orders still open at the end
	mail         *mailFigures  // -mail: the mails of the run with mail on
	metricsError error         // the scrape after the load failed
}

func runBench(ctx context.Context, o benchOptions) (benchReport, error) {
	rep := benchReport{protocol: o.protocol}
	dir := o.dir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "cardflow-bench-")
		if err != nil {
			return rep, err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return rep, fmt.Errorf("data directory: %w", err)
	}
	var bin string
	if o.target == "" {
		// Found (or built) before anything is measured.
		path, cleanup, err := serviceBinary(ctx, o.cardflow)
		if err != nil {
			return rep, err
		}
		defer cleanup()
		bin = path
	}
	if o.ceiling > 0 {
		// Before the service starts, so that the two do not share the disk.
		fmt.Fprintf(os.Stderr, "measuring the store's write ceiling in %s for %v…\n", dir, o.ceiling)
		c, err := storage.MeasureCeiling(ctx, dir, o.ceiling, 256)
		if err != nil {
			return rep, fmt.Errorf("ceiling: %w", err)
		}
		rep.ceiling = c
	}
	if o.floor > 0 {
		// Before the service starts too: the floor is this machine's, alone.
		fmt.Fprintf(os.Stderr, "measuring bare HTTP over loopback for %v…\n", o.floor)
		f, err := loadgen.MeasureFloor(ctx, o.floor, 256)
		if err != nil {
			return rep, fmt.Errorf("http floor: %w", err)
		}
		rep.floor = f
	}
	if o.target != "" {
		return rep, benchTarget(ctx, o, &rep)
	}

	secret, token := randomHex(24), randomHex(24)
	api, err := freeLoopback()
	if err != nil {
		return rep, err
	}
	side, err := newShopSide(o, o.protocol, api, secret)
	if err != nil {
		return rep, err
	}
	defer side.close()
	rep.sync = side.sync
	supplier, err := benchSupplier(o.source, api)
	if err != nil {
		return rep, err
	}
	defer supplier.close()
	products := supplier.config
	if o.protocol != protoNative {
		products += dockedCatalogue(o.catalogue)
	}
	if o.mailSink != nil {
		side.config += "email_events = [\"order.delivered\"]\n"
		products += fmt.Sprintf("\n[email]\nhost = %q\nport = %d\nsecurity = \"none\"\nfrom = \"Bench <noreply@bench.example.com>\"\n",
			o.mailSink.Host(), o.mailSink.Port())
	}
	svc, err := startBenchService(ctx, bin, dir, api, o.workers, side.config, secret, token, products)
	if err != nil {
		return rep, err
	}
	defer func() {
		if svc.cmd.ProcessState == nil {
			svc.stop()
		}
	}()
	if err := side.fund(ctx, svc.admin, token); err != nil {
		return rep, err
	}
	if o.source == "stock" {
		fmt.Fprintf(os.Stderr, "importing %d card keys…\n", o.orders)
		admin := &adminclient.Client{BaseURL: "http://" + svc.admin, Token: token}
		if _, err := admin.ImportStock(ctx, benchSKU, strings.NewReader(demo.CardLines(benchSKU, o.orders))); err != nil {
			return rep, fmt.Errorf("import stock: %w", err)
		}
		rep.imported = o.orders
		// The import reads the fingerprints of all stock while it checks
		// for duplicates, so its pages are mapped in when it answers; the
		// service lets go of them within a second (processor's trimCheck).
		peak := peakRSS(svc.cmd.Process.Pid)
		time.Sleep(time.Second)
		if resetPeakRSS(svc.cmd.Process.Pid) == nil {
			rep.importRSS = peak
		}
	}
	profiled := profileService(ctx, o, svc, token)
	cpu0, self0 := processCPU(svc.cmd.Process.Pid), loadgen.SelfCPU()
	mails := startMailClock(o)
	if err := loadAndProbe(ctx, o, &rep, side, "http://"+svc.api, newScraper("http://"+svc.admin, token)); err != nil {
		return rep, err
	}
	if err := mails.wait(ctx, &rep); err != nil {
		return rep, err
	}
	rep.serviceCPU, rep.benchCPU = processCPU(svc.cmd.Process.Pid)-cpu0, loadgen.SelfCPU()-self0
	if err := profiled(); err != nil {
		return rep, fmt.Errorf("cpu profile: %w", err)
	}
	rep.peakRSS, rep.endRSS = peakRSS(svc.cmd.Process.Pid), currentRSS(svc.cmd.Process.Pid)
	if st, err := os.Stat(filepath.Join(dir, "data", storage.FileName)); err == nil {
		rep.storeSize = st.Size()
	}
	if o.restart {
		rep.stopTook = svc.stop()
		if rep.restartTook, err = svc.launch(ctx); err != nil {
			return rep, fmt.Errorf("restart: %w", err)
		}
		m, err := newScraper("http://"+svc.admin, token).scrape(ctx)
		if err != nil {
			return rep, fmt.Errorf("GET /metrics after the restart: %w", err)
		}
		rep.stored = m.value("cardflow_orders_stored")
		// Ready is not the whole story: the buyer history is indexed in the
		// background and the first order waits for it.
		t0 := time.Now()
		client := benchClient("http://"+svc.api, demo.StorefrontID, secret, 1)
		if _, err := client.Place(ctx, storefront.NewOrder{ExternalID: "restart-probe", SKU: benchSKU, Quantity: 1,
			Amount: benchPrice, Buyer: storefront.Buyer{ID: "restart-probe"}}); err != nil {
			return rep, fmt.Errorf("first order after the restart: %w", err)
		}
		rep.firstOrder = rep.restartTook + time.Since(t0)
		time.Sleep(time.Second) // the index's own trim of mapped pages
		rep.restartRSS = currentRSS(svc.cmd.Process.Pid)
	}
	return rep, nil
}

// benchTarget loads a cardflow that is already running.
func benchTarget(ctx context.Context, o benchOptions, rep *benchReport) error {
	secret := os.Getenv(o.secretEnv)
	side := &shopSide{protocol: protoNative, problems: func() []string { return nil }}
	if o.callbackListen != "" {
		receiver := storefront.NewReceiver(map[string][]byte{o.storefront: []byte(secret)})
		_, closeCB, err := serveCallbacks(receiver, o.callbackListen)
		if err != nil {
			return err
		}
		defer closeCB()
		side.deliveries, side.problems = loadgen.ReceiverDeliveries(receiver), receiver.Problems
	}
	base := strings.TrimSuffix(o.target, "/")
	side.place = loadgen.Storefront(benchClient(base, o.storefront, secret, o.concurrency), o.sku, o.amount, "B"+randomHex(4))
	sc := newScraper(strings.TrimSuffix(strings.TrimSuffix(o.metrics, "/"), "/metrics"), os.Getenv(o.tokenEnv))
	return loadAndProbe(ctx, o, rep, side, base, sc)
}

// loadAndProbe runs the load while probing /readyz and /metrics (and, for a
// Dujiao-Next shop, polling orders and syncing products), and reads the
// store's write counters from /metrics before and after.
func loadAndProbe(ctx context.Context, o benchOptions, rep *benchReport, side *shopSide, base string, sc scraper) error {
	before, err := sc.scrape(ctx)
	if err != nil {
		return fmt.Errorf("GET /metrics before the load: %w", err)
	}
	pctx, stopProbe := context.WithCancel(ctx)
	p := newProbe(base, sc)
	probed := make(chan struct{})
	go func() { p.run(pctx, o.probeEvery); close(probed) }()
	// The polls measure the service while orders flow: they stop with the
	// sending, not with the deliveries after it.
	sending, stopPolls := context.WithCancel(ctx)
	polled := make(chan struct{})
	go func() {
		defer close(polled)
		if side.polls != nil {
			side.polls.run(sending, o.pollEvery)
		}
	}()
	var wait time.Duration
	if side.deliveries != nil {
		wait = max(2*time.Minute, time.Duration(o.orders)*time.Millisecond) // a surge may take a while to drain
	}
	rep.Result = loadgen.Run(ctx, loadgen.Options{Place: side.place, Deliveries: side.deliveries, Orders: o.orders,
		Concurrency: o.concurrency, Rate: o.rate, Progress: o.progress, Sent: stopPolls}, wait)
	stopPolls()
	<-polled
	stopProbe()
	<-probed
	rep.probes = p.report()
	if side.polls != nil {
		pr := side.polls.report()
		rep.polls = &pr
		if pr.NOrders == 0 && pr.NPages == 0 {
			return errNoPolls
		}
	}
	if side.sync {
		// The keys came in each accepted answer.
		rep.Delivered, rep.DeliveredDuration, rep.EndToEnd = rep.Accepted, rep.IntakeDuration, rep.Intake
	}
	if problems := side.problems(); len(problems) > 0 {
		return fmt.Errorf("storefront saw broken promises: %v", problems[0])
	}
	after, err := sc.scrape(ctx)
	if err != nil {
		rep.metricsError = err
		return nil
	}
	rep.writes = after.value("cardflow_store_writes_total") - before.value("cardflow_store_writes_total")
	rep.commits = after.value("cardflow_store_commits_total") - before.value("cardflow_store_commits_total")
	rep.openAfter = after.value("cardflow_orders_open")
	return nil
}

func benchClient(base, id, secret string, conns int) *storefront.Client {
	return &storefront.Client{BaseURL: base, ID: id, Secret: []byte(secret),
		HTTP: outbound.New(outbound.Options{Timeout: 30 * time.Second, IdleConnsPerHost: conns})}
}

// serveCallbacks serves receiver on addr and returns its base URL.
func serveCallbacks(receiver *storefront.Receiver, addr string) (string, func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("callback listener: %w", err)
	}
	srv := &http.Server{Handler: receiver, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() { _ = srv.Close() }, nil
}

// profileService starts recording the service's CPU profile, if asked,
// for about as long as the load should take; the returned function waits
// for it and writes the files.
func profileService(ctx context.Context, o benchOptions, svc *benchService, token string) func() error {
	if o.cpuProfile == "" {
		return func() error { return nil }
	}
	f, err := os.Create(o.cpuProfile)
	if err != nil {
		return func() error { return err }
	}
	d := 10 * time.Second
	if o.rate > 0 {
		d = time.Duration(float64(o.orders) / o.rate * 0.8 * float64(time.Second))
	}
	self, err := os.Create(o.cpuProfile + ".bench")
	if err != nil {
		_ = f.Close()
		return func() error { return err }
	}
	if err := pprof.StartCPUProfile(self); err != nil {
		_ = f.Close()
		_ = self.Close()
		return func() error { return err }
	}
	admin := &adminclient.Client{BaseURL: "http://" + svc.admin, Token: token}
	done := make(chan error, 1)
	go func() { done <- admin.CPUProfile(ctx, d, f) }()
	return func() error {
		pprof.StopCPUProfile()
		err := <-done
		allocs, aerr := os.Create(o.cpuProfile + ".allocs")
		if aerr == nil {
			aerr = errors.Join(admin.AllocsProfile(ctx, allocs), allocs.Close())
		}
		return errors.Join(err, aerr, f.Close(), self.Close())
	}
}

// failed says whether the run broke a promise: an order refused, not
// delivered, left open, or a health or metrics check that failed.
func (r benchReport) failed(o benchOptions) bool {
	delivering := o.target == "" || o.callbackListen != ""
	return r.Rejected > 0 || (delivering && r.DeliveryIncomplete) || len(r.probes.Errors) > 0 ||
		(r.polls != nil && len(r.polls.Errors) > 0) ||
		r.metricsError != nil || (delivering && r.openAfter > 0)
}

// pace says how fast the run sent its orders.
func (o benchOptions) pace() string {
	if o.rate > 0 {
		return fmt.Sprintf("at %.0f/s", o.rate)
	}
	return "as fast as possible"
}

func (r benchReport) print(o benchOptions) {
	mode := o.pace()
	round := func(d time.Duration) time.Duration { return d.Round(10 * time.Microsecond) }
	what := "from " + o.source
	if o.target != "" {
		what = "to " + o.target
	}
	fmt.Printf("cardflow bench: %d orders %s, %d connections, %s, durable writes, storefront protocol %s\n", o.orders, what, o.concurrency, mode, o.protocol)
	fmt.Printf("  intake     %8.0f accepted/s   p50 %-9v p95 %-9v p99 %-9v (rejected %d)\n",
		r.AcceptedPerSecond(), round(r.Intake.P50), round(r.Intake.P95), round(r.Intake.P99), r.Rejected)
	if r.sync {
		fmt.Printf("  end to end %8.0f delivered/s  (delivered %d of %d, keys in the answers)\n", r.DeliveredPerSecond(), r.Delivered, r.Accepted)
	} else if r.Delivered > 0 || r.DeliveryIncomplete {
		held := ""
		if r.protocol == protoDujiao {
			held = ", each held 2 s after its answer" // some shop releases overwrite an earlier callback
		}
		fmt.Printf("  end to end %8.0f delivered/s  p50 %-9v p95 %-9v p99 %-9v (delivered %d of %d, callbacks included%s)\n",
			r.DeliveredPerSecond(), round(r.EndToEnd.P50), round(r.EndToEnd.P95), round(r.EndToEnd.P99), r.Delivered, r.Accepted, held)
	}
	if m := r.mail; m != nil {
		m.print()
	}
	if p := r.polls; p != nil {
		fmt.Printf("  polls      GET /orders/{id} %d× p50 %-9v p99 %-9v max %v; GET /products page_size=%d of %d products %d× p50 %-9v p99 %-9v max %v; %d failed\n",
			p.NOrders, round(p.Orders.P50), round(p.Orders.P99), round(p.Orders.Max), p.PageSize, p.Total,
			p.NPages, round(p.Products.P50), round(p.Products.P99), round(p.Products.Max), len(p.Errors))
		for _, e := range p.Errors {
			fmt.Printf("    poll failed: %s\n", e)
		}
	}
	if c := r.ceiling; c.Writes > 0 {
		fmt.Printf("  ceiling    %8.0f writes/s through the group-commit writer alone (%d producers, 300-byte values, %.0f writes per commit, same disk, this run)\n",
			c.WritesPerSecond(), c.Producers, float64(c.Writes)/float64(max(c.Commits, 1)))
	}
	if f := r.floor; f.Exchanges > 0 {
		// Two exchanges per order: the order in, its callback out.
		fmt.Printf("  http floor %8.0f bare exchanges/s over loopback (%d connections, %v of CPU each, this process alone, this run); at two per order intake ran at %.0f%% of %.0f orders/s\n",
			f.PerSecond(), f.Connections, f.CPUPerExchange().Round(time.Microsecond), 100*r.AcceptedPerSecond()/(f.PerSecond()/2), f.PerSecond()/2)
	}
	if r.Accepted > 0 && r.writes > 0 {
		// An intake write puts a dozen keys (order, indexes, stock, fingerprints,
		// outbox, buyer log), not one 300-byte value, so the yardstick is the
		// ceiling divided by five, the durable writes of an order's life
		// (docs/performance.md).
		line := fmt.Sprintf("  store      %.1f durable writes and %.2f commits per order", r.writes/float64(r.Accepted), r.commits/float64(r.Accepted))
		if c := r.ceiling; c.Writes > 0 {
			at := c.WritesPerSecond() / 5
			line += fmt.Sprintf("; the ceiling carries %.0f orders/s of 5 writes each: intake ran at %.0f%% of it", at, 100*r.AcceptedPerSecond()/at)
		}
		fmt.Println(line)
	}
	if r.storeSize > 0 && r.Accepted > 0 {
		fmt.Printf("  disk       %d bytes, %.0f bytes per order (stock included)\n", r.storeSize, float64(r.storeSize)/float64(r.Accepted))
	}
	if r.peakRSS > 0 {
		during := "; after the load"
		if r.importRSS > 0 {
			during = fmt.Sprintf(" during the load (%.1f MB while importing %d card keys before it); after the load",
				float64(r.importRSS)/(1<<20), r.imported)
		}
		fmt.Printf("  service    peak RSS %.1f MB%s %v\n", float64(r.peakRSS)/(1<<20), during, r.endRSS)
	}
	if r.Accepted > 0 && r.serviceCPU > 0 {
		fmt.Printf("  cpu        service %v per order, bench process %v per order (of 2 cores shared)\n",
			(r.serviceCPU / time.Duration(r.Accepted)).Round(time.Microsecond), (r.benchCPU / time.Duration(r.Accepted)).Round(time.Microsecond))
	}
	p := r.probes
	fmt.Printf("  probes     /readyz %d× p50 %v max %v; /metrics %d× p50 %v max %v; %d failed\n",
		p.Readyz.N, round(p.Readyz.P50), round(p.Readyz.Max), p.Metrics.N, round(p.Metrics.P50), round(p.Metrics.Max), len(p.Errors))
	for _, e := range p.Errors {
		fmt.Printf("    probe failed: %s\n", e)
	}
	if r.metricsError != nil {
		fmt.Printf("  /metrics after the load failed: %v\n", r.metricsError)
	} else if r.openAfter > 0 {
		fmt.Printf("  %0.f orders still open after the load\n", r.openAfter)
	}
	if r.restartTook > 0 {
		fmt.Printf("  restart    stopped in %v, ready again in %v with %.0f orders stored, first order accepted after %v, RSS %v\n",
			r.stopTook.Round(time.Millisecond), r.restartTook.Round(time.Millisecond), r.stored,
			r.firstOrder.Round(time.Millisecond), r.restartRSS)
	}
	if r.FirstError != nil {
		fmt.Printf("  first error: %v\n", r.FirstError)
	}
}

// Targets of the docking protocols beside the native API.
const (
	targetRatio   = 0.70                  // accepted/s as a share of the native API's
	targetPollP99 = 10 * time.Millisecond // a Dujiao-Next shop's poll and product sync
)

// printSummary sets each protocol's intake beside the native API's of the
// same run, and the Dujiao-Next polls beside their target. Sent as fast as
// possible, the orders take every core, and a poll waits its turn for one
// as long as an order does; at a steady rate (-rate) it is answered at
// once.
func printSummary(reports []benchReport, o benchOptions) {
	var native float64
	for _, r := range reports {
		if r.protocol == protoNative {
			native = r.AcceptedPerSecond()
		}
	}
	verdict := func(ok bool) string {
		if ok {
			return "meets"
		}
		return "misses"
	}
	fmt.Printf("summary: accepted/s as a share of the native API's (target ≥ %.2f); poll and product sync p99 while the orders flow %s (target < %v)\n",
		targetRatio, o.pace(), targetPollP99)
	for _, r := range reports {
		line := fmt.Sprintf("  %-12s %8.0f accepted/s", r.protocol, r.AcceptedPerSecond())
		if native > 0 {
			ratio := r.AcceptedPerSecond() / native
			line += fmt.Sprintf("  %.2f of native", ratio)
			if r.protocol != protoNative {
				line += " (" + verdict(ratio >= targetRatio) + " the target)"
			}
		}
		if p := r.polls; p != nil {
			line += fmt.Sprintf("; poll p99 %v (%s), product sync p99 %v (%s)",
				p.Orders.P99.Round(10*time.Microsecond), verdict(p.NOrders > 0 && p.Orders.P99 < targetPollP99),
				p.Products.P99.Round(10*time.Microsecond), verdict(p.NPages > 0 && p.Products.P99 < targetPollP99))
		}
		fmt.Println(line)
	}
}
