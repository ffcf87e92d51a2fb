package routes

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

// TestCheckRefusesEveryPathThatWouldCollideOrPanic: paths that collide with
// the API, with each other, or that ServeMux would panic on or read as a
// pattern, are errors naming the config key; good paths pass.
func TestCheckRefusesEveryPathThatWouldCollideOrPanic(t *testing.T) {
	for _, tc := range []struct {
		path, why string
	}{
		{"/v1/orders", "keeps for its own routes"},
		{"/v1/orders/1", "keeps for its own routes"},
		{"/v1", "keeps for its own routes"},
		{"/healthz", "keeps for its own routes"},
		{"/metrics", "keeps for its own routes"},
		{"/debug/pprof", "keeps for its own routes"},
		{"qq/webhook", "starting with"},
		{"", "starting with"},
		{"/", "must not end"},
		{"/qq/", "must not end"},
		{"/qq/{id}", "only letters"},
		{"/qq/{$}", "only letters"},
		{"/a b", "only letters"},
		{"/qq//hook", "clean path"},
		{"/qq/../v1/orders", "clean path"},
		{"/./hook", "clean path"},
	} {
		errs := Check([]Mount{{Owner: "qq.webhook_path", Path: tc.path}})
		var me *MountError
		if len(errs) != 1 || !errors.As(errs[0], &me) || me.Mount.Owner != "qq.webhook_path" || !strings.Contains(me.Err.Error(), tc.why) {
			t.Errorf("%q: %v, want one error saying %q", tc.path, errs, tc.why)
		}
	}
	errs := Check([]Mount{
		{Owner: "suppliers[1].notify_path", Path: "/notify/fulu"},
		{Owner: "qq.webhook_path", Path: "/qq/webhook"},
		{Owner: "telegram.webhook_url", Path: "/notify/fulu"},
		{Owner: "suppliers[2].notify_path", Path: "/notify/fulu2"},
	})
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), `telegram.webhook_url: "/notify/fulu" is already served for suppliers[1].notify_path`) {
		t.Errorf("two owners of one path: %v", errs)
	}
}

// TestTableServesWhatItMounts: cardflow's routes and a mount are served.
func TestTableServesWhatItMounts(t *testing.T) {
	nop := http.NotFoundHandler()
	tb := NewTable(Handlers{CreateOrder: nop, GetOrder: nop, FindOrder: nop, CreateClaim: nop, Healthz: nop, Readyz: nop})
	if err := tb.Mount(Mount{Owner: "qq.webhook_path", Path: "/qq/webhook"}, nop); err != nil {
		t.Fatal(err)
	}
	for _, want := range append([]string{"POST /qq/webhook"}, Storefront...) {
		method, p, _ := strings.Cut(want, " ")
		p = strings.Replace(p, "{id}", "12", 1)
		r, _ := http.NewRequest(method, p, nil)
		if _, pattern := tb.Mux().Handler(r); pattern != want {
			t.Errorf("%s %s is served by %q", method, p, pattern)
		}
	}
}

// TestATreeServesEveryPathUnderItAndNoMountMayEnterIt: a docking
// protocol's tree takes every method and path below its prefix, and a
// config mount under it is refused by name, as any reserved path.
func TestATreeServesEveryPathUnderItAndNoMountMayEnterIt(t *testing.T) {
	nop := http.NotFoundHandler()
	tb := NewTable(Handlers{CreateOrder: nop, GetOrder: nop, FindOrder: nop, CreateClaim: nop, Healthz: nop, Readyz: nop})
	if err := tb.Tree(DujiaoNext, "dujiao-next", nop); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ method, path string }{
		{"POST", "/api/v1/upstream/ping"}, {"GET", "/api/v1/upstream/products"}, {"GET", "/api/v1/upstream/orders/12"},
		{"POST", "/api/v1/upstream/orders/12/cancel"}, {"DELETE", "/api/v1/upstream/anything"},
	} {
		r, _ := http.NewRequest(tc.method, tc.path, nil)
		if _, pattern := tb.Mux().Handler(r); pattern != DujiaoNext+"/" {
			t.Errorf("%s %s is served by %q", tc.method, tc.path, pattern)
		}
	}
	if err := tb.Tree(DujiaoNext, "again", nop); err == nil || !strings.Contains(err.Error(), "already served for dujiao-next") {
		t.Errorf("a second tree at the same prefix: %v", err)
	}
	if err := tb.Tree("/shared", "nothing", nil); err == nil {
		t.Error("a tree without a handler was taken")
	}
	errs := Check([]Mount{{Owner: "qq.webhook_path", Path: "/api/v1/upstream/qq"}})
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "keeps for its own routes") {
		t.Errorf("a mount inside the tree: %v", errs)
	}
}

// TestBothDockingTreesServeTheirPathsAndTheirBarePrefix: the Dujiao-Next
// and acg-faka trees side by side each take every path below them and
// their bare prefix (which ServeMux would otherwise redirect, and a shop
// does not follow redirects); a config mount under /shared is refused.
func TestBothDockingTreesServeTheirPathsAndTheirBarePrefix(t *testing.T) {
	nop := http.NotFoundHandler()
	tb := NewTable(Handlers{CreateOrder: nop, GetOrder: nop, FindOrder: nop, CreateClaim: nop, Healthz: nop, Readyz: nop})
	for _, tree := range []string{DujiaoNext, AcgFaka} {
		if err := tb.Tree(tree, tree, nop); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct{ path, pattern string }{
		{"/shared/commodity/trade", AcgFaka + "/"}, {"/shared/authentication/connect", AcgFaka + "/"},
		{"/shared/nothing/here", AcgFaka + "/"}, {"/shared", AcgFaka}, {"/api/v1/upstream", DujiaoNext},
		{"/api/v1/upstream/ping", DujiaoNext + "/"},
	} {
		r, _ := http.NewRequest("POST", tc.path, nil)
		if _, pattern := tb.Mux().Handler(r); pattern != tc.pattern {
			t.Errorf("POST %s is served by %q, want %q", tc.path, pattern, tc.pattern)
		}
	}
	errs := Check([]Mount{{Owner: "qq.webhook_path", Path: "/shared/qq"}, {Owner: "telegram.webhook_url", Path: "/shared"}})
	if len(errs) != 2 || !strings.Contains(errs[0].Error(), "keeps for its own routes") || !strings.Contains(errs[1].Error(), "keeps for its own routes") {
		t.Errorf("mounts inside the acg-faka tree: %v", errs)
	}
}
