package main

// Helpers shared by the tests that drive the real binary as a service: its
// config and environment, a storefront and admin client for it, a fake Fulu
// gateway wired to it, and the storefront's way of submitting an order.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"cardflow/internal/adminclient"
	"cardflow/internal/storefront"
	"cardflow/suppliers/fulu/fulufake"
)

const (
	testShopSecret = "crash-test-shop-secret-0123"
	testAdminToken = "crash-test-admin-token-0123"
	testMasterKey  = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=" // 32 bytes 0..31
)

// service is a config and environment for running the real binary.
type service struct {
	dir, config    string
	apiAddr, admin string
	env            []string
	receiver       *storefront.Receiver
	callbackURL    string
	started        bool // start succeeded once: its ports are the service's
}

func newService(t *testing.T, extra string) *service {
	t.Helper()
	s := &service{dir: t.TempDir(), apiAddr: freeAddr(t), admin: freeAddr(t)}
	s.receiver = storefront.NewReceiver(map[string][]byte{"shop1": []byte(testShopSecret)})
	cb := httptest.NewServer(s.receiver)
	t.Cleanup(cb.Close)
	s.callbackURL = cb.URL + "/cardflow/callback"
	s.env = []string{"CARDFLOW_MASTER_KEY=" + testMasterKey, "CARDFLOW_ADMIN_TOKEN=" + testAdminToken,
		"CARDFLOW_SHOP1_SECRET=" + testShopSecret}
	s.config = filepath.Join(s.dir, "config.toml")
	noRules := "rules = [] # these tests send many orders per buyer; rules have tests of their own\n"
	if strings.Contains(extra, "[[rules]]") {
		noRules = ""
	}
	cfg := fmt.Sprintf(`data_dir = "data"
%s[api]
listen = %q
[admin]
listen = %q
[log]
level = "warn"
[[storefronts]]
id = "shop1"
secret_env = "CARDFLOW_SHOP1_SECRET"
callback_url = %q
[[suppliers]]
name = "own"
type = "stock"
[[products]]
sku = "qb-10"
name = "Q币 10元"
max_quantity = 5
  [[products.sources]]
  supplier = "own"
[processing]
workers = 8
%s`, noRules, s.apiAddr, s.admin, s.callbackURL, extra)
	if err := os.WriteFile(s.config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return s
}

// freeAddr's ports are free when picked, not when cardflow binds them:
// another test binary running beside this one may take one in between. A
// first start that fails with "address already in use" is tried again on
// new ports (the config rewritten); later starts keep the ports, which the
// test's clients already point at.
func (s *service) start(t *testing.T) *proc {
	t.Helper()
	for try := 0; ; try++ {
		p, err := launch(t, s.env, "http://"+s.apiAddr+"/readyz", "serve", "-config", s.config)
		if err == nil {
			s.started = true
			return p
		}
		if s.started || try == 2 || !errors.Is(err, errExitedAtStart) || !strings.Contains(err.Error(), "address already in use") {
			t.Fatal(err)
		}
		s.movePorts(t)
	}
}

// movePorts gives the service new listen addresses in its config.
func (s *service) movePorts(t *testing.T) {
	t.Helper()
	cfg, err := os.ReadFile(s.config)
	if err != nil {
		t.Fatal(err)
	}
	api, admin := freeAddr(t), freeAddr(t)
	text := strings.Replace(string(cfg), fmt.Sprintf("listen = %q", s.apiAddr), fmt.Sprintf("listen = %q", api), 1)
	text = strings.Replace(text, fmt.Sprintf("listen = %q", s.admin), fmt.Sprintf("listen = %q", admin), 1)
	if err := os.WriteFile(s.config, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	s.apiAddr, s.admin = api, admin
}

func (s *service) client() *storefront.Client {
	return &storefront.Client{BaseURL: "http://" + s.apiAddr, ID: "shop1", Secret: []byte(testShopSecret),
		HTTP: &http.Client{Timeout: 5 * time.Second}}
}

func (s *service) adminClient() *adminclient.Client {
	return &adminclient.Client{BaseURL: "http://" + s.admin, Token: testAdminToken, Actor: "test"}
}

// scrape reads the service's /metrics on the admin listener, with the token
// (the storefront listener serves none).
func (s *service) scrape(t *testing.T) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+s.admin+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testAdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d %v", resp.StatusCode, err)
	}
	return string(body)
}

