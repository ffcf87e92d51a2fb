package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"cardflow/api/dujiao"
	"cardflow/config"
	"cardflow/internal/money"
	"cardflow/internal/outbound"
)

// DockingShopID is the simulated Dujiao-Next shop's storefront id: the
// api_key its owner would type into the shop's admin.
const DockingShopID = "demo-djshop"

// DockingFloat is what the docking shop's prepaid balance is topped up to
// at each start, so that a resumed demo does not begin refused.
const DockingFloat = money.Amount(1000000) // ¥10000.00: a quarter of an hour of orders

// DockingPath is where the simulated shop takes callbacks, as a real shop
// does.
const DockingPath = dujiao.CallbackPath

// docked are the products the docking shop may buy: a stable id and the
// wholesale unit price charged to its balance (below the storefront's, as a
// reseller pays).
var docked = map[string]struct {
	id    uint32
	price money.Amount
}{
	"qb-10": {1001, 950}, "steam-50": {1002, 4800}, "netease-30": {1003, 2850}, "game-100": {1006, 9500},
}

// DujiaoShop is a Dujiao-Next shop that buys from cardflow, seen from the
// shop's side: it connects, syncs the catalogue, places a trickle of orders
// and takes their keys by signed callback. It is the demo's own small
// client on package dujiao's signer and JSON, not the fake shop of the
// tests, so that `cardflow serve` links no fake.
type DujiaoShop struct {
	BaseURL     string // cardflow's API, http://127.0.0.1:8080
	Secret      []byte // the shop's api_secret
	CallbackURL string // where cardflow posts callbacks, on DockingPath
	RunID       string // makes order numbers unique across runs
	Log         func(msg string)
	HTTP        *http.Client // nil: a shop's own 30 s client

	mu       sync.Mutex
	listed   []listing         // the SKUs in stock at the last sync
	orders   map[string]*order // by downstream order number
	tally    DujiaoTally
	problems []string
	refusing bool // the last order was refused
	n        int
}

// listing is a SKU of the synced catalogue.
type listing struct {
	SKUID uint64
	Stock int // -1: unlimited
}

type order struct {
	productID uint64
	quantity  int
	payload   string // the keys, once delivered
	status    string // paid, delivered, canceled, refunded
}

// DujiaoTally counts what the docking shop saw.
type DujiaoTally struct {
	Placed    int // orders cardflow accepted
	Refused   int // orders cardflow refused (no balance, no stock)
	Delivered int // orders whose keys came by callback
	Keys      int // keys received
	Repeats   int // callbacks for an order already delivered
	Canceled  int // orders cardflow canceled or refunded
	Earlier   int // callbacks for orders of an earlier run
	Balance   string
}

// Connect tests the connection and syncs the catalogue, as the shop's
// admin does when cardflow is added as a source.
func (s *DujiaoShop) Connect(ctx context.Context) error {
	if _, err := s.ping(ctx); err != nil {
		return fmt.Errorf("%s: connect: %w", DockingShopID, err)
	}
	return s.sync(ctx)
}

// Run places an order every 4 s until ctx ends, and syncs the catalogue
// about every half minute for stock.
func (s *DujiaoShop) Run(ctx context.Context) {
	tick := time.NewTicker(4 * time.Second)
	defer tick.Stop()
	for i := 1; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if i%8 == 0 {
			if err := s.sync(ctx); err != nil && ctx.Err() == nil {
				s.log(fmt.Sprintf("%s: sync: %v", DockingShopID, err))
			}
		}
		s.buy(ctx)
	}
}

// Tally returns the counts so far and the balance of the last ping.
func (s *DujiaoShop) Tally(ctx context.Context) DujiaoTally {
	p, err := s.ping(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil {
		s.tally.Balance = p.Balance
	}
	return s.tally
}

// Problems lists every broken promise the shop has seen.
func (s *DujiaoShop) Problems() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.problems)
}

type pingAnswer struct {
	Balance string `json:"balance"`
}

func (s *DujiaoShop) ping(ctx context.Context) (pingAnswer, error) {
	var p pingAnswer
	err := s.call(ctx, http.MethodPost, dujiao.Prefix+"/ping", nil, &p)
	return p, err
}

