// Package app assembles one running cardflow from its config: the store,
// the engine and its rules, the supplier clients, the HTTP listeners, and
// the operator layer with its chat channels. `cardflow serve` and `cardflow
// demo` each run one.
package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/rs/zerolog"
	"golang.org/x/net/netutil"

	"cardflow/api"
	"cardflow/api/acgfaka"
	"cardflow/api/dujiao"
	"cardflow/bot/bind"
	"cardflow/bot/chat"
	"cardflow/cluster"
	"cardflow/config"
	"cardflow/internal/money"
	"cardflow/internal/routes"
	"cardflow/mail"
	"cardflow/processor"
	"cardflow/processor/outbox"
	"cardflow/rules"
	"cardflow/storage"
)

// App is one running cardflow: store, engine and HTTP servers, built from a
// config.
type App struct {
	cfg     *config.Config
	log     zerolog.Logger
	store   *storage.Store
	member  cluster.Member // this process among those sharing the store
	engine  *processor.Engine
	binds   *bind.Bindings
	rules   *rules.Book
	api     *api.Server
	alerts  *alertRelay
	mail    *mail.Sender // nil when [email] is off
	servers []*http.Server

	apiAddr, adminAddr string
	metricsAddr        string // [metrics] listen, when set
	adminReadTimeout   time.Duration
	errc               chan error // a server that stopped on its own, or the store after a storage error
}

// Options are what differs between serve, demo and tests.
type Options struct {
	Observe          func(processor.Change) // sees every order's status change (the demo's feed)
	AdminReadTimeout time.Duration          // for the admin listener to read a request; 0: a minute
}

