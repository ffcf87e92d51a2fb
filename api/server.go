package api

import (
	"io"
	"net/http"
	"net/http/pprof"
	"runtime/debug"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"cardflow/internal/money"
	"cardflow/internal/routes"
	"cardflow/processor"
	"cardflow/storage"
)

// Orders is the order engine as the HTTP handlers use it: intake, lookups,
// the admin actions, stock and backups.
type Orders interface {
	Submit(processor.Request) (*storage.Order, bool, error)
	Order(id uint64) (*storage.Order, error)
	OrderByExternal(storefront, externalID string) (*storage.Order, error)
	Vault() *storage.Vault // to open a delivered order's cards for its answer

	ImportStock(actor storage.Actor, sku string, r io.Reader) (processor.ImportResult, error)
	StockLevels() (map[string]int, error)
	Approve(actor storage.Actor, id uint64) (*storage.Order, error)
	Retry(actor storage.Actor, id uint64) (*storage.Order, error)
	Refund(actor storage.Actor, id uint64, note string) (*storage.Order, error)
	Reissue(actor storage.Actor, id uint64) (*storage.Order, error)
	Backup(w io.Writer, size func(int64)) (int64, error)
	Balances() ([]processor.Balance, error)
	AdjustBalance(actor storage.Actor, storefront string, amount money.Amount, reason string) (money.Amount, error)
	Ready() <-chan struct{}
	// Available is nil while the store's database answers.
	Available() error
	Hint(attemptNo string)

	OpenClaim(storefront string, orderID uint64, req processor.ClaimRequest) (*storage.Claim, bool, error)
	ResolveClaim(actor storage.Actor, claimID uint64, action, note string) (*storage.Claim, *storage.Order, error)
	ClaimsOf(orderID uint64) ([]*storage.Claim, error)
	Claims(status storage.ClaimStatus, limit int) ([]*storage.Claim, int, error)
}

// Bindings issues bind codes and unbinds operators (bind.Bindings).
type Bindings interface {
	Issue(actor storage.Actor, operator string) (string, time.Time, error)
	Unbind(actor storage.Actor, operator string) (int, error)
}

// Options configure the server.
type Options struct {
	Orders      Orders
	Storefronts map[string][]byte // id → secret
	// Protocols are every configured storefront's protocol, by id, for
	// the admin API's list (docking shops' balances).
	Protocols  map[string]string
	AdminToken string
	Now        func() time.Time
	Log        zerolog.Logger
	// Metrics, if set, is served at /metrics on the admin listener (and by
	// Metrics) and receives the HTTP request series.
	Metrics *prometheus.Registry
	// Operators are the configured operator names, for bind codes.
	Operators []string
	// Bindings issues their codes.
	Bindings Bindings
	// Peers, if set, are the other processes on the same database: each
	// refuses a replay of a signature another one saw.
	Peers Peers
}

// Server holds the handlers of the listeners.
type Server struct {
	engine      Orders
	bindings    Bindings
	storefronts map[string][]byte
	protocols   map[string]string
	adminToken  []byte
	now         func() time.Time
	signedSince int64 // unix seconds: the oldest timestamp let in; see signed
	log         zerolog.Logger
	replays     *replayGuard
	share       *replayShare // nil: no peers
	routes      *routes.Table
	metrics     *prometheus.Registry
	http        *httpMetrics
	operators   map[string]bool
}

// New builds the server. Its storefront routes are served from the start;
// Mount adds the config's webhook and notify paths.
func New(opts Options) *Server {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	operators := make(map[string]bool, len(opts.Operators))
	for _, name := range opts.Operators {
		operators[name] = true
	}
	s := &Server{
		engine: opts.Orders, bindings: opts.Bindings, storefronts: opts.Storefronts, protocols: opts.Protocols, adminToken: []byte(opts.AdminToken),
		now: opts.Now, signedSince: opts.Now().Add(-startGrace).Unix(), log: opts.Log.With().Str("component", "api").Logger(), replays: newReplayGuard(),
		metrics: opts.Metrics, http: newHTTPMetrics(registerer(opts.Metrics)),
		operators: operators,
	}
	if opts.Peers != nil {
		s.share = newReplayShare(opts.Peers, s.replays, opts.Now, s.log)
	}
	health := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	s.routes = routes.NewTable(routes.Handlers{
		CreateOrder: s.signed(s.createOrder), GetOrder: s.signed(s.getOrder), FindOrder: s.signed(s.findOrder),
		CreateClaim: s.signed(s.createClaim),
		Healthz:     health, Readyz: http.HandlerFunc(s.readyz),
	})
	return s
}

// Mount serves POST m.Path on the storefront listener with h (a chat
// platform's webhook, a supplier's notify URL). A path that is not a clean
// literal path of its own is an error naming m.Owner, never a panic; config
// validation applies the same rules (routes.Check).
func (s *Server) Mount(m routes.Mount, h http.Handler) error {
	return s.routes.Mount(m, h)
}

// MountTree serves every request under prefix on the storefront listener
// with h: a docking protocol's API, whose paths its shops' clients fix
// (routes.DujiaoNext). h answers in its protocol's own words, errors and
// panics included.
func (s *Server) MountTree(prefix, owner string, h http.Handler) error {
	return s.routes.Tree(prefix, owner, h)
}

