package dujiao_test

// The webhook rig is one running cardflow with shops of both Dujiao-Next
// protocols on one storefront listener: two generic-webhook shops and one
// upstream-API shop, on a real bbolt store and the real engine, each shop
// with its callback endpoint on a server of its own.

import (
	"maps"
	"net/http"
	"testing"

	"cardflow/api/dujiao"
	"cardflow/api/dujiao/djshop"
	"cardflow/internal/dockingtest"
	"cardflow/internal/routes"
	"cardflow/processor"
	"cardflow/storage"
)

const (
	hookID  = "cardflow-hook1"
	hook2ID = "cardflow-hook2"
)

const (
	hookToken  = "hook1-token-5e0c2b9a7d41f6e3"
	hook2Token = "hook2-token-a93f10c7be2d4e58"
)

// hookRig is the shared rig with both Dujiao-Next protocols mounted.
type hookRig struct {
	*dockingtest.Rig
	hook  *djshop.WebhookShop // cardflow-hook1
	hook2 *djshop.WebhookShop // cardflow-hook2
	dj    *djshop.Shop        // cardflow-shop1, a dujiao-next shop beside them
}

func newHookRig(t *testing.T, opts rigOptions) *hookRig {
	t.Helper()
	r := &hookRig{Rig: dockingtest.Open(t)}
	r.hook = djshop.NewWebhookShop("", hookToken)
	r.hook2 = djshop.NewWebhookShop("", hook2Token)
	r.dj = djshop.New("", shopID, shopSecret)
	cb, cb2, cbDJ := r.CallbackServer(r.hook), r.CallbackServer(r.hook2), r.CallbackServer(r.dj)
	r.hook.CallbackURL = cb.URL + "/api/v1/upstream/generic-webhook/callback"
	r.hook2.CallbackURL = cb2.URL + "/custom/webhook/callback"
	r.dj.CallbackURL = cbDJ.URL + dujiao.CallbackPath
	common := dujiao.Options{Products: dockingtest.Catalogue(), Suppliers: dockingtest.Suppliers(), Store: r.Store,
		Hold: shortHold(opts.hold), Log: r.Log}
	hookOpts, upOpts := common, common
	hookOpts.Shops = []dujiao.Shop{{ID: hookID, Secret: []byte(hookToken), CallbackURL: cb.URL},
		{ID: hook2ID, Secret: []byte(hook2Token), CallbackURL: cb2.URL + "/"}}
	upOpts.Shops = []dujiao.Shop{{ID: shopID, Secret: shopSecret, CallbackURL: cbDJ.URL}}
	hooks, err := dujiao.NewWebhook(hookOpts)
	if err != nil {
		t.Fatal(err)
	}
	up, err := dujiao.NewUpstream(upOpts)
	if err != nil {
		t.Fatal(err)
	}
	callbacks := hooks.Callbacks()
	maps.Copy(callbacks, up.Callbacks())
	r.Serve(t, dockingtest.Tree{Shops: []string{hookID, hook2ID, shopID}, Callbacks: callbacks, Screen: opts.screen,
		Prefix: routes.DujiaoNext, Owner: "dujiao", Handler: func(e *processor.Engine) http.Handler {
			return dujiao.Tree(up.Handler(e), hooks.Handler(e))
		}})
	r.hook.Endpoint, r.hook2.Endpoint = r.API.URL+dujiao.WebhookPath, r.API.URL+dujiao.WebhookPath
	r.dj.BaseURL = r.API.URL
	r.Watch(hookID, r.hook.Problems)
	r.Watch(hook2ID, r.hook2.Problems)
	r.Watch(shopID, r.dj.Problems)
	return r
}

// orders counts the orders in the store.
func (r *hookRig) orders(t *testing.T) int {
	t.Helper()
	var all []*storage.Order
	err := r.Store.View(func(tx *storage.Tx) error {
		var err error
		all, err = tx.RecentOrders(0, 1000)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return len(all)
}

// taken lists the callbacks a webhook shop took for one of its orders.
func taken(s *djshop.WebhookShop, no string) []djshop.WebhookReceived {
	var out []djshop.WebhookReceived
	for _, rec := range s.Received() {
		if rec.Status == 200 && rec.Callback.OrderNo == no {
			out = append(out, rec)
		}
	}
	return out
}
