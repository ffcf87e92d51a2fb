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
	tb := NewTable(Handlers{CreateOrder: nop, GetOrder: nop, FindOrder: nop, Healthz: nop, Readyz: nop})
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
