package api_test

import (
	"net/http"
	"regexp"
	"testing"
	"time"
)

// TestBindCodeForAConfiguredOperator: POST /v1/operators/alice/bind
// answers a one-time code and when it expires (15 minutes on the
// fixture's clock); an operator not in the config is a 404; without the
// admin token it is a 401.
func TestBindCodeForAConfiguredOperator(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	r := f.adminDo(t, http.MethodPost, "/v1/operators/alice/bind", nil)
	wantStatus(t, r, http.StatusOK)
	var res struct {
		Operator  string    `json:"operator"`
		Code      string    `json:"code"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	decodeStrict(t, r.body, &res)
	if res.Operator != "alice" || !regexp.MustCompile(`^[2-9A-Z]{8}$`).MatchString(res.Code) ||
		!res.ExpiresAt.Equal(f.clock.Now().Add(15*time.Minute)) {
		t.Fatalf("bind code answer %+v", res)
	}
	r = f.adminDo(t, http.MethodPost, "/v1/operators/mallory/bind", nil)
	wantStatus(t, r, http.StatusNotFound)
	r = send(t, f.admin, adminCall(http.MethodPost, "/v1/operators/alice/bind", nil, ""))
	wantStatus(t, r, http.StatusUnauthorized)
}
