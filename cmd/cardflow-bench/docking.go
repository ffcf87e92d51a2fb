package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"cardflow/api/acgfaka/acgshop"
	"cardflow/api/dujiao"
	"cardflow/api/dujiao/djshop"
	"cardflow/internal/demo"
	"cardflow/internal/loadgen"
	"cardflow/internal/outbound"
	"cardflow/internal/periodic"
	"cardflow/internal/storefront"
)

// The protocols a run can speak as the storefront.
const (
	protoNative = "cardflow"
	protoDujiao = "dujiao-next"
	protoAcg    = "acg-faka"
	protoAll    = "all"
)

// benchProduct is what every order buys: one key of own stock (or of the
// source's supplier). Docking shops order it by its id at its wholesale
// price.
const (
	benchSKU       = "qb-10"
	benchProductID = 1001
	benchPrice     = "10.00"
)

// shopSide is the storefront the bench plays for one protocol: its config
// block, how it places order n, where it hears of deliveries, what it
// measures while the orders flow, and the promises it saw broken.
type shopSide struct {
	protocol string
	config   string // the [[storefronts]] block
	// fund tops the shop up through the admin API before the load (docking
	// shops prepay).
	fund       func(ctx context.Context, admin, token string) error
	place      func(ctx context.Context, n int64) (string, error)
	deliveries loadgen.Deliveries // nil: the keys come in the answer
	sync       bool               // the answer carries the keys
	polls      *poller            // nil: nothing measured beside the load
	problems   func() []string
	close      func()
	// accepted counts the orders each service accepted, when the load
	// is spread over several.
	accepted []atomic.Int64
}

// newShopSide starts the storefront's side of protocol (its callback
// endpoint, when it has one) for services whose storefront listeners will
// be apis (several only with the native API) and whose storefront secret is
// secret.
func newShopSide(o benchOptions, protocol string, apis []string, secret string) (*shopSide, error) {
	if len(apis) > 1 && protocol != protoNative {
		return nil, fmt.Errorf("-protocol %s plays one service; several go with -protocol cardflow", protocol)
	}
	base := "http://" + apis[0]
	prefix := "B" + randomHex(4)
	switch protocol {
	case protoNative:
		receiver := storefront.NewReceiver(map[string][]byte{demo.StorefrontID: []byte(secret)})
		cbURL, closeCB, err := serveCallbacks(receiver, "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		side := &shopSide{protocol: protocol,
			config:     nativeStorefront(cbURL + "/cb"),
			fund:       func(context.Context, string, string) error { return nil },
			deliveries: loadgen.ReceiverDeliveries(receiver),
			problems:   receiver.Problems,
			close:      closeCB,
			accepted:   make([]atomic.Int64, len(apis))}
		// Order n goes to service n mod len(apis): the connections spread
		// evenly, and each order is placed once whatever the concurrency.
		places := make([]func(context.Context, int64) (string, error), len(apis))
		for i, api := range apis {
			places[i] = loadgen.Storefront(benchClient("http://"+api, demo.StorefrontID, secret, o.concurrency), benchSKU, benchPrice, prefix)
		}
		side.place = func(ctx context.Context, n int64) (string, error) {
			i := int(n % int64(len(places)))
			key, err := places[i](ctx, n)
			if err == nil {
				side.accepted[i].Add(1)
			}
			return key, err
		}
		return side, nil
	case protoDujiao:
		const id = "cardflow-bench-djshop"
		shop := djshop.New(base, id, []byte(secret))
		shop.HTTP = outbound.New(outbound.Options{Timeout: 30 * time.Second, IdleConnsPerHost: o.concurrency})
		d := &shopDeliveries{shop: shop}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("callback listener: %w", err)
		}
		srv := &http.Server{Handler: d, ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		shop.CallbackURL = "http://" + ln.Addr().String() + dujiao.Prefix + "/callback"
		var lastOrder atomic.Uint64 // the newest accepted order, which the poller polls
		return &shopSide{protocol: protocol,
			config: fmt.Sprintf(`[[storefronts]]
id = %q
protocol = "dujiao-next"
secret_env = "BENCH_SHOP_SECRET"
callback_url = %q
`, id, shop.CallbackURL),
			fund: func(ctx context.Context, admin, token string) error { return topUp(ctx, admin, token, id, o.orders) },
			place: func(ctx context.Context, n int64) (string, error) {
				no := loadgen.ExternalID(prefix, n)
				a, err := shop.Buy(ctx, djshop.Purchase{SKUID: benchProductID, Quantity: 1, DownstreamOrderNo: no, TraceID: no})
				if err != nil {
					return "", err
				}
				lastOrder.Store(uint64(a.OrderID))
				return no, nil
			},
			deliveries: d,
			polls:      newPoller(shop, lastOrder.Load, o.pageSize, o.catalogue),
			problems:   shop.Problems,
			close:      func() { _ = srv.Close() }}, nil
	case protoAcg:
		const id = "cardflow-bench-acgshop"
		shop := acgshop.New(base, id, secret, 0)
		shop.HTTP = outbound.New(outbound.Options{Timeout: acgshop.DefaultTimeout, IdleConnsPerHost: o.concurrency})
		code := strconv.Itoa(benchProductID)
		return &shopSide{protocol: protocol,
			config: fmt.Sprintf(`[[storefronts]]
id = %q
protocol = "acg-faka"
secret_env = "BENCH_SHOP_SECRET"
`, id),
			fund: func(ctx context.Context, admin, token string) error { return topUp(ctx, admin, token, id, o.orders) },
			place: func(ctx context.Context, n int64) (string, error) {
				no := loadgen.ExternalID(prefix, n)
				tr, err := shop.Trade(ctx, acgshop.Order{Code: code, Contact: loadgen.BuyerOf(n).Contact, Num: 1, RequestNo: no})
				if err != nil {
					return "", err
				}
				if strings.TrimSpace(tr.Secret) == "" {
					// The shop keeps the answer as its buyer's delivery and never asks again.
					return "", fmt.Errorf("trade %s answered without its keys", no)
				}
				return no, nil
			},
			sync:     true,
			problems: func() []string { return nil },
			close:    func() {}}, nil
	}
	return nil, fmt.Errorf("-protocol %q: use cardflow, dujiao-next, acg-faka or all", protocol)
}

