package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"cardflow/config"
	"cardflow/internal/adminclient"
	"cardflow/internal/app"
	"cardflow/internal/demo"
	"cardflow/internal/outbound"
	"cardflow/internal/storefront"
	"cardflow/internal/testkit"
)

// countingListener counts the connections accepted and not yet closed.
type countingListener struct {
	net.Listener
	open, peak atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	n := l.open.Add(1)
	for p := l.peak.Load(); n > p && !l.peak.CompareAndSwap(p, n); p = l.peak.Load() {
	}
	return &countedConn{Conn: c, l: l}, nil
}

type countedConn struct {
	net.Conn
	l    *countingListener
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() { c.l.open.Add(-1) })
	return c.Conn.Close()
}

// trickle opens a connection to the storefront listener and sends a POST
// /v1/orders a byte every 100 ms: its headers (slowHead) or, after whole
// headers that name a known storefront and a fresh timestamp, its 64 KiB
// body. It returns how long the connection stayed open, or an error when
// it was still open after limit.
func trickle(addr string, slowHead bool, limit time.Duration) (time.Duration, error) {
	start := time.Now()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	closed := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, conn); close(closed) }()
	head := "POST /v1/orders HTTP/1.1\r\nHost: cardflow.test\r\nX-Cardflow-Storefront: shop1\r\n" +
		"X-Cardflow-Timestamp: " + strconv.FormatInt(time.Now().Unix()+1, 10) + "\r\n" +
		"X-Cardflow-Signature: " + strings.Repeat("ab", 32) + "\r\nContent-Type: application/json\r\nContent-Length: 65536\r\n\r\n"
	rest := []byte(head)
	if !slowHead {
		if _, err := io.WriteString(conn, head); err != nil {
			return time.Since(start), nil
		}
		rest = []byte(strings.Repeat(" ", 65536))
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(limit)
	for i := 0; ; i++ {
		select {
		case <-closed:
			return time.Since(start), nil
		case <-deadline:
			return 0, fmt.Errorf("still open after %v, %d bytes sent", limit, i)
		case <-tick.C:
			if i < len(rest) {
				_, _ = conn.Write(rest[i : i+1]) // a failed write: the close arrives on the reader
			}
		}
	}
}

// TestSlowClientsAreCutAndCappedWhileOrdersGoThrough runs the service with
// api.max_connections = 12 and api.read_timeout = 1s, and 36 clients that
// each send an order 1 byte every 100 ms, three connections each (half
// trickle their headers, half a 64 KiB body after headers that pass the
// storefront and timestamp checks). Tried before: a 5-minute read timeout
// and no cap held every such connection. Now each is cut within seconds,
// never more than 12 are served at once, and a storefront's signed orders
// are accepted meanwhile.
func TestSlowClientsAreCutAndCappedWhileOrdersGoThrough(t *testing.T) {
	const maxConns, clients, rounds, orders = 12, 36, 3, 10
	receiver := storefront.NewReceiver(map[string][]byte{"shop1": []byte(testShopSecret)})
	cb := httptest.NewServer(receiver)
	defer cb.Close()

	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Admin.Token = config.Secret(testAdminToken)
	cfg.API.MaxConnections, cfg.API.ReadTimeout = maxConns, config.Duration(time.Second)
	cfg.Storefronts = []config.Storefront{{ID: "shop1", Secret: config.Secret(testShopSecret), CallbackURL: cb.URL + "/cb"}}
	cfg.Suppliers = []config.Supplier{{Name: "own", Type: config.SupplierStock}}
	cfg.Products = []config.Product{{SKU: "qb-10", Name: "Q币 10元", Sources: []config.Source{{Supplier: "own"}}}}
	cfg.Rules = []config.Rule{}
	cfg.Metrics.Listen = "127.0.0.1:0"
	cfg.FillDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	a, err := app.New(cfg, make([]byte, 32), zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.ErrorLevel), app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	apiLn := &countingListener{Listener: raw}
	adminLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := a.Start(ctx, apiLn, adminLn); err != nil {
		cancel()
		a.Stop()
		t.Fatal(err)
	}
	defer func() { cancel(); a.Stop() }()
	admin := &adminclient.Client{BaseURL: "http://" + a.AdminAddr(), Token: testAdminToken, Actor: "test"}
	if _, err := admin.ImportStock(ctx, "qb-10", strings.NewReader(demo.CardLines("qb-10", orders))); err != nil {
		t.Fatal(err)
	}

	var wg sync.WaitGroup
	var mu sync.Mutex
	var longest time.Duration
	var failures []string
	for i := range clients {
		wg.Go(func() {
			for range rounds {
				open, err := trickle(a.APIAddr(), i%2 == 0, 20*time.Second)
				mu.Lock()
				if err != nil {
					failures = append(failures, fmt.Sprintf("client %d: %v", i, err))
				}
				longest = max(longest, open)
				mu.Unlock()
				if err != nil {
					return
				}
			}
		})
	}

	// Meanwhile a storefront places its orders, each signed afresh.
	shop := &storefront.Client{BaseURL: "http://" + a.APIAddr(), ID: "shop1", Secret: []byte(testShopSecret),
		HTTP: outbound.New(outbound.Options{Timeout: 15 * time.Second})}
	for n := range orders {
		_, status, err := shop.Create(ctx, storefront.NewOrder{ExternalID: fmt.Sprintf("SLOW-%d", n), SKU: "qb-10", Quantity: 1,
			Amount: "10.00", Buyer: storefront.Buyer{ID: "b" + strconv.Itoa(n)}})
		if err != nil || status != http.StatusCreated {
			t.Errorf("order %d while slow clients held the listener: %d %v", n, status, err)
		}
	}
	wg.Wait()
	for _, f := range failures {
		t.Error(f)
	}
	if peak := apiLn.peak.Load(); peak > maxConns || peak < maxConns/2 {
		t.Errorf("at most %d connections were served at once, want between %d and the cap %d", peak, maxConns/2, maxConns)
	}
	t.Logf("%d slow connections, the longest open %v (queued ones included); peak %d served at once", clients*rounds, longest, apiLn.peak.Load())
	testkit.EventuallyWithin(t, 10*time.Second, "every order delivered", func() bool { return receiver.Stats().Accepted >= orders })

	// The connections are counted for operators on [metrics] listen
	// (no credentials there); the public listener serves no metrics.
	client := outbound.New(outbound.Options{Timeout: 5 * time.Second})
	resp, err := client.Get("http://" + a.MetricsAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `cardflow_http_connections{listener="api"}`) {
		t.Errorf("[metrics] listen answered %s without the connection gauge", resp.Status)
	}
	if resp, err := client.Get("http://" + a.APIAddr() + "/metrics"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("the storefront listener answered /metrics with %v %v, want 404", resp, err)
	} else {
		resp.Body.Close()
	}
}

