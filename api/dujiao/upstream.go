package dujiao

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"time"

	"github.com/rs/zerolog"

	"cardflow/api/docking"
	"cardflow/config"
	"cardflow/processor"
	"cardflow/processor/outbox"
	"cardflow/storage"
)

// The upstream API (docs/docking.md): the HTTP handlers a Dujiao-Next shop
// calls under /api/v1/upstream, and the sender of its callbacks. They
// translate between the wire types of this package and the engine.

// Shop is a storefront of protocol dujiao-next: ID is the api key the shop
// calls with, Secret its api secret, and CallbackURL's origin the one every
// order's callback_url must have.
type Shop struct {
	ID          string
	Secret      []byte
	CallbackURL string
}

// Engine is the order engine as the upstream API uses it.
type Engine interface {
	Submit(processor.Request) (*storage.Order, bool, error)
	Order(id uint64) (*storage.Order, error)
	OrderByExternal(storefront, externalID string) (*storage.Order, error)
	Cancel(storefront string, id uint64) (*storage.Order, error)
	Balances() ([]processor.Balance, error)
	StockLevelsOf(skus []string) (map[string]int, error)
	StockOf(sku string) (level int, paused bool, err error)
	PausedProducts() ([]string, error)
	Vault() *storage.Vault
}

// Options configure the upstream API and its callbacks.
type Options struct {
	Shops     []Shop
	Products  []config.Product  // the docked ones are offered
	Suppliers []config.Supplier // to tell own stock from remote suppliers
	// Store is where a callback reads its order (the engine's store).
	Store *storage.Store
	// HTTPClient sends callbacks; a 10 s client when nil. It is guarded so
	// that it never follows a redirect.
	HTTPClient *http.Client
	// Hold is how long after an order's answer its callbacks wait, so that
	// the shop has processed the answer first; DefaultHold when 0.
	Hold time.Duration
	Now  func() time.Time
	Log  zerolog.Logger
}

// DefaultHold is the least time between an order's answer and its first
// callback: some shop releases overwrite a callback that overtakes the
// answer (docs/docking.md).
const DefaultHold = 2 * time.Second

// shop is a configured shop with its callback origin.
type shop struct {
	Shop
	origin string
}

// Upstream serves the Dujiao-Next shops' API and sends their callbacks.
type Upstream struct {
	shopSet
}

// NewUpstream builds the API and the callback sender of the configured
// shops. A shop whose callback_url has no origin is an error.
func NewUpstream(opts Options) (*Upstream, error) {
	b, err := newShopSet(opts, "dujiao-next")
	if err != nil {
		return nil, err
	}
	return &Upstream{shopSet: b}, nil
}

// Callbacks are the senders of the shops' callbacks, by storefront id, for
// processor.Options.DockingCallbacks.
func (u *Upstream) Callbacks() map[string]outbox.Deliverer {
	out := make(map[string]outbox.Deliverer, len(u.shops))
	for id := range u.shops {
		out[id] = (*sender)(u)
	}
	return out
}

func (u *Upstream) secretOf(apiKey string) ([]byte, bool) {
	s, ok := u.shops[apiKey]
	if !ok {
		return nil, false
	}
	return s.Secret, true
}

// api is the handlers over one engine.
type api struct {
	*Upstream
	engine  Engine
	listing *listing
	mux     *http.ServeMux
}

// authed is a handler that runs after the signature check, with the
// calling shop and the body it signed.
type authed func(w http.ResponseWriter, r *http.Request, s *shop, body []byte)

// Handler serves the API under /api/v1/upstream over engine. Every answer,
// an unknown path and a panic included, is the protocol's JSON.
func (u *Upstream) Handler(engine Engine) http.Handler {
	a := &api{Upstream: u, engine: engine, listing: newListing(u.catalog), mux: http.NewServeMux()}
	for pattern, h := range map[string]authed{
		"POST " + Prefix + "/ping":               a.ping,
		"GET " + Prefix + "/categories":          a.categories,
		"GET " + Prefix + "/products":            a.products,
		"GET " + Prefix + "/products/{id}":       a.product,
		"POST " + Prefix + "/orders":             a.createOrder,
		"GET " + Prefix + "/orders/{id}":         a.getOrder,
		"POST " + Prefix + "/orders/{id}/cancel": a.cancelOrder,
	} {
		a.mux.Handle(pattern, a.auth(h))
	}
	return a
}