// nativeStorefront is the config of a storefront on cardflow's own API
// whose callbacks go to callbackURL.
func nativeStorefront(callbackURL string) string {
	return fmt.Sprintf(`[[storefronts]]
id = %q
secret_env = "BENCH_SHOP_SECRET"
callback_url = %q
`, demo.StorefrontID, callbackURL)
}

// dockedCatalogue is the config of the products beside the bench's own that
// a docking run offers, none of them in stock, so that the catalogue holds
// size docked products.
func dockedCatalogue(size int) string {
	var b strings.Builder
	for i := 1; i < size; i++ {
		fmt.Fprintf(&b, `
[[products]]
sku = "bench-%d"
name = "Bench product %d"
id = %d
price = "%d.00"
category = "Bench %d"
  [[products.sources]]
  supplier = "own"
`, i, i, benchProductID+i, 1+i%100, i%10)
	}
	return b.String()
}

// topUp credits a docking shop, through the admin API, with twice what the
// run's orders cost, so that no order is refused for its balance.
func topUp(ctx context.Context, admin, token, id string, orders int) error {
	price, _ := strconv.ParseFloat(benchPrice, 64)
	body := fmt.Sprintf(`{"amount":"%.2f","reason":"cardflow bench"}`, 2*price*float64(orders+1))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+admin+"/v1/storefronts/"+id+"/balance", strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := outbound.New(outbound.Options{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return fmt.Errorf("top-up of %s: %w", id, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("top-up of %s: %s %s", id, resp.Status, bytes.TrimSpace(out))
	}
	return nil
}

// shopDeliveries is the Dujiao-Next shop's callback endpoint, telling the
// run of each delivery the shop applied, keyed by the shop's own order
// number.
type shopDeliveries struct {
	shop *djshop.Shop

	mu     sync.Mutex
	notify func(string)
	told   map[string]bool
}

func (d *shopDeliveries) OnDelivered(f func(string)) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.notify, d.told = f, map[string]bool{}
}

func (d *shopDeliveries) Delivered(no string) bool { return d.shop.Delivered(no) }

func (d *shopDeliveries) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "read", http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	d.shop.ServeHTTP(w, r)
	var cb struct {
		No string `json:"downstream_order_no"`
	}
	if json.Unmarshal(body, &cb) != nil || !d.shop.Delivered(cb.No) {
		return
	}
	d.mu.Lock()
	notify, first := d.notify, !d.told[cb.No]
	if first && d.told != nil {
		d.told[cb.No] = true
	}
	d.mu.Unlock()
	if notify != nil && first {
		notify(cb.No)
	}
}