// TestAnAuthorizedImportMayUploadSlowerThanTheAdminReadTimeout: the admin
// listener reads requests as briskly as the storefront's (here 300 ms), but
// a stock import that passed the token check extends its own deadline, so
// a file uploaded slowly over 1.5 s is imported whole; the same slow upload
// without the token is refused at once.
func TestAnAuthorizedImportMayUploadSlowerThanTheAdminReadTimeout(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Admin.Token = config.Secret(testAdminToken)
	cfg.API.Listen, cfg.Admin.Listen = "127.0.0.1:0", "127.0.0.1:0"
	cfg.Storefronts = []config.Storefront{{ID: "shop1", Secret: config.Secret(testShopSecret), CallbackURL: "http://127.0.0.1:9/cb"}}
	cfg.Suppliers = []config.Supplier{{Name: "own", Type: config.SupplierStock}}
	cfg.Products = []config.Product{{SKU: "qb-10", Name: "Q币 10元", Sources: []config.Source{{Supplier: "own"}}}}
	cfg.FillDefaults()
	a, err := app.New(cfg, make([]byte, 32), zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.ErrorLevel),
		app.Options{AdminReadTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := a.Start(ctx, nil, nil); err != nil {
		cancel()
		a.Stop()
		t.Fatal(err)
	}
	defer func() { cancel(); a.Stop() }()

	slowly := func() io.Reader {
		pr, pw := io.Pipe()
		go func() {
			lines := strings.Split(demo.CardLines("qb-10", 6), "\n")
			for _, l := range lines {
				time.Sleep(250 * time.Millisecond) // the upload's own pace, not a wait for the service
				if _, err := io.WriteString(pw, l+"\n"); err != nil {
					return
				}
			}
			_ = pw.Close()
		}()
		return pr
	}
	admin := &adminclient.Client{BaseURL: "http://" + a.AdminAddr(), Token: testAdminToken, Actor: "test"}
	res, err := admin.ImportStock(ctx, "qb-10", slowly())
	if err != nil || res.Added != 6 {
		t.Fatalf("slow authorized import: %+v, %v; want 6 added", res, err)
	}
	stranger := &adminclient.Client{BaseURL: "http://" + a.AdminAddr(), Token: "wrong-token-0123456789"}
	start := time.Now()
	if _, err := stranger.ImportStock(ctx, "qb-10", slowly()); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("slow import without the token: %v, want a 401", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("the refused upload took %v to answer", d)
	}
}

// TestCheckAndServeRefuseAWebhookOnAnAPIRoute: qq.webhook_path =
// "/v1/orders" passed `cardflow check` before, and `serve` then panicked in
// ServeMux. Both now refuse it, naming the key.
func TestCheckAndServeRefuseAWebhookOnAnAPIRoute(t *testing.T) {
	s := newService(t, "[qq]\napp_id = \"102012345\"\nsecret = \"DG5g3B4j9X2KOErG\"\nwebhook_path = \"/v1/orders\"\n")
	for _, cmd := range []string{"check", "serve"} {
		code, out := runBinary(t, s.env, cmd, "-config", s.config)
		if code == 0 || strings.Contains(out, "panic") || !strings.Contains(out, `qq.webhook_path: "/v1/orders" is under /v1`) {
			t.Errorf("%s: exit %d\n%s", cmd, code, out)
		}
	}
}