// ErrNoEndpoint answers a path the API does not have.
var ErrNoEndpoint = NotFound("not_found", "no such endpoint")

// errMethod answers a known path asked with another method.
var errMethod = &Error{http.StatusMethodNotAllowed, CodeBadRequest, "method not allowed"}

func (a *api) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer docking.Recover(w, r, a.log, writeInternal)
	// ServeMux would redirect an unclean path (and a shop would sign the
	// other path), and answer unknown paths in plain text.
	if _, pattern := a.mux.Handler(r); pattern == "" || path.Clean(r.URL.Path) != r.URL.Path {
		WriteError(w, a.missing(r))
		return
	}
	a.mux.ServeHTTP(w, r)
}

// missing tells a path the API does not have from a method it does not
// take there.
func (a *api) missing(r *http.Request) error {
	other := r.Clone(r.Context())
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		if other.Method = m; m != r.Method && path.Clean(r.URL.Path) == r.URL.Path {
			if _, pattern := a.mux.Handler(other); pattern != "" {
				return errMethod
			}
		}
	}
	return ErrNoEndpoint
}

// auth checks a request's signature and hands it on with its body. What the
// headers alone can refuse (missing headers, a stale timestamp, an unknown
// key) is refused before the body is read, and the connection closed, so
// that an unknown caller cannot hold a connection by sending slowly. The
// body is at most MaxBody.
func (a *api) auth(next authed) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := a.now()
		signed := FromHeaders(r.Method, r.URL.Path, r.Header, nil)
		if _, err := Verify(signed, now, a.secretOf); err != nil && !errors.Is(err, ErrInvalidSignature) {
			w.Header().Set("Connection", "close")
			WriteError(w, err)
			return
		}
		body, err := readBody(w, r)
		if err != nil {
			WriteError(w, err)
			return
		}
		signed.Body = body
		key, err := Verify(signed, now, a.secretOf)
		if err != nil {
			WriteError(w, err)
			return
		}
		next(w, r, a.shops[key], body)
	})
}

// readBody reads a request's body, at most MaxBody. One announced as
// larger is refused unread, and the connection closed.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if r.ContentLength > MaxBody {
		w.Header().Set("Connection", "close")
		return nil, errTooLarge
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if tooBig := (*http.MaxBytesError)(nil); errors.As(err, &tooBig) {
		return nil, errTooLarge
	}
	if err != nil {
		return nil, BadRequest("could not read the body")
	}
	return body, nil
}

var errTooLarge = BadRequest(fmt.Sprintf("the body is over %d bytes", MaxBody))

// fail answers err and logs what is cardflow's trouble, not the shop's.
func (a *api) fail(w http.ResponseWriter, r *http.Request, s *shop, err error) {
	var e *Error
	if !errors.As(err, &e) || e.Status >= 500 {
		a.log.Error().Err(err).Str("storefront", s.ID).Str("path", r.URL.Path).Msg("upstream request failed")
	} else {
		// A refusal is the shop's to fix (a top-up, a product id): say it
		// here too, as the shop's admin may only show its buyer's order.
		a.log.Info().Str("storefront", s.ID).Str("path", r.URL.Path).Int("status", e.Status).Str("code", e.Code).
			Msg("upstream request refused")
	}
	WriteError(w, err)
}

// ok answers v, logging a value that cannot be written.
func (a *api) ok(w http.ResponseWriter, r *http.Request, v any) {
	if err := WriteOK(w, v); err != nil {
		a.log.Error().Err(err).Str("path", r.URL.Path).Msg("answer not written")
	}
}