// New opens the store and builds the engine and the HTTP handlers.
// Nothing runs until Start.
func New(cfg *config.Config, master []byte, log zerolog.Logger, opts Options) (*App, error) {
	sources, notify, err := buildSources(cfg, log)
	if err != nil {
		return nil, err
	}
	store, err := openStore(cfg, master)
	if err != nil {
		return nil, err
	}
	member, err := joinCluster(cfg, log)
	if err != nil {
		_ = store.Close()
		return nil, err
	}
	closeAll := func() {
		_ = member.Close()
		_ = store.Close()
	}
	// now.hour is shop time: the zone of the daily report, one setting.
	shop, err := cfg.Report.Location()
	if err != nil { // Validate refused it already; this is the fallback of a config built in code
		shop = chat.Shanghai()
	}
	ruleBook, err := rules.New(store, cfg.Rules, shop, time.Now, log)
	if err != nil {
		closeAll()
		return nil, fmt.Errorf("rules: %w", err)
	}
	storefronts := make([]outbox.Storefront, 0, len(cfg.Storefronts))
	secrets := make(map[string][]byte, len(cfg.Storefronts))
	docking := map[string]money.Amount{}
	protocols := make(map[string]string, len(cfg.Storefronts))
	var djShops, hookShops []dujiao.Shop
	var acgShops []acgfaka.Shop
	for _, s := range cfg.Storefronts {
		protocols[s.ID] = s.Protocol
		if s.Docking() {
			// A docking shop speaks its own protocol: cardflow's API does
			// not take its secret, and its callbacks are its protocol's.
			docking[s.ID] = s.CreditLimit
			if s.Protocol == config.ProtocolDujiaoNext {
				djShops = append(djShops, dujiao.Shop{ID: s.ID, Secret: []byte(s.Secret.Reveal()), CallbackURL: s.CallbackURL})
			}
			if s.Protocol == config.ProtocolDujiaoWebhook {
				hookShops = append(hookShops, dujiao.Shop{ID: s.ID, Secret: []byte(s.Secret.Reveal()), CallbackURL: s.CallbackURL})
			}
			if s.Protocol == config.ProtocolAcgFaka {
				acgShops = append(acgShops, acgfaka.Shop{ID: s.ID, Key: s.Secret.Reveal(),
					SyncWindow: s.SyncWindow.Std(), ClaimPeriod: s.ClaimPeriod.Std()})
			}
			continue
		}
		storefronts = append(storefronts, outbox.Storefront{ID: s.ID, Secret: []byte(s.Secret.Reveal()), CallbackURL: s.CallbackURL})
		secrets[s.ID] = []byte(s.Secret.Reveal())
	}
	upstream, err := dujiaoUpstream(cfg, djShops, store, log)
	if err != nil {
		closeAll()
		return nil, err
	}
	hooks, err := dujiaoWebhook(cfg, hookShops, store, log)
	if err != nil {
		closeAll()
		return nil, err
	}
	shared, err := acgfakaUpstream(cfg, acgShops, log)
	if err != nil {
		closeAll()
		return nil, err
	}
	dockingCallbacks := map[string]outbox.Deliverer{}
	if upstream != nil {
		maps.Copy(dockingCallbacks, upstream.Callbacks())
	}
	if hooks != nil {
		maps.Copy(dockingCallbacks, hooks.Callbacks())
	}
	if shared != nil {
		// acg-faka takes no callbacks: each event is acknowledged, so that
		// none is retried for ever.
		maps.Copy(dockingCallbacks, shared.Callbacks())
	}
	mails, sender, err := buyerMail(cfg, log)
	if err != nil {
		closeAll()
		return nil, err
	}
	// The engine is built before the operator layer that renders its alerts
	// (which needs the engine): alerts reach it through a relay set later.
	relay := &alertRelay{log: log}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	engine := processor.New(store, processor.Options{
		Products: cfg.Products, Suppliers: cfg.Suppliers, Storefronts: storefronts, Docking: docking, Sources: sources,
		DockingCallbacks: dockingCallbacks,
		Workers:          cfg.Processing.Workers, StockWait: cfg.Processing.StockWait.Std(), AutoRefund: cfg.Processing.AutoRefund,
		Routing: cfg.Processing.Routing, VerifyHold: cfg.Processing.VerifyHold,
		Log: log, Screen: ruleBook, Alerts: relay, Observe: opts.Observe, Metrics: reg, Mail: mails, Cluster: member,
	})
	ruleBook.AlertTo(engine) // a rule switched off for its cost is an alert
	names := make([]string, len(cfg.Operators))
	for i, op := range cfg.Operators {
		names[i] = op.Name
	}
	binds := bind.New(store, nil)
	var peers api.Peers // one process alone has nobody to tell its signatures
	if cfg.Storage.Postgres() {
		peers = member
	}
	srv := api.New(api.Options{Orders: engine, Storefronts: secrets, Protocols: protocols, AdminToken: cfg.Admin.Token.Reveal(), Log: log,
		Metrics: reg, Operators: names, Bindings: binds, Peers: peers})
	for _, n := range notify {
		if err := srv.MountNotify(n); err != nil {
			closeAll()
			return nil, err
		}
	}
	if tree := dujiaoTree(upstream, hooks, engine); tree != nil {
		if err := srv.MountTree(routes.DujiaoNext, "dujiao", tree); err != nil {
			closeAll()
			return nil, err
		}
	}
	if shared != nil {
		if err := srv.MountTree(routes.AcgFaka, config.ProtocolAcgFaka, shared.Handler(engine)); err != nil {
			closeAll()
			return nil, err
		}
	}
	a := &App{cfg: cfg, log: log, store: store, member: member, engine: engine, binds: binds, rules: ruleBook, api: srv, alerts: relay, mail: sender,
		errc: make(chan error, 4), adminReadTimeout: cmp.Or(opts.AdminReadTimeout, time.Minute)}
	// A storage error stops the store taking writes; the process exits
	// non-zero and the next start's recovery takes over. Once per source:
	// the servers and the store never block on errc.
	store.OnFailure(func(err error) {
		// The alert: chat messages are queued in the store, which takes no
		// more writes.
		log.Error().Err(err).Msg("storage error: no more writes are taken; stopping so that a restart recovers")
		a.errc <- fmt.Errorf("store: %w", err)
	})
	return a, nil
}