// sync reads every page of the catalogue, inactive products included, as
// the shop's full sync does.
func (s *DujiaoShop) sync(ctx context.Context) error {
	var listed []listing
	for page := 1; ; page++ {
		var p struct {
			Items []struct {
				IsActive bool `json:"is_active"`
				SKUs     []struct {
					ID            uint64 `json:"id"`
					StockQuantity int    `json:"stock_quantity"`
					IsActive      bool   `json:"is_active"`
				} `json:"skus"`
			} `json:"items"`
			Total int `json:"total"`
		}
		q := "?page=" + strconv.Itoa(page) + "&page_size=50&include_inactive=true"
		if err := s.call(ctx, http.MethodGet, dujiao.Prefix+"/products"+q, nil, &p); err != nil {
			return err
		}
		for _, it := range p.Items {
			for _, k := range it.SKUs {
				if it.IsActive && k.IsActive && k.StockQuantity != 0 {
					listed = append(listed, listing{SKUID: k.ID, Stock: k.StockQuantity})
				}
			}
		}
		if len(p.Items) == 0 || page*50 >= p.Total {
			break
		}
	}
	s.mu.Lock()
	s.listed = listed
	s.mu.Unlock()
	return nil
}

// buy places one order of one or two units of a SKU in stock. The order is
// recorded before it is sent, as a shop writes its row first, so that a
// callback overtaking the answer finds it.
func (s *DujiaoShop) buy(ctx context.Context) {
	s.mu.Lock()
	if len(s.listed) == 0 {
		s.mu.Unlock()
		return
	}
	l := s.listed[rand.IntN(len(s.listed))]
	qty := 1
	if rand.IntN(4) == 0 {
		qty = 2
	}
	if l.Stock > 0 {
		qty = min(qty, l.Stock)
	}
	s.n++
	no := fmt.Sprintf("DJ%s%04d", s.RunID, s.n)
	if s.orders == nil {
		s.orders = map[string]*order{}
	}
	s.orders[no] = &order{productID: l.SKUID, quantity: qty, status: dujiao.StatusPaid}
	s.mu.Unlock()

	body, _ := json.Marshal(map[string]any{"sku_id": l.SKUID, "quantity": qty, "downstream_order_no": no,
		"trace_id": no, "callback_url": s.CallbackURL}) // plain values: cannot fail
	var a struct {
		OrderID uint64 `json:"order_id"`
	}
	err := s.call(ctx, http.MethodPost, dujiao.Prefix+"/orders", body, &a)
	var msg string
	s.mu.Lock()
	switch {
	case ctx.Err() != nil:
	case err != nil:
		delete(s.orders, no) // a refusal is not remembered: the shop may send it again
		s.tally.Refused++
		if !s.refusing { // the first of a run of refusals, not each
			msg = fmt.Sprintf("🔌 %s: order %s refused (%v); /credit %s 1000 tops it up", DockingShopID, no, err, DockingShopID)
		}
		s.refusing = true
	case a.OrderID == 0:
		s.problems = append(s.problems, "order "+no+" was accepted with order_id 0, which cannot be polled")
	default:
		if s.refusing {
			msg = fmt.Sprintf("🔌 %s: orders are accepted again", DockingShopID)
		}
		s.refusing = false
		s.tally.Placed++
	}
	s.mu.Unlock()
	if msg != "" {
		s.log(msg)
	}
}

