package api_test

import (
	"encoding/json"
	"net/http"
	"testing"
)

type storefrontList struct {
	Storefronts []struct {
		ID          string `json:"id"`
		Protocol    string `json:"protocol"`
		Balance     string `json:"balance"`
		CreditLimit string `json:"credit_limit"`
	} `json:"storefronts"`
}

// TestAdminTopsUpADockingShopAndListsEveryStorefront: a top-up and a debit
// move the balance, GET /v1/storefronts shows it beside the cardflow
// storefronts (which have none), and the adjustment is in the audit log.
func TestAdminTopsUpADockingShopAndListsEveryStorefront(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	r := f.adminDo(t, http.MethodPost, "/v1/storefronts/cardflow-dj1/balance", []byte(`{"amount":"1000.00","reason":"bank transfer 1205"}`))
	wantStatus(t, r, http.StatusOK)
	if string(r.body) != `{"id":"cardflow-dj1","balance":"1000.00"}`+"\n" {
		t.Fatalf("top-up answer: %s", r.body)
	}
	r = f.adminDo(t, http.MethodPost, "/v1/storefronts/cardflow-dj1/balance", []byte(`{"amount":"-50.25","reason":"correction"}`))
	wantStatus(t, r, http.StatusOK)
	r = f.adminDo(t, http.MethodGet, "/v1/storefronts", nil)
	wantStatus(t, r, http.StatusOK)
	var list storefrontList
	if err := json.Unmarshal(r.body, &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Storefronts) != 3 {
		t.Fatalf("storefronts: %s", r.body)
	}
	dj := list.Storefronts[0]
	if dj.ID != "cardflow-dj1" || dj.Protocol != "dujiao-next" || dj.Balance != "949.75" || dj.CreditLimit != "10.00" {
		t.Errorf("docking shop listed as %+v", dj)
	}
	if s := list.Storefronts[1]; s.ID != "shop1" || s.Protocol != "cardflow" || s.Balance != "0.00" {
		t.Errorf("cardflow storefront listed as %+v", s)
	}
	entries, err := f.engine.AuditLog(5)
	if err != nil || len(entries) < 2 || entries[0].Action != "balance.adjust" || entries[0].Actor.Name == "" {
		t.Fatalf("audit: %+v %v", entries, err)
	}
}

// TestABalanceAdjustmentRefusesBadInput: each input below is answered with
// its status and changes nothing.
func TestABalanceAdjustmentRefusesBadInput(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	long := make([]byte, 201)
	for i := range long {
		long[i] = 'x'
	}
	cases := []struct {
		name, path, body string
		status           int
	}{
		{"unknown storefront", "/v1/storefronts/nobody/balance", `{"amount":"10"}`, http.StatusNotFound},
		{"a cardflow storefront has no balance", "/v1/storefronts/shop1/balance", `{"amount":"10"}`, http.StatusBadRequest},
		{"amount as a number", "/v1/storefronts/cardflow-dj1/balance", `{"amount":10}`, http.StatusBadRequest},
		{"three decimals", "/v1/storefronts/cardflow-dj1/balance", `{"amount":"1.005"}`, http.StatusBadRequest},
		{"zero", "/v1/storefronts/cardflow-dj1/balance", `{"amount":"0.00"}`, http.StatusBadRequest},
		{"no amount", "/v1/storefronts/cardflow-dj1/balance", `{"reason":"x"}`, http.StatusBadRequest},
		{"over the maximum", "/v1/storefronts/cardflow-dj1/balance", `{"amount":"1000000000"}`, http.StatusBadRequest},
		{"unknown field", "/v1/storefronts/cardflow-dj1/balance", `{"amount":"1","amout":"2"}`, http.StatusBadRequest},
		{"not JSON", "/v1/storefronts/cardflow-dj1/balance", `amount=1`, http.StatusBadRequest},
		{"reason too long", "/v1/storefronts/cardflow-dj1/balance", `{"amount":"1","reason":"` + string(long) + `"}`, http.StatusBadRequest},
	}
	for _, tc := range cases {
		r := f.adminDo(t, http.MethodPost, tc.path, []byte(tc.body))
		if r.status != tc.status {
			t.Errorf("%s: %s, want %d", tc.name, r, tc.status)
		}
	}
	r := f.adminDo(t, http.MethodGet, "/v1/storefronts", nil)
	var list storefrontList
	_ = json.Unmarshal(r.body, &list)
	if len(list.Storefronts) == 0 || list.Storefronts[0].Balance != "0.00" {
		t.Fatalf("a refused adjustment changed the balance: %s", r.body)
	}
	if r := send(t, f.admin, adminCall(http.MethodGet, "/v1/storefronts", nil, "")); r.status != http.StatusUnauthorized {
		t.Errorf("the list without a token: %s", r)
	}
}
