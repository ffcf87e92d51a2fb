package api_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestProfilesNeedTheAdminToken: Go's profiles are on the admin listener
// only, behind its bearer token.
func TestProfilesNeedTheAdminToken(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	r := f.adminDo(t, http.MethodGet, "/debug/pprof/", nil)
	if r.status != http.StatusOK || !strings.Contains(string(r.body), "goroutine") {
		t.Fatalf("profile index with token: %s", r)
	}
	r = send(t, f.admin, adminCall(http.MethodGet, "/debug/pprof/", nil, ""))
	wantStatus(t, r, http.StatusUnauthorized)
	if r := send(t, f.api, call{method: http.MethodGet, path: "/debug/pprof/"}); r.status != http.StatusNotFound {
		t.Fatalf("profiles on the storefront API: %s", r)
	}
}