// submit sends an order until cardflow answers it, signed afresh each time,
// as a storefront does while the service restarts: a crash between commit
// and answer must give the same order back on the next try. It returns the
// first answer, or the error of the last try once the service has been
// unreachable for ~10 s.
func submit(ctx context.Context, c *storefront.Client, o storefront.NewOrder) (storefront.Order, int, error) {
	for attempt := 0; ; attempt++ {
		got, status, err := c.Create(ctx, o)
		var apiErr *storefront.APIError
		if err == nil || errors.As(err, &apiErr) && apiErr.Status < 500 || attempt >= 2000 {
			return got, status, err
		}
		<-time.After(5 * time.Millisecond) // the service is down: back off briefly, like a storefront
	}
}

// orderLoad is numbered orders sent from several goroutines at once, as
// busy storefronts send them, while a test kills and restarts the service.
type orderLoad struct {
	orders int
	next   atomic.Int64 // orders begun
	wg     sync.WaitGroup
}

// startLoad sends orders 1 to orders from senders goroutines, each through
// send, which tries it as its storefront does until it is answered; an
// error fails the test and stops that sender.
func startLoad(t *testing.T, orders, senders int, send func(n int) error) *orderLoad {
	l := &orderLoad{orders: orders}
	for range senders {
		l.wg.Go(func() {
			for {
				n := int(l.next.Add(1))
				if n > orders {
					return
				}
				if err := send(n); err != nil {
					t.Errorf("order %d: %v", n, err)
					return
				}
			}
		})
	}
	return l
}

// begun is how many orders have been begun.
func (l *orderLoad) begun() int { return int(l.next.Load()) }

// sending says whether orders are still being begun: a kill now hits the
// load.
func (l *orderLoad) sending() bool { return l.begun() < l.orders }

// wait waits for every sender to finish.
func (l *orderLoad) wait() { l.wg.Wait() }

// fuluGateway is a fake Fulu gateway served to a service under test.
type fuluGateway struct {
	*fulufake.Gateway
	inFlight atomic.Int64 // requests being answered right now
}

// fuluCard is one Fulu card product, bought two at a time, that the crash
// tests order.
const fuluCard = `
[[products]]
sku = "fl-card"
name = "福禄测试卡"
max_quantity = 5
batch_size = 2
  [[products.sources]]
  supplier = "fulu"
  item = "10000587"
`

// newFuluService is a service that buys from a fake Fulu gateway (timeout
// 1 s, grace 3 s, breaker probe 1 s). processing goes into [processing]
// (it may be empty); products are appended after the supplier. The
// gateway's NotifyURL is set to the service.
func newFuluService(t *testing.T, processing, products string, opts fulufake.Options) (*service, *fuluGateway) {
	t.Helper()
	// The gateway needs the service's notify URL and the service the
	// gateway's URL: serve through a handler that is filled in below.
	var gwp atomic.Pointer[fuluGateway] // set before the service starts; the race detector cannot see that order across processes
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gw := gwp.Load()
		gw.inFlight.Add(1)
		defer gw.inFlight.Add(-1)
		gw.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	s := newService(t, fmt.Sprintf(`%s
[[suppliers]]
name = "fulu"
type = "fulu"
base_url = %q
app_key = %q
app_secret = %q
timeout = "1s"
grace = "3s"
notify_path = "/notify/fulu"
breaker_probe = "1s"
%s`, processing, srv.URL, fulufake.SandboxAppKey, fulufake.SandboxAppSecret, products))
	opts.NotifyURL = "http://" + s.apiAddr + "/notify/fulu"
	gw := &fuluGateway{Gateway: fulufake.New(opts)}
	t.Cleanup(gw.Close) // before srv.Close: slow answers let go of the server
	gwp.Store(gw)
	return s, gw
}
