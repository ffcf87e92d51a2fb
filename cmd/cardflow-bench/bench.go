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
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"cardflow/config"
	"cardflow/internal/adminclient"
	"cardflow/internal/demo"
	"cardflow/internal/loadgen"
	"cardflow/internal/loopback"
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
// already running. With -storage postgres it runs the load on bbolt and on
// PostgreSQL (and, with -processes N, on N processes sharing the database)
// and sets them side by side.
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
	fs.StringVar(&o.storage, "storage", config.BackendBolt, "where the service keeps its state: bbolt (a file in the data directory) or postgres (the load on bbolt, then on PostgreSQL, each on a fresh store, side by side)")
	fs.StringVar(&o.databaseURL, "database-url", "", "with -storage postgres: the server to create each run's database on, a libpq URL or key=value string with the right to CREATE DATABASE (default $"+envDatabaseURL+"; unset: a throwaway durable cluster started with the checkout's scripts/pg and stopped at the end)")
	fs.IntVar(&o.processes, "processes", 1, "with -storage postgres: also run this many cardflow serve on one database, the orders sent to them round robin (with -protocol cardflow)")
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
	// SIGTERM too, so that `cardflow bench` passing one on still stops the
	// services and a cluster the bench started.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if o.mail {
		return benchMail(ctx, o)
	}
	if o.storage == config.BackendPostgres {
		return benchStorages(ctx, o)
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
	storage, databaseURL string
	processes            int
	pg                   *pgServer // set for a run on PostgreSQL: the server its database is made on
	progress             func(loadgen.Progress)
}

