package acgfaka

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"cardflow/api/docking"
	"cardflow/config"
	"cardflow/processor"
	"cardflow/processor/outbox"
	"cardflow/storage"
)

// The shared store (docs/acgfaka.md): the handlers an acg-faka shop (or
// mcy-shop's V3 plugin) calls under /shared/, over the engine. A trade is
// answered in the same request, with the keys when its order settles
// within the shop's sync window.

// Shop is a storefront of protocol acg-faka: ID is the app_id the shop
// calls with, Key its app_key.
type Shop struct {
	ID  string
	Key string
	// SyncWindow is how long a trade waits for its order to settle;
	// DefaultSyncWindow when 0. ClaimPeriod is how long an order answered
	// without its result waits for the shop to ask again before it is
	// refunded; DefaultClaimPeriod when 0.
	SyncWindow  time.Duration
	ClaimPeriod time.Duration
}

// Defaults of a shop's windows, the config's.
const (
	DefaultSyncWindow  = 8 * time.Second
	DefaultClaimPeriod = 24 * time.Hour
)

// Engine is the order engine as the shared store uses it.
type Engine interface {
	Submit(processor.Request) (*storage.Order, bool, error)
	Order(id uint64) (*storage.Order, error)
	OrderByExternal(storefront, externalID string) (*storage.Order, error)
	WaitFor(ctx context.Context, id uint64, done func(*storage.Order) bool) (*storage.Order, error)
	HoldForClaim(id uint64, within time.Duration) error
	Claim(id uint64) error
	Balances() ([]processor.Balance, error)
	StockLevels() (map[string]int, error)
	StockOf(sku string) (level int, paused bool, err error)
	PausedProducts() ([]string, error)
	Vault() *storage.Vault
}

// Options configure the shared store.
type Options struct {
	Shops     []Shop
	Products  []config.Product  // the docked card products are offered
	Suppliers []config.Supplier // to tell own stock from remote suppliers
	Log       zerolog.Logger
}

// Upstream serves the acg-faka shops' shared store.
type Upstream struct {
	shops   map[string]*Shop
	catalog *catalog
	log     zerolog.Logger
}

// NewUpstream builds the shared store of the configured shops. A key a
// shop's admin cannot enter (over 64 characters, or with whitespace) is an
// error that does not show the key; so is an item a shop's importer would
// skip without a word (Item.Check).
func NewUpstream(opts Options) (*Upstream, error) {
	u := &Upstream{shops: make(map[string]*Shop, len(opts.Shops)), catalog: newCatalog(opts.Products, opts.Suppliers),
		log: opts.Log.With().Str("component", "acgfaka").Logger()}
	for _, p := range u.catalog.Products {
		if err := u.catalog.item(p, docking.Levels{}).Check(); err != nil {
			return nil, fmt.Errorf("product %s: %w", p.SKU, err)
		}
	}
	for _, s := range opts.Shops {
		if s.Key == "" || len(s.Key) > 64 || strings.ContainsFunc(s.Key, isSpace) {
			return nil, fmt.Errorf("acg-faka shop %s: its secret must be 1 to 64 characters without whitespace, as acg-faka's app_key field takes", s.ID)
		}
		s.SyncWindow = cmp.Or(s.SyncWindow, DefaultSyncWindow)
		s.ClaimPeriod = cmp.Or(s.ClaimPeriod, DefaultClaimPeriod)
		u.shops[s.ID] = &s
	}
	return u, nil
}

// Callbacks are the outbox's deliverers of the shops, by storefront id, for
// processor.Options.DockingCallbacks: acg-faka takes no callbacks, so each
// acknowledges every event (the order's result went out in the trade's
// answer, or goes out in the answer to its repeat).
func (u *Upstream) Callbacks() map[string]outbox.Deliverer {
	out := make(map[string]outbox.Deliverer, len(u.shops))
	for id := range u.shops {
		out[id] = noCallbacks{}
	}
	return out
}

type noCallbacks struct{}

func (noCallbacks) Deliver(context.Context, *storage.Event) error { return nil }

func (u *Upstream) keyOf(appID string) (string, bool) {
	s, ok := u.shops[appID]
	if !ok {
		return "", false
	}
	return s.Key, true
}

// api is the handlers over one engine.
type api struct {
	*Upstream
	engine Engine
	locks  orderLocks
}

// Handler serves the shared store under Prefix over engine. Every answer,
// an unknown path and a panic included, is the protocol's JSON at HTTP
// 200.
func (u *Upstream) Handler(engine Engine) http.Handler {
	return &api{Upstream: u, engine: engine}
}

// handlers by path; draftCard and draft are refused by ParseRequest.
var handlers = map[string]func(*api, context.Context, *Request) (any, error){
	PathConnect:        (*api).connect,
	PathItems:          (*api).items,
	PathItem:           (*api).item,
	PathStock:          (*api).stock,
	PathValuation:      (*api).valuation,
	PathTrade:          (*api).trade,
	PathInventory:      (*api).inventory,
	PathInventoryState: (*api).inventoryState,
	PathQuery:          (*api).query,
}