// poller does what a Dujiao-Next shop does beside its orders, while they
// flow: it polls the newest accepted order (GET /orders/{id}) and pulls a
// page of the product catalogue (GET /products), each at a fixed interval,
// and keeps their latencies.
type poller struct {
	shop      *djshop.Shop
	last      func() uint64
	pageSize  int
	catalogue int // products offered

	mu       sync.Mutex
	orders   []time.Duration
	products []time.Duration
	total    int // what the last page said the catalogue holds
	errors   []string
}

func newPoller(shop *djshop.Shop, last func() uint64, pageSize, catalogue int) *poller {
	return &poller{shop: shop, last: last, pageSize: pageSize, catalogue: catalogue}
}

// run polls every interval until ctx ends.
func (p *poller) run(ctx context.Context, interval time.Duration) {
	var wg sync.WaitGroup
	wg.Go(func() {
		periodic.Every(ctx, interval, func() {
			if id := p.last(); id != 0 {
				p.get(ctx, &p.orders, dujiao.Prefix+"/orders/"+strconv.FormatUint(id, 10), nil)
			}
		})
	})
	wg.Go(func() {
		pages := (p.catalogue + p.pageSize - 1) / p.pageSize
		page := 0
		periodic.Every(ctx, interval, func() {
			page = page%pages + 1
			q := fmt.Sprintf("%s/products?page=%d&page_size=%d&include_inactive=true", dujiao.Prefix, page, p.pageSize)
			p.get(ctx, &p.products, q, func(body []byte) error {
				var a struct {
					Items []json.RawMessage `json:"items"`
					Total int               `json:"total"`
				}
				if err := json.Unmarshal(body, &a); err != nil {
					return err
				}
				if len(a.Items) == 0 {
					return fmt.Errorf("page %d of %d products is empty", page, a.Total)
				}
				p.mu.Lock()
				p.total = a.Total
				p.mu.Unlock()
				return nil
			})
		})
	})
	wg.Wait()
}

// get sends one signed GET and records its latency; an answer other than
// 200 ok:true, or one check refuses, is an error.
func (p *poller) get(ctx context.Context, into *[]time.Duration, pathAndQuery string, check func([]byte) error) {
	start := time.Now()
	status, body, err := p.shop.Do(ctx, http.MethodGet, pathAndQuery, nil)
	d := time.Since(start)
	if ctx.Err() != nil {
		return // the run ended mid-request: not the service's fault
	}
	if err == nil && (status != http.StatusOK || !bytes.Contains(body, []byte(`"ok":true`))) {
		err = fmt.Errorf("status %d: %.120s", status, body)
	}
	if err == nil && check != nil {
		err = check(body)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	*into = append(*into, d)
	if err != nil && len(p.errors) < 10 {
		path, _, _ := strings.Cut(pathAndQuery, "?")
		p.errors = append(p.errors, fmt.Sprintf("GET %s: %v", path, err))
	}
}

// pollReport is what the poller measured.
type pollReport struct {
	Orders, Products loadgen.Latencies
	NOrders, NPages  int
	PageSize, Total  int
	Errors           []string
}

func (p *poller) report() pollReport {
	p.mu.Lock()
	defer p.mu.Unlock()
	return pollReport{Orders: loadgen.Summarise(p.orders), Products: loadgen.Summarise(p.products),
		NOrders: len(p.orders), NPages: len(p.products), PageSize: p.pageSize, Total: p.total,
		Errors: append([]string(nil), p.errors...)}
}

// errNoPolls is a dujiao-next run that ended before either poll answered.
var errNoPolls = errors.New("no poll and no product page answered while the orders flowed")
