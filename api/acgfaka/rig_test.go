package acgfaka_test

// The rig is one running cardflow as an acg-faka shop meets it: a real
// bbolt store, the real engine on a clock the test moves, the storefront
// listener with the shared store mounted on loopback, and two acgshop
// shops.

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"cardflow/api/acgfaka"
	"cardflow/api/acgfaka/acgshop"
	"cardflow/config"
	"cardflow/internal/dockingtest"
	"cardflow/internal/routes"
	"cardflow/internal/testkit"
	"cardflow/processor"
	"cardflow/storage"
)

const (
	shopID  = "cardflow-acg1"
	otherID = "cardflow-acg2"
	shopKey = "acg-shop1-key-5d0c7e21"
	otherKy = "acg-shop2-key-9f3b6a40"

	// The items of dockingtest.Catalogue's card products.
	codeQB     = "1001" // Q币, own stock only
	codeJD     = "1002" // 京东E卡, own stock only
	codeSteam  = "1003" // own stock, then the simulator
	codeMobile = "2001" // a direct top-up: not offered

	window = 400 * time.Millisecond // the shops' sync window, short for tests
)

// rig is the shared one with the shared store mounted, on a clock the test
// moves.
type rig struct {
	*dockingtest.Rig
	clock *testkit.Clock
	shop  *acgshop.Client // cardflow-acg1
	other *acgshop.Client // cardflow-acg2
}

func newRig(t *testing.T, screen processor.Screener) *rig {
	t.Helper()
	r := &rig{Rig: dockingtest.Open(t), clock: testkit.NewClock(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))}
	up, err := acgfaka.NewUpstream(acgfaka.Options{
		Shops: []acgfaka.Shop{{ID: shopID, Key: shopKey, SyncWindow: window, ClaimPeriod: time.Hour},
			{ID: otherID, Key: otherKy, SyncWindow: window}},
		Products: dockingtest.Catalogue(), Suppliers: dockingtest.Suppliers(), Log: r.Log,
	})
	if err != nil {
		t.Fatal(err)
	}
	r.Serve(t, dockingtest.Tree{Shops: []string{shopID, otherID}, Callbacks: up.Callbacks(), Screen: screen, Now: r.clock.Now,
		Prefix: routes.AcgFaka, Owner: config.ProtocolAcgFaka, Handler: func(e *processor.Engine) http.Handler { return up.Handler(e) }})
	r.shop = acgshop.New(r.API.URL, shopID, shopKey, 0)
	r.other = acgshop.New(r.API.URL, otherID, otherKy, 0)
	t.Cleanup(func() {
		r.Stop(t)
		for _, key := range []string{shopKey, otherKy} {
			if strings.Contains(r.Logs.String(), key) {
				t.Errorf("an app_key is in the logs")
			}
		}
	})
	return r
}

// order reads the order a shop's number made.
func (r *rig) order(t *testing.T, shop, no string) *storage.Order {
	t.Helper()
	o, err := r.Engine.OrderByExternal(shop, no)
	if err != nil {
		t.Fatalf("order %s of %s: %v", no, shop, err)
	}
	return o
}

// held says whether an order waits for its shop to claim it.
func (r *rig) held(id uint64) bool {
	var waiting bool
	_ = r.Store.View(func(tx *storage.Tx) error { waiting = tx.Held().Waiting(id); return nil })
	return waiting
}

// refused checks that err is the shop's failure showing want.
func refused(t *testing.T, what string, err error, want *acgfaka.Error) {
	t.Helper()
	var e *acgshop.Error
	if !errors.As(err, &e) || e.Msg != want.Msg || e.Err != nil {
		t.Errorf("%s: %v, want the refusal %q", what, err, want.Msg)
	}
}

func buy(code, no string, num int) acgshop.Order {
	return acgshop.Order{Code: code, Contact: "k3J9xQm2Lp8Vz1Rt", Num: num, RequestNo: no}
}

// logsHave says whether the logs hold s.
func (r *rig) logsHave(s string) bool { return strings.Contains(r.Logs.String(), s) }