// registerer keeps a nil registry a nil interface.
func registerer(r *prometheus.Registry) prometheus.Registerer {
	if r == nil {
		return nil
	}
	return r
}

// Storefront is the handler of [api] listen: the storefront API, health,
// and what Mount added. It serves no metrics: the listener is public.
func (s *Server) Storefront() http.Handler {
	return s.recoverer(s.route("api", s.routes.Mux()))
}

// Admin is the handler of [admin] listen.
func (s *Server) Admin() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/stock/{sku}", s.importStock)
	mux.HandleFunc("GET /v1/stock", s.stockLevels)
	mux.HandleFunc("POST /v1/orders/{id}/{action}", s.orderAction)
	mux.HandleFunc("GET /v1/backup", s.backup)
	mux.HandleFunc("POST /v1/operators/{name}/bind", s.bindCode)
	mux.HandleFunc("DELETE /v1/operators/{name}/bind", s.unbind)
	mux.HandleFunc("GET /v1/storefronts", s.listStorefronts)
	mux.HandleFunc("POST /v1/storefronts/{id}/balance", s.adjustBalance)
	mux.HandleFunc("POST /v1/claims/{id}/resolve", s.resolveClaim)
	mux.HandleFunc("GET /v1/claims", s.listClaims)
	// Profiles for operators chasing a slowdown; behind the admin token.
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	s.serveMetrics(mux)
	return s.recoverer(s.bearer(s.route("admin", mux)))
}

// Metrics is the handler of the opt-in [metrics] listen: GET /metrics and
// nothing else, without credentials, for a Prometheus on a private network.
func (s *Server) Metrics() http.Handler {
	mux := http.NewServeMux()
	s.serveMetrics(mux)
	return s.recoverer(s.route("metrics", mux))
}

// serveMetrics adds GET /metrics when a registry is configured. The series
// carry statuses, SKUs, supplier names and route patterns (the webhook
// paths among them), never buyer data or secrets; still, they are served
// only behind the admin token or on a listener the operator opted into.
func (s *Server) serveMetrics(mux *http.ServeMux) {
	if s.metrics != nil {
		mux.Handle("GET /metrics", metricsHandler(s.metrics))
	}
}

func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) {
	select {
	case <-s.engine.Ready():
	default:
		writeError(w, http.StatusServiceUnavailable, codeUnavailable, "recovering", "")
		return
	}
	if err := s.engine.Available(); err != nil {
		writeError(w, http.StatusServiceUnavailable, codeUnavailable, "storage unavailable", "")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// route serves a request through mux, timing it by route pattern, and
// answers unknown paths and wrong methods in the API's error format instead
// of net/http's plain text.
func (s *Server) route(listener string, mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		_, pattern := mux.Handler(r)
		rec := &codeRecorder{ResponseWriter: w}
		mux.ServeHTTP(&statusProbe{ResponseWriter: rec, unrouted: pattern == ""}, r)
		s.http.observe(listener, pattern, rec.code, time.Since(start))
	})
}

// statusProbe rewrites net/http's plain-text 404 and 405 (for requests no
// route matched; a handler's own 404 is already JSON) and its redirects as
// JSON errors.
type statusProbe struct {
	http.ResponseWriter
	unrouted  bool
	rewritten bool
}

func (p *statusProbe) WriteHeader(code int) {
	switch {
	case code == http.StatusNotFound && p.unrouted:
		p.rewritten = true
		writeError(p.ResponseWriter, code, codeNotFound, "no such endpoint", "")
	case code == http.StatusMethodNotAllowed && p.unrouted:
		p.rewritten = true
		p.ResponseWriter.Header().Del("Content-Type")
		writeError(p.ResponseWriter, code, codeInvalidRequest, "method not allowed", "")
	case code >= 300 && code < 400:
		// ServeMux redirects paths that are not canonical ("/v1//orders",
		// "/v1/orders/../orders", an empty path) with an empty-bodied
		// 307. The handlers never redirect, and a client that followed
		// one would send a signature made for the other path and be
		// refused, so it is answered as what it is: no such endpoint
		// (found by FuzzStorefrontRequest).
		p.rewritten = true
		p.ResponseWriter.Header().Del("Location")
		p.ResponseWriter.Header().Del("Content-Type")
		writeError(p.ResponseWriter, http.StatusNotFound, codeNotFound, "no such endpoint; send the path in its canonical form", "")
	default:
		p.ResponseWriter.WriteHeader(code)
	}
}

func (p *statusProbe) Write(b []byte) (int, error) {
	if p.rewritten {
		return len(b), nil
	}
	return p.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection through the
// probe, which now wraps every request (pprof extends its write deadline).
func (p *statusProbe) Unwrap() http.ResponseWriter { return p.ResponseWriter }

// recoverer turns a handler panic into a plain 500: never a stack trace to
// the client, always one in the log.
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.Error().Interface("panic", p).Bytes("stack", debug.Stack()).Str("path", r.URL.Path).Msg("handler panicked")
				writeError(w, http.StatusInternalServerError, codeInternal, "internal error", "")
			}
		}()
		next.ServeHTTP(w, r)
	})
}