// ServeHTTP is the shop's callback endpoint: it verifies the signature
// over DockingPath, applies a delivery once and checks its keys.
func (s *DujiaoShop) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		s.refuse(w, "a callback the shop could not read: "+err.Error())
		return
	}
	secretOf := func(key string) ([]byte, bool) { return s.Secret, key == DockingShopID }
	if _, err := dujiao.VerifyCallback(r.Header.Get(dujiao.HeaderAPIKey), r.Header.Get(dujiao.HeaderTimestamp),
		r.Header.Get(dujiao.HeaderSignature), body, time.Now(), secretOf); err != nil {
		s.refuse(w, "a callback failed verification: "+err.Error())
		return
	}
	var cb struct {
		Event             string `json:"event"`
		DownstreamOrderNo string `json:"downstream_order_no"`
		Status            string `json:"status"`
		Fulfillment       *struct {
			Payload string `json:"payload"`
		} `json:"fulfillment"`
	}
	if err := json.Unmarshal(body, &cb); err != nil {
		s.refuse(w, "a callback the shop cannot decode: "+err.Error())
		return
	}
	if problem := s.apply(cb.DownstreamOrderNo, cb.Event, cb.Status, cb.Fulfillment); problem != "" {
		s.refuse(w, problem)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"ok":true,"message":"received"}`))
}

// apply settles a checked callback on its order, or says what is wrong.
func (s *DujiaoShop) apply(no, event, status string, f *struct {
	Payload string `json:"payload"`
}) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[no]
	switch {
	case !ok && !strings.HasPrefix(no, "DJ"+s.RunID):
		// An order of an earlier run, delivered after a restart: a real
		// shop keeps its rows, this one starts empty and takes it.
		s.tally.Earlier++
	case !ok:
		return "a callback for " + no + ", an order the shop never placed"
	case event != dujiao.EventFor(status):
		return fmt.Sprintf("the callback for %s with status %s has event %s", no, status, event)
	case status == dujiao.StatusDelivered && (f == nil || strings.TrimSpace(f.Payload) == ""):
		return "the callback for " + no + " says delivered without its keys"
	case status == dujiao.StatusDelivered && o.status == dujiao.StatusDelivered:
		if f.Payload != o.payload {
			return "a second delivery of " + no + " with other keys"
		}
		s.tally.Repeats++
	case status == dujiao.StatusDelivered:
		keys := strings.Split(f.Payload, "\n")
		if !slices.Contains(cardsPerUnit(o.productID), len(keys)/o.quantity) || len(keys)%o.quantity != 0 {
			return fmt.Sprintf("%s was delivered with %d keys for %d units", no, len(keys), o.quantity)
		}
		o.status, o.payload = status, f.Payload
		s.tally.Delivered++
		s.tally.Keys += len(keys)
	case status == dujiao.StatusCanceled || status == dujiao.StatusRefunded:
		if o.status == dujiao.StatusDelivered {
			return no + " was " + status + " after it was delivered"
		}
		if o.status != status {
			s.tally.Canceled++
		}
		o.status = status
	}
	return ""
}

// refuse records a problem and answers as a shop does to a callback it
// will not take.
func (s *DujiaoShop) refuse(w http.ResponseWriter, problem string) {
	s.mu.Lock()
	s.problems = append(s.problems, problem)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"ok":false,"message":"refused"}`))
}

// call sends one signed request, the path signed without its query, and
// decodes a 200 answer with ok:true into v.
func (s *DujiaoShop) call(ctx context.Context, method, pathAndQuery string, body []byte, v any) error {
	signPath, _, _ := strings.Cut(pathAndQuery, "?")
	req, err := dujiao.NewRequest(ctx, s.BaseURL, DockingShopID, s.Secret, method, pathAndQuery, time.Now(), body)
	if err != nil {
		return err
	}
	hc := s.HTTP
	if hc == nil {
		hc = shopHTTP
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, signPath, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("read %s %s: %w", method, signPath, err)
	}
	var env struct {
		OK        bool   `json:"ok"`
		ErrorCode string `json:"error_code"`
	}
	if err := json.Unmarshal(out, &env); err != nil || resp.StatusCode != http.StatusOK || !env.OK {
		return fmt.Errorf("%s %s answered %d %s", method, signPath, resp.StatusCode, env.ErrorCode)
	}
	return json.Unmarshal(out, v)
}

var shopHTTP = outbound.New(outbound.Options{Timeout: 30 * time.Second})

func (s *DujiaoShop) log(msg string) {
	if s.Log != nil {
		s.Log(msg)
	}
}

// cardsPerUnit is how many keys a unit of a docked product may bring: one
// a unit from own stock, a source's units a unit from a supplier.
func cardsPerUnit(id uint64) []int {
	for _, p := range Products {
		if uint64(docked[p.SKU].id) == id && docked[p.SKU].id != 0 {
			counts := []int{}
			for _, src := range p.Sources {
				counts = append(counts, max(src.Units, 1))
			}
			return counts
		}
	}
	return nil
}

// dockProducts gives the products the docking shop may buy their id and
// wholesale price.
func dockProducts(products []config.Product) {
	for i, p := range products {
		if d, ok := docked[p.SKU]; ok {
			products[i].ID, products[i].Price = d.id, d.price
		}
	}
}
