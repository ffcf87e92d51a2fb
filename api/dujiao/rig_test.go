package dujiao_test

// The rig is one running cardflow as a Dujiao-Next shop meets it: a real
// bbolt store, the real engine, the storefront listener with the upstream
// API mounted on loopback, and two djshop shops, each with its callback
// endpoint on a server of its own.

import (
	"cmp"
	"net/http"
	"slices"
	"testing"
	"time"

	"cardflow/api/dujiao"
	"cardflow/api/dujiao/djshop"
	"cardflow/internal/dockingtest"
	"cardflow/internal/routes"
	"cardflow/internal/testkit"
	"cardflow/processor"
)

const (
	shopID  = "cardflow-shop1"
	otherID = "cardflow-shop2"

	// The docked products of dockingtest.Catalogue.
	idQB     = 1001 // Q币, own stock only
	idJD     = 1002 // 京东E卡, own stock only
	idSteam  = 1003 // own stock, then the simulator
	idMobile = 2001 // direct top-up through the simulator
)

var (
	shopSecret  = []byte("dj-shop1-secret-6c1e94a0")
	otherSecret = []byte("dj-shop2-secret-0b7d22fe")
)

type rigOptions struct {
	hold   time.Duration // 0: a short one, so that tests do not wait for the real 2 s
	screen processor.Screener
}

// rig is the shared one with the Dujiao-Next upstream API mounted.
type rig struct {
	*dockingtest.Rig
	shop  *djshop.Shop // cardflow-shop1
	other *djshop.Shop // cardflow-shop2
}

func newRig(t *testing.T, opts rigOptions) *rig {
	t.Helper()
	r := &rig{Rig: dockingtest.Open(t)}
	r.shop = djshop.New("", shopID, shopSecret)
	r.other = djshop.New("", otherID, otherSecret)
	cb, cbOther := r.CallbackServer(r.shop), r.CallbackServer(r.other)
	r.shop.CallbackURL = cb.URL + dujiao.CallbackPath
	r.other.CallbackURL = cbOther.URL + "/custom/callback/path" // a shop may move its route; the signature does not
	up, err := dujiao.NewUpstream(dujiao.Options{
		Shops: []dujiao.Shop{{ID: shopID, Secret: shopSecret, CallbackURL: cb.URL + "/api/v1/upstream/callback"},
			{ID: otherID, Secret: otherSecret, CallbackURL: cbOther.URL + "/"}},
		Products: dockingtest.Catalogue(), Suppliers: dockingtest.Suppliers(), Store: r.Store, Hold: shortHold(opts.hold), Log: r.Log,
	})
	if err != nil {
		t.Fatal(err)
	}
	r.Serve(t, dockingtest.Tree{Shops: []string{shopID, otherID}, Callbacks: up.Callbacks(), Screen: opts.screen,
		Prefix: routes.DujiaoNext, Owner: "dujiao-next", Handler: func(e *processor.Engine) http.Handler { return up.Handler(e) }})
	r.shop.BaseURL, r.other.BaseURL = r.API.URL, r.API.URL
	r.Watch(shopID, r.shop.Problems)
	r.Watch(otherID, r.other.Problems)
	return r
}

// shortHold is a rig's callback hold: a short one unless a test asks.
func shortHold(hold time.Duration) time.Duration { return cmp.Or(hold, 20*time.Millisecond) }

// applied lists the callbacks a shop took, for one of its orders.
func applied(s *djshop.Shop, no string) []djshop.Received {
	return slices.DeleteFunc(s.Received(), func(rec djshop.Received) bool {
		return rec.Answer != djshop.MsgReceived || rec.Callback.DownstreamOrderNo != no
	})
}

// waitFor waits until a shop's order, of either protocol, reaches status
// by callback.
func waitFor(t *testing.T, s interface {
	Procurement(string) (djshop.Procurement, bool)
}, no, status string) djshop.Procurement {
	t.Helper()
	var p djshop.Procurement
	testkit.Eventually(t, "order "+no+" "+status+" by callback", func() bool {
		p, _ = s.Procurement(no)
		return p.Status == status && p.Callbacks > 0
	})
	return p
}
