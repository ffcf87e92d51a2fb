package api_test

import (
	"net/http"
	"regexp"
	"testing"
	"time"

	"cardflow/storage"
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
	if res.Operator != "alice" || !regexp.MustCompile(`^[2-9A-HJKMNP-Z]{5}-[2-9A-HJKMNP-Z]{5}-[2-9A-HJKMNP-Z]{5}$`).MatchString(res.Code) ||
		!res.ExpiresAt.Equal(f.clock.Now().Add(15*time.Minute)) {
		t.Fatalf("bind code answer %+v", res)
	}
	r = f.adminDo(t, http.MethodPost, "/v1/operators/mallory/bind", nil)
	wantStatus(t, r, http.StatusNotFound)
	r = send(t, f.admin, adminCall(http.MethodPost, "/v1/operators/alice/bind", nil, ""))
	wantStatus(t, r, http.StatusUnauthorized)
}

// TestDeleteBindRemovesTheOperatorsIdentities: DELETE
// /v1/operators/alice/bind makes the chat identities bound as alice
// strangers again and voids her unused codes; it answers how many
// identities went, and needs the admin token.
func TestDeleteBindRemovesTheOperatorsIdentities(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	actor := storage.Actor{Name: "test", Platform: "test"}
	code, _, err := f.bindings().Issue(actor, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.bindings().Bind(actor, "qq:G/M", code); err != nil {
		t.Fatal(err)
	}
	unused, _, err := f.bindings().Issue(actor, "alice")
	if err != nil {
		t.Fatal(err)
	}
	r := send(t, f.admin, adminCall(http.MethodDelete, "/v1/operators/alice/bind", nil, ""))
	wantStatus(t, r, http.StatusUnauthorized)
	if _, ok := f.bindings().BoundOperator("qq:G/M"); !ok {
		t.Fatal("an unauthorized call unbound alice")
	}
	r = f.adminDo(t, http.MethodDelete, "/v1/operators/alice/bind", nil)
	wantStatus(t, r, http.StatusOK)
	var res struct {
		Operator   string `json:"operator"`
		Identities int    `json:"identities"`
	}
	decodeStrict(t, r.body, &res)
	if res.Operator != "alice" || res.Identities != 1 {
		t.Fatalf("answer %+v", res)
	}
	if _, ok := f.bindings().BoundOperator("qq:G/M"); ok {
		t.Fatal("alice's identity is still bound")
	}
	if _, err := f.bindings().Bind(actor, "qq:G/N", unused); err == nil {
		t.Fatal("a code issued before the unbind still binds")
	}
}