func (o *benchOptions) check() error {
	if o.orders <= 0 || o.concurrency <= 0 {
		return errors.New("-orders and -concurrency must be positive")
	}
	if err := o.checkStorage(); err != nil {
		return err
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

// checkStorage checks -storage, -database-url and -processes.
func (o *benchOptions) checkStorage() error {
	if o.processes < 1 || o.processes > 8 {
		return fmt.Errorf("-processes %d: use 1 to 8", o.processes)
	}
	switch o.storage {
	case config.BackendBolt:
		if o.processes > 1 {
			return errors.New("-processes goes with -storage postgres: a bbolt file is open in one process at a time")
		}
		if o.databaseURL != "" {
			return errors.New("-database-url goes with -storage postgres")
		}
		return nil
	case config.BackendPostgres:
	default:
		return fmt.Errorf("-storage %q: use bbolt or postgres", o.storage)
	}
	switch {
	case o.target != "":
		return errors.New("-storage postgres starts its services; -target loads one already running, whatever its store")
	case o.protocol == protoAll || o.mail:
		return errors.New("-storage postgres compares the stores on one protocol: not with -protocol all or -mail")
	case o.restart:
		return errors.New("-restart goes with -storage bbolt")
	case o.processes > 1 && o.protocol != protoNative:
		return errors.New("-processes spreads orders of -protocol cardflow; a docking shop talks to one address")
	}
	if o.databaseURL != "" {
		return checkDatabaseURL("-database-url", o.databaseURL)
	}
	if env := os.Getenv(envDatabaseURL); env != "" {
		return checkDatabaseURL(envDatabaseURL, env)
	}
	return nil
}

type benchReport struct {
	loadgen.Result
	protocol     string
	store        string      // bbolt, or postgres and how many processes
	sync         bool        // the keys came in the answers: delivered as accepted
	polls        *pollReport // dujiao-next: polls and product syncs during the load
	ceiling      storage.Ceiling
	floor        loadgen.Floor
	probes       probeReport
	writes       float64 // store writes during the load, from /metrics
	commits      float64
	commitTime   time.Duration // spent in those commits, from the start of each transaction
	peakRSS      int64         // bytes, of the service processes during the load
	importRSS    int64         // bytes, the service's peak while the bench's stock was imported; 0: not measured apart
	imported     int           // card keys imported before the load
	endRSS       rss           // after the load
	storeSize    int64         // bytes of the database file, or of the PostgreSQL database
	serviceCPU   time.Duration
	benchCPU     time.Duration  // this process: load generator, callback receiver, fake supplier
	processes    []processShare // with several services: each one's part
	db           *dbReport      // on PostgreSQL: what the database spent
	stopTook     time.Duration  // -restart: SIGTERM to exit
	restartTook  time.Duration  // -restart: start to ready
	restartRSS   rss            // -restart: RSS once ready
	firstOrder   time.Duration  // -restart: start to the first order accepted
	stored       float64        // -restart: orders in the store
	openAfter    float64        // orders still open at the end
	mail         *mailFigures   // -mail: the mails of the run with mail on
	metricsError error          // the scrape after the load failed
}

// processShare is one service's part of a load spread over several.
type processShare struct {
	accepted int
	cpu      time.Duration
}

// dbReport is what a run on PostgreSQL measured of the database.
type dbReport struct {
	name          string // the run's database
	settings      pgSettings
	ceiling       pgCeiling
	before, after dbFigures
	serverCPU     time.Duration // 0: the server is not on this machine, or not found
	waits         waitReport
}

func runBench(ctx context.Context, o benchOptions) (benchReport, error) {
	rep := benchReport{protocol: o.protocol, store: o.storeName()}
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
	var db *benchDatabase
	if o.pg != nil {
		d, err := o.pg.createDatabase(ctx)
		if err != nil {
			return rep, err
		}
		defer func() {
			if err := d.drop(); err != nil {
				fmt.Fprintf(os.Stderr, "cardflow bench: dropping database %s: %v\n", d.name, err)
			}
		}()
		db, rep.db = d, &dbReport{name: d.name, settings: o.pg.settings}
	}
	if o.ceiling > 0 {
		// Before the service starts, so that the two do not share the disk.
		if db != nil {
			fmt.Fprintf(os.Stderr, "measuring PostgreSQL's commits one after another for %v…\n", o.ceiling)
			c, err := db.measureCommits(ctx, o.ceiling)
			if err != nil {
				return rep, fmt.Errorf("ceiling: %w", err)
			}
			rep.db.ceiling = c
		} else {
			fmt.Fprintf(os.Stderr, "measuring the store's write ceiling in %s for %v…\n", dir, o.ceiling)
			c, err := storage.MeasureCeiling(ctx, dir, o.ceiling, 256)
			if err != nil {
				return rep, fmt.Errorf("ceiling: %w", err)
			}
			rep.ceiling = c
		}
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
	apis := make([]string, max(o.processes, 1))
	for i := range apis {
		api, err := loopback.FreeAddr()
		if err != nil {
			return rep, err
		}
		apis[i] = api
	}
	side, err := newShopSide(o, o.protocol, apis, secret)
	if err != nil {
		return rep, err
	}
	defer side.close()
	rep.sync = side.sync
	supplier, err := benchSupplier(o.source, apis[0])
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
	spec := serviceSpec{bin: bin, dir: dir, workers: o.workers, shop: side.config, source: products, secret: secret, token: token}
	if db != nil {
		spec.storage = "[storage]\nbackend = \"postgres\"\ndsn_env = \"BENCH_DATABASE_URL\"\n"
		spec.storageEnv = []string{"BENCH_DATABASE_URL=" + db.dsn}
	}
	svcs, err := startFleet(ctx, spec, apis)
	if err != nil {
		return rep, err
	}
	defer svcs.stop()
	first := svcs[0]
	if err := side.fund(ctx, first.admin, token); err != nil {
		return rep, err
	}
	if o.source == "stock" {
		fmt.Fprintf(os.Stderr, "importing %d card keys…\n", o.orders)
		admin := &adminclient.Client{BaseURL: "http://" + first.admin, Token: token}
		if _, err := admin.ImportStock(ctx, benchSKU, strings.NewReader(demo.CardLines(benchSKU, o.orders))); err != nil {
			return rep, fmt.Errorf("import stock: %w", err)
		}
		rep.imported = o.orders
		// The import reads the fingerprints of all stock while it checks
		// for duplicates, so its pages are mapped in when it answers; the
		// service lets go of them within a second (processor's trimCheck).
		peak := peakRSS(first.pid())
		time.Sleep(time.Second)
		if svcs.resetPeakRSS() == nil {
			rep.importRSS = peak
		}
	}
	profiled := profileServices(ctx, o, svcs, token)
	cpu0, self0 := svcs.cpu(), loadgen.SelfCPU()
	var (
		dbConn    *pgx.Conn
		waits     *waitSampler
		stopWaits = func() {}
		server0   time.Duration
	)
	if db != nil {
		if dbConn, err = db.connect(ctx); err != nil {
			return rep, err
		}
		defer dbConn.Close(context.Background())
		if rep.db.before, err = db.figures(ctx, dbConn); err != nil {
			return rep, fmt.Errorf("database figures before the load: %w", err)
		}
		server0 = o.pg.cpu()
		waits = newWaitSampler(db)
		wctx, cancel := context.WithCancel(ctx)
		sampled := make(chan struct{})
		go func() { waits.run(wctx); close(sampled) }()
		stopWaits = func() { cancel(); <-sampled }
	}
	mails := startMailClock(o)
	err = loadAndProbe(ctx, o, &rep, side, svcs.endpoints(token))
	stopWaits()
	if err != nil {
		return rep, err
	}
	if err := mails.wait(ctx, &rep); err != nil {
		return rep, err
	}
	cpu1 := svcs.cpu()
	rep.benchCPU = loadgen.SelfCPU() - self0
	for i := range svcs {
		rep.serviceCPU += cpu1[i] - cpu0[i]
		if len(svcs) > 1 {
			rep.processes = append(rep.processes, processShare{accepted: int(side.accepted[i].Load()), cpu: cpu1[i] - cpu0[i]})
		}
	}
	if err := profiled(); err != nil {
		return rep, fmt.Errorf("cpu profile: %w", err)
	}
	rep.peakRSS, rep.endRSS = svcs.peakRSS(), svcs.currentRSS()
	if db == nil {
		if st, err := os.Stat(filepath.Join(dir, "data", storage.FileName)); err == nil {
			rep.storeSize = st.Size()
		}
	} else {
		if o.pg.postmaster != 0 {
			rep.db.serverCPU = o.pg.cpu() - server0
		}
		if rep.storeSize, err = db.size(ctx, dbConn); err != nil {
			return rep, fmt.Errorf("database size: %w", err)
		}
		// Stopped first: a session reports its WAL flushes as it ends.
		svcs.stop()
		if rep.db.after, err = db.figures(ctx, dbConn); err != nil {
			return rep, fmt.Errorf("database figures after the load: %w", err)
		}
		rep.db.waits = waits.report()
	}
	if o.restart {
		if rep.stopTook, rep.restartTook, err = restart(ctx, first, token, secret, &rep); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// restart stops the service, times its start on the data just written,
// and its first order.
func restart(ctx context.Context, svc *benchService, token, secret string, rep *benchReport) (stopTook, readyTook time.Duration, err error) {
	stopTook = svc.stop()
	if readyTook, err = svc.launch(ctx); err != nil {
		return stopTook, 0, fmt.Errorf("restart: %w", err)
	}
	m, err := newScraper("http://"+svc.admin, token).scrape(ctx)
	if err != nil {
		return stopTook, readyTook, fmt.Errorf("GET /metrics after the restart: %w", err)
	}
	rep.stored = m.value("cardflow_orders_stored")
	// Ready is not the whole story: the buyer history is indexed in the
	// background and the first order waits for it.
	t0 := time.Now()
	client := benchClient("http://"+svc.api, demo.StorefrontID, secret, 1)
	if _, err := client.Place(ctx, storefront.NewOrder{ExternalID: "restart-probe", SKU: benchSKU, Quantity: 1,
		Amount: benchPrice, Buyer: storefront.Buyer{ID: "restart-probe"}}); err != nil {
		return stopTook, readyTook, fmt.Errorf("first order after the restart: %w", err)
	}
	rep.firstOrder = readyTook + time.Since(t0)
	time.Sleep(time.Second) // the index's own trim of mapped pages
	rep.restartRSS = currentRSS(svc.pid())
	return stopTook, readyTook, nil
}

// storeName names the store a run keeps its state in.
func (o benchOptions) storeName() string {
	switch {
	case o.pg == nil:
		return config.BackendBolt
	case o.processes > 1:
		return fmt.Sprintf("postgres ×%d", o.processes)
	}
	return "postgres ×1"
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
	return loadAndProbe(ctx, o, rep, side, []endpoint{{base: base, scraper: sc}})
}

// loadAndProbe runs the load while probing /readyz and /metrics of every
// service (and, for a Dujiao-Next shop, polling orders and syncing
// products), and reads the store's write counters from /metrics before and
// after.
func loadAndProbe(ctx context.Context, o benchOptions, rep *benchReport, side *shopSide, targets []endpoint) error {
	before, err := scrapeAll(ctx, targets)
	if err != nil {
		return fmt.Errorf("GET /metrics before the load: %w", err)
	}
	pctx, stopProbe := context.WithCancel(ctx)
	p := newProbe(targets)
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
	after, err := scrapeAll(ctx, targets)
	if err != nil {
		rep.metricsError = err
		return nil
	}
	// Each service counts its own writes; the open orders are the store's,
	// the same seen from any of them.
	rep.writes = total(after, "cardflow_store_writes_total") - total(before, "cardflow_store_writes_total")
	rep.commits = total(after, "cardflow_store_commits_total") - total(before, "cardflow_store_commits_total")
	rep.commitTime = time.Duration((total(after, "cardflow_store_commit_seconds_total") - total(before, "cardflow_store_commit_seconds_total")) * float64(time.Second))
	rep.openAfter = after[0].value("cardflow_orders_open")
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

// profileServices starts recording each service's CPU profile, if asked,
// for about as long as the load should take: the first service's to
// -cpuprofile F, the second's to F.p2 and so on, each one's allocations to
// its name and .allocs, this process's to F.bench. The returned function
// waits for them and writes the files.
func profileServices(ctx context.Context, o benchOptions, svcs fleet, token string) func() error {
	if o.cpuProfile == "" {
		return func() error { return nil }
	}
	d := 10 * time.Second
	if o.rate > 0 {
		d = time.Duration(float64(o.orders) / o.rate * 0.8 * float64(time.Second))
	}
	self, err := os.Create(o.cpuProfile + ".bench")
	if err != nil {
		return func() error { return err }
	}
	if err := pprof.StartCPUProfile(self); err != nil {
		_ = self.Close()
		return func() error { return err }
	}
	waits := make([]func() error, len(svcs))
	for i, svc := range svcs {
		name := o.cpuProfile
		if i > 0 {
			name += fmt.Sprintf(".p%d", i+1)
		}
		waits[i] = profileService(ctx, name, svc, token, d)
	}
	return func() error {
		pprof.StopCPUProfile()
		errs := []error{self.Close()}
		for _, wait := range waits {
			errs = append(errs, wait())
		}
		return errors.Join(errs...)
	}
}

// profileService records svc's CPU profile for d into name, then its
// allocations into name.allocs.
func profileService(ctx context.Context, name string, svc *benchService, token string, d time.Duration) func() error {
	f, err := os.Create(name)
	if err != nil {
		return func() error { return err }
	}
	admin := &adminclient.Client{BaseURL: "http://" + svc.admin, Token: token}
	done := make(chan error, 1)
	go func() { done <- admin.CPUProfile(ctx, d, f) }()
	return func() error {
		err := <-done
		allocs, aerr := os.Create(name + ".allocs")
		if aerr == nil {
			aerr = errors.Join(admin.AllocsProfile(ctx, allocs), allocs.Close())
		}
		return errors.Join(err, aerr, f.Close())
	}
}