// openStore opens the store [storage] names: the bbolt file in data_dir,
// or the PostgreSQL database, whose tables it creates or upgrades first.
func openStore(cfg *config.Config, master []byte) (*storage.Store, error) {
	if !cfg.Storage.Postgres() {
		return storage.Open(cfg.DataDir, master, storage.Options{})
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return storage.OpenPostgres(ctx, cfg.Storage.DSN.Reveal(), master,
		storage.PostgresOptions{MaxConns: int32(cfg.Storage.MaxConnections)})
}

// joinCluster makes this process a member of those sharing the store: the
// one process of a bbolt file, or one of the processes on the PostgreSQL
// database (docs/cluster.md).
func joinCluster(cfg *config.Config, log zerolog.Logger) (cluster.Member, error) {
	if !cfg.Storage.Postgres() {
		return cluster.Single(), nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	m, err := cluster.Join(ctx, cfg.Storage.DSN.Reveal(), cluster.Options{Log: log})
	if err != nil {
		return nil, fmt.Errorf("join the processes on the database: %w", err)
	}
	return m, nil
}

// buyerMail builds the mail deliverer of [email] and the storefronts'
// email_events, or nothing when mail is off.
func buyerMail(cfg *config.Config, log zerolog.Logger) (*outbox.Mail, *mail.Sender, error) {
	if !cfg.Email.Enabled() {
		return nil, nil, nil
	}
	sender, err := mail.New(cfg.Email, mail.Options{Log: log})
	if err != nil {
		return nil, nil, fmt.Errorf("mail: %w", err)
	}
	m := &outbox.Mail{Sender: sender, Shops: map[string]outbox.MailShop{}, Products: map[string]string{}}
	for _, s := range cfg.Storefronts {
		if len(s.EmailEvents) > 0 {
			m.Shops[s.ID] = outbox.MailShop{Events: s.EmailEvents, Name: cmp.Or(s.Name, s.ID), Language: cmp.Or(s.Language, cfg.Bot.Language)}
		}
	}
	for _, p := range cfg.Products {
		m.Products[p.SKU] = p.Name
	}
	return m, sender, nil
}

// Start serves on the listeners (opened from the config when nil) and then
// starts the engine: recovery runs while /healthz already answers and
// /readyz says not yet.
func (a *App) Start(ctx context.Context, apiLn, adminLn net.Listener) error {
	var err error
	if apiLn == nil {
		if apiLn, err = net.Listen("tcp", a.cfg.API.Listen); err != nil {
			return fmt.Errorf("api.listen %s: %w", a.cfg.API.Listen, err)
		}
	}
	if adminLn == nil {
		if adminLn, err = net.Listen("tcp", a.cfg.Admin.Listen); err != nil {
			_ = apiLn.Close()
			return fmt.Errorf("admin.listen %s: %w", a.cfg.Admin.Listen, err)
		}
	}
	var metricsLn net.Listener
	if a.cfg.Metrics.Listen != "" {
		if metricsLn, err = net.Listen("tcp", a.cfg.Metrics.Listen); err != nil {
			_ = apiLn.Close()
			_ = adminLn.Close()
			return fmt.Errorf("metrics.listen %s: %w", a.cfg.Metrics.Listen, err)
		}
	}
	a.apiAddr, a.adminAddr = apiLn.Addr().String(), adminLn.Addr().String()
	// The storefront listener is public: a request must arrive whole within
	// read_timeout (64 KiB needs seconds), and at most max_connections are
	// served at once; more wait in the kernel's queue to be accepted.
	rt := a.cfg.API.ReadTimeout.Std()
	a.serve(netutil.LimitListener(apiLn, a.cfg.API.MaxConnections), &http.Server{Handler: a.api.Storefront(),
		ReadHeaderTimeout: rt, ReadTimeout: rt, IdleTimeout: time.Minute, ConnState: a.api.ConnState("api")})
	// The admin listener (loopback, behind a token) reads headers and small
	// bodies as briskly; a stock import extends its own deadline once
	// authorized, and backups and profiles stream without a write timeout.
	a.serve(adminLn, &http.Server{Handler: a.api.Admin(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: a.adminReadTimeout,
		IdleTimeout: 2 * time.Minute, ConnState: a.api.ConnState("admin")})
	ev := a.log.Info().Str("api", a.apiAddr).Str("admin", a.adminAddr)
	if metricsLn != nil {
		a.metricsAddr = metricsLn.Addr().String()
		a.serve(metricsLn, &http.Server{Handler: a.api.Metrics(), ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute})
		ev = ev.Str("metrics", a.metricsAddr)
	}
	ev.Str("data_dir", a.cfg.DataDir).Msg("listening")
	return a.engine.Start(ctx)
}

func (a *App) serve(ln net.Listener, s *http.Server) {
	a.servers = append(a.servers, s)
	go func() {
		if err := s.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.errc <- fmt.Errorf("serve %s: %w", ln.Addr(), err)
		}
	}()
}

// Stop shuts down in dependency order: no new requests, then in-flight work,
// then the store. It is safe after a failed Start.
func (a *App) Stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, s := range a.servers {
		_ = s.Shutdown(ctx)
	}
	a.engine.Stop()
	if a.mail != nil {
		a.mail.Close()
	}
	// After the engine, whose work it marks; another process leads at once.
	if err := a.member.Close(); err != nil {
		a.log.Error().Err(err).Msg("leave the cluster")
	}
	if err := a.store.Close(); err != nil {
		a.log.Error().Err(err).Msg("close store")
	}
	a.log.Info().Msg("stopped")
}

// Err delivers the error of a server that stopped on its own, or of the
// store after a storage error: the app then needs a restart.
func (a *App) Err() <-chan error { return a.errc }

// APIAddr is the storefront listener's address, once started.
func (a *App) APIAddr() string { return a.apiAddr }

// AdminAddr is the admin listener's address, once started.
func (a *App) AdminAddr() string { return a.adminAddr }

// Member is this process among those sharing the store.
func (a *App) Member() cluster.Member { return a.member }

// MetricsAddr is the [metrics] listener's address, once started; "" when
// the config has none.
func (a *App) MetricsAddr() string { return a.metricsAddr }

// dujiaoUpstream builds the API of the dujiao-next shops (docs/docking.md),
// or nil when there are none.
func dujiaoUpstream(cfg *config.Config, shops []dujiao.Shop, store *storage.Store, log zerolog.Logger) (*dujiao.Upstream, error) {
	if len(shops) == 0 {
		return nil, nil
	}
	return dujiao.NewUpstream(dujiao.Options{Shops: shops, Products: cfg.Products, Suppliers: cfg.Suppliers, Store: store, Log: log})
}

// dujiaoWebhook builds the generic webhook of the dujiao-webhook shops
// (docs/docking.md), or nil when there are none.
func dujiaoWebhook(cfg *config.Config, shops []dujiao.Shop, store *storage.Store, log zerolog.Logger) (*dujiao.Webhook, error) {
	if len(shops) == 0 {
		return nil, nil
	}
	return dujiao.NewWebhook(dujiao.Options{Shops: shops, Products: cfg.Products, Suppliers: cfg.Suppliers, Store: store, Log: log})
}

// dujiaoTree serves /api/v1/upstream to the shops of both Dujiao-Next
// protocols that are configured, or is nil when there are none.
func dujiaoTree(upstream *dujiao.Upstream, hooks *dujiao.Webhook, engine *processor.Engine) http.Handler {
	var api, hook http.Handler
	if upstream != nil {
		api = upstream.Handler(engine)
	}
	if hooks != nil {
		hook = hooks.Handler(engine)
	}
	if api == nil && hook == nil {
		return nil
	}
	return dujiao.Tree(api, hook)
}

// acgfakaUpstream builds the shared store of the acg-faka shops
// (docs/acgfaka.md), or nil when there are none.
func acgfakaUpstream(cfg *config.Config, shops []acgfaka.Shop, log zerolog.Logger) (*acgfaka.Upstream, error) {
	if len(shops) == 0 {
		return nil, nil
	}
	return acgfaka.NewUpstream(acgfaka.Options{Shops: shops, Products: cfg.Products, Suppliers: cfg.Suppliers, Log: log})
}

// alertRelay hands the engine's alerts to the operator layer once it is
// wired; with no chat channel at all, alerts are logged.
type alertRelay struct {
	to  outbox.Deliverer
	log zerolog.Logger
}

func (r *alertRelay) Deliver(ctx context.Context, ev *storage.Event) error {
	if r.to != nil {
		return r.to.Deliver(ctx, ev)
	}
	if a := ev.Alert; a != nil {
		r.log.Warn().Str("alert", a.Key).Str("type", string(a.Type)).Bool("resolved", a.Resolved).Uint64("order_id", a.OrderID).
			Str("sku", a.SKU).Str("target", a.Target).Str("detail", a.Detail).Msg("alert")
	}
	return nil
}