func (a *api) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer docking.Recover(w, r, a.log, writeInternal)
	if r.Method != http.MethodPost {
		WriteError(w, ErrUnknownPath)
		return
	}
	body, err := ReadBody(w, r)
	if err != nil {
		w.Header().Set("Connection", "close")
		WriteError(w, err)
		return
	}
	req, err := ParseRequest(r.URL.Path, body, a.keyOf)
	if err != nil {
		WriteError(w, err)
		return
	}
	data, err := handlers[req.Path](a, r.Context(), req)
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			a.log.Error().Err(err).Str("storefront", req.AppID).Str("path", req.Path).Msg("shared store request failed")
		}
		WriteError(w, err)
		return
	}
	WriteReply(w, data)
}

// ShopName is what a shop lists cardflow under after connect.
const ShopName = "cardflow"

func (a *api) connect(_ context.Context, r *Request) (any, error) {
	balance, err := docking.Balance(a.engine, r.AppID)
	if err != nil {
		return nil, err
	}
	return NewConnectReply(ShopName, balance), nil
}

func (a *api) items(context.Context, *Request) (any, error) {
	lv, err := docking.ReadLevels(a.engine)
	if err != nil {
		return nil, err
	}
	return a.catalog.tree(a.catalog.Products, lv), nil
}

// listed is the product of an item code with the stock levels, to answer
// it in a listing.
func (a *api) listed(code string) (config.Product, docking.Levels, error) {
	p, ok := a.catalog.find(code)
	if !ok {
		return p, docking.Levels{}, ErrNoItem
	}
	lv, err := docking.ReadLevels(a.engine)
	return p, lv, err
}

// item answers one item, or for the older clients (sharedCode) a tree
// holding it.
func (a *api) item(_ context.Context, r *Request) (any, error) {
	in, err := r.Item()
	if err != nil {
		return nil, err
	}
	p, lv, err := a.listed(in.Code)
	if err != nil {
		return nil, err
	}
	if in.Tree {
		return a.catalog.tree([]config.Product{p}, lv), nil
	}
	return a.catalog.item(p, lv), nil
}

// The race and sku[...] options of stock, valuation and trade are read
// and ignored: no item declares any (config is ""), so a shop sends them
// empty.

func (a *api) stock(_ context.Context, r *Request) (any, error) {
	in, err := r.Stock()
	if err != nil {
		return nil, err
	}
	n, err := a.stockOf(in.Code)
	return StockReply{Stock: n}, err
}

// stockOf is what a shop may sell of an item now.
func (a *api) stockOf(code string) (int, error) {
	p, ok := a.catalog.find(code)
	if !ok {
		return 0, ErrNoItem
	}
	// One product's level, not the catalogue's: this is on every trade.
	level, paused, err := a.engine.StockOf(p.SKU)
	if err != nil {
		return 0, fmt.Errorf("read stock of %s: %w", p.SKU, err)
	}
	return a.catalog.stock(p, docking.Levels{Stock: map[string]int{p.SKU: level}, Paused: map[string]bool{p.SKU: paused}}), nil
}

func (a *api) valuation(_ context.Context, r *Request) (any, error) {
	in, err := r.Valuation()
	if err != nil {
		return nil, err
	}
	p, err := a.product(in.Code, in.Num)
	if err != nil {
		return nil, err
	}
	return ValuationReply{Price: total(p, in.Num)}, nil
}

// product is the item of code, for num units: at most the product's own
// limit.
func (a *api) product(code string, num int) (config.Product, error) {
	p, ok := a.catalog.find(code)
	switch {
	case !ok:
		return p, ErrNoItem
	case num > p.MaxQuantity:
		return p, ErrBadNum
	}
	return p, nil
}

// inventory is the mcy V3 plugin's item check: what the item has and costs.
func (a *api) inventory(_ context.Context, r *Request) (any, error) {
	in, err := r.Inventory()
	if err != nil {
		return nil, err
	}
	p, lv, err := a.listed(in.Code)
	if err != nil {
		return nil, err
	}
	return InventoryReply{Count: a.catalog.stock(p, lv), Price: Yuan(p.Price), UserPrice: Yuan(p.Price), FactoryPrice: Yuan(p.Price)}, nil
}

// inventoryState is the mcy V3 plugin's check before a sale: enough stock
// for num, or ErrSoldOut.
func (a *api) inventoryState(_ context.Context, r *Request) (any, error) {
	in, err := r.InventoryState()
	if err != nil {
		return nil, err
	}
	if _, err := a.product(in.Code, in.Num); err != nil {
		return nil, err
	}
	n, err := a.stockOf(in.Code)
	switch {
	case err != nil:
		return nil, err
	case n < in.Num:
		return nil, ErrSoldOut
	}
	return InventoryStateReply, nil
}
