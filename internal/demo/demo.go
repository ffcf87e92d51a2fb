// Package demo is the simulated shop behind `cardflow demo`: its catalogue,
// generated card keys, a storefront that places a realistic mix of orders
// (small, large, bursty, out of stock) and checks every callback, and a
// Dujiao-Next shop that docks, buys a trickle of orders and checks their
// keys (dujiao.go).
package demo

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"

	"cardflow/config"
	"cardflow/internal/money"
	"cardflow/internal/storefront"
)

// StorefrontID is the simulated storefront's id.
const StorefrontID = "demo-shop"

// SimSupplier is the demo's upstream supplier: a simulator with realistic
// latency, failures, lost answers, duplicate cards and short outages.
const SimSupplier = "sim"

// Products of the demo shop, with their sources in priority order. jd-100
// starts empty and is restocked after a while; psn-200 is never restocked, so
// its orders fail and wait for an operator; game-100 is bought from the
// simulated supplier only; qb-direct tops the buyer's account up.
var Products = []config.Product{
	{SKU: "qb-10", Name: "Q币 10元", Kind: config.KindCard, MaxQuantity: 10, BatchSize: 5, LowStock: 20,
		Sources: []config.Source{{Supplier: "own", Units: 1}, {Supplier: SimSupplier, Item: "QB10", Units: 1}}},
	{SKU: "steam-50", Name: "Steam 充值卡 50元", Kind: config.KindCard, MaxQuantity: 20, BatchSize: 5, LowStock: 10,
		Sources: []config.Source{{Supplier: "own", Units: 1}}},
	{SKU: "netease-30", Name: "网易一卡通 30元", Kind: config.KindCard, MaxQuantity: 10, BatchSize: 5, LowStock: 10,
		Sources: []config.Source{{Supplier: "own", Units: 1}}},
	{SKU: "jd-100", Name: "京东E卡 100元", Kind: config.KindCard, MaxQuantity: 10, BatchSize: 5, LowStock: 5,
		Sources: []config.Source{{Supplier: "own", Units: 1}}},
	{SKU: "psn-200", Name: "PSN 点卡 200元", Kind: config.KindCard, MaxQuantity: 5, BatchSize: 5, LowStock: 5,
		Sources: []config.Source{{Supplier: "own", Units: 1}}},
	{SKU: "game-100", Name: "游戏点卡 100元（两张50元）", Kind: config.KindCard, MaxQuantity: 10, BatchSize: 2,
		Sources: []config.Source{{Supplier: SimSupplier, Item: "GAME50", Units: 2}}},
	{SKU: "qb-direct", Name: "Q币直充 10元", Kind: config.KindDirect, MaxQuantity: 10, BatchSize: 10,
		Sources: []config.Source{{Supplier: SimSupplier, Item: "QBD10", Units: 1}}},
}

// ExpectDeliveries tells the storefront's callback receiver what cardflow
// delivers for each product: no cards for a top-up; for a card product one
// card a unit from own stock and `units` cards a unit from a supplier
// (game-100 is bought as two 50s, so its buyer gets two cards a unit).
func ExpectDeliveries(r *storefront.Receiver) {
	for _, p := range Products {
		if p.Kind == config.KindDirect {
			r.SetDirect(p.SKU)
			continue
		}
		counts := make([]int, 0, len(p.Sources))
		for _, s := range p.Sources {
			counts = append(counts, max(s.Units, 1))
		}
		r.SetCardsPerUnit(p.SKU, counts...)
	}
}

// prices in fen per unit.
var prices = map[string]money.Amount{"qb-10": 1000, "steam-50": 5000, "netease-30": 3000, "jd-100": 10000, "psn-200": 20000,
	"game-100": 10000, "qb-direct": 1000}

// initialStock is what a fresh demo data dir starts with.
var initialStock = map[string]int{"qb-10": 400, "steam-50": 150, "netease-30": 200}

// RestockSKU is imported RestockAfter into the run.
const (
	RestockSKU   = "jd-100"
	RestockCount = 60
	RestockAfter = 40 * time.Second
	StockWait    = 90 * time.Second
)

// Config is the demo's configuration, built in code on cardflow's defaults.
func Config(dataDir, apiAddr, adminAddr, callbackURL string, secret, adminToken string) *config.Config {
	cfg := config.Default()
	cfg.DataDir = dataDir
	cfg.API.Listen, cfg.Admin.Listen = apiAddr, adminAddr
	cfg.Admin.Token, cfg.Admin.TokenEnv = config.Secret(adminToken), ""
	cfg.Log.Format, cfg.Log.Level = "console", "warn"
	cfg.Storefronts = []config.Storefront{{ID: StorefrontID, Secret: config.Secret(secret), CallbackURL: callbackURL}}
	cfg.Suppliers = []config.Supplier{
		{Name: "own", Type: config.SupplierStock},
		{Name: SimSupplier, Type: config.SupplierSim, Timeout: config.Duration(5 * time.Second),
			Grace: config.Duration(30 * time.Second), Latency: config.Duration(300 * time.Millisecond),
			FailRate: 0.03, UnknownRate: 0.05, DuplicateRate: 0.03, OutageRate: 0.3,
			OutageDuration: config.Duration(20 * time.Second), UnitCost: 950},
	}
	cfg.Processing.StockWait = config.Duration(StockWait)
	cfg.Processing.AutoRefund = []string{config.RefundInvalidAccount}
	cfg.Products = slices.Clone(Products)
	dockProducts(cfg.Products)
	cfg.FillDefaults()
	return cfg
}

// AddDockingShop adds the simulated Dujiao-Next shop, which takes its
// callbacks at callbackURL and signs with secret.
func AddDockingShop(cfg *config.Config, callbackURL, secret string) {
	cfg.Storefronts = append(cfg.Storefronts, config.Storefront{ID: DockingShopID, Protocol: config.ProtocolDujiaoNext,
		Secret: config.Secret(secret), CallbackURL: callbackURL})
}

// InitialStock returns card lines for a fresh demo, per SKU.
func InitialStock() map[string]string {
	out := make(map[string]string, len(initialStock))
	for sku, n := range initialStock {
		out[sku] = CardLines(sku, n)
	}
	return out
}

// CardLines generates n random demo card keys for sku, one
// "number,password,expires_at" per line.
func CardLines(sku string, n int) string {
	var b strings.Builder
	prefix := strings.ToUpper(strings.ReplaceAll(sku, "-", ""))
	expires := time.Now().AddDate(1, 0, 0).Format(time.DateOnly)
	for range n {
		fmt.Fprintf(&b, "%s-%s-%s,%s,%s\n", prefix, randomString(4), randomString(8), randomDigits(8), expires)
	}
	return b.String()
}

const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

func randomString(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[randInt(len(alphabet))]
	}
	return string(b)
}

func randomDigits(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + randInt(10))
	}
	return string(b)
}

func randInt(n int) int {
	v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return int(v.Int64())
}
