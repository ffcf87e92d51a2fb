package api_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestMetricsAreNotOnThePublicListener: GET /metrics on the storefront
// listener (tried before: 200 to anyone, naming the webhook paths in its
// route labels) is a 404; the admin listener serves it only with the token.
func TestMetricsAreNotOnThePublicListener(t *testing.T) {
	f := newFixture(t, fixtureOptions{metrics: true})
	wantError(t, send(t, f.api, call{method: http.MethodGet, path: "/metrics"}), http.StatusNotFound, "not_found", "")
	wantStatus(t, send(t, f.admin, adminCall(http.MethodGet, "/metrics", nil, "")), http.StatusUnauthorized)
	wantStatus(t, f.adminDo(t, http.MethodGet, "/metrics", nil), http.StatusOK)
}

// TestTheMetricsListenerServesOnlyMetrics: the handler of the opt-in
// [metrics] listen answers GET /metrics without credentials, and nothing
// else: no order, admin or health route.
func TestTheMetricsListenerServesOnlyMetrics(t *testing.T) {
	f := newFixture(t, fixtureOptions{metrics: true})
	srv := httptest.NewServer(f.server.Metrics())
	defer srv.Close()
	r := send(t, srv, call{method: http.MethodGet, path: "/metrics"})
	wantStatus(t, r, http.StatusOK)
	if !strings.Contains(string(r.body), "cardflow_orders_open") {
		t.Error("the metrics listener lacks the order series")
	}
	for _, path := range []string{"/v1/orders", "/v1/stock", "/healthz", "/debug/pprof/"} {
		wantError(t, send(t, srv, call{method: http.MethodGet, path: path}), http.StatusNotFound, "not_found", "")
	}
}

// TestMetricsScrape: /metrics (admin listener, with the token) carries the
// order, stock and HTTP series, names routes by pattern (an order id never
// becomes a label), and never shows a card key or a secret.
func TestMetricsScrape(t *testing.T) {
	f := newFixture(t, fixtureOptions{metrics: true})
	const secretCard = "MTRC-CARD-9F3A2B71"
	f.importStock(t, skuQB, secretCard+",PIN-55443322\nMTRC-CARD-7E6D5C44\n")
	r := f.post(t, "shop1", simpleOrder(t, "MX-1", skuQB, 1, "100.00"))
	wantStatus(t, r, http.StatusCreated)
	id := r.order(t).ID
	f.getOrder(t, "shop1", id)

	scrape := f.adminDo(t, http.MethodGet, "/metrics", nil)
	wantStatus(t, scrape, http.StatusOK)
	body := string(scrape.body)
	for _, want := range []string{
		`cardflow_order_transitions_total{status="delivered"} 1`,
		`cardflow_orders_open{status="pending"} 0`,
		`cardflow_stock_level{sku="` + skuQB + `"} 1`,
		`cardflow_outbox_backlog `,
		`cardflow_delivery_seconds_count 1`,
		`cardflow_http_request_seconds_count{code="201",listener="api",route="POST /v1/orders"} 1`,
		`cardflow_http_request_seconds_count{code="200",listener="api",route="GET /v1/orders/{id}"} 1`,
		`cardflow_http_request_seconds_count{code="200",listener="admin",route="POST /v1/stock/{sku}"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
	for _, secret := range []string{secretCard, "PIN-55443322", string(shop1Secret), adminToken, "/v1/orders/" + id} {
		if strings.Contains(body, secret) {
			t.Errorf("scrape shows %q", secret)
		}
	}

	// A path nobody serves is one "unmatched" series, not a series per path.
	send(t, f.api, call{method: http.MethodGet, path: "/wp-login.php"})
	send(t, f.api, call{method: http.MethodGet, path: "/.env"})
	body = string(f.adminDo(t, http.MethodGet, "/metrics", nil).body)
	if !strings.Contains(body, `cardflow_http_request_seconds_count{code="404",listener="api",route="unmatched"} 2`) ||
		strings.Contains(body, "wp-login") {
		t.Errorf("unknown paths are not pooled:\n%s", grepLines(body, "cardflow_http_request_seconds_count"))
	}
}

// TestNoMetricsWithoutRegistry: a server built without a registry has no
// /metrics route (embedding programs choose).
func TestNoMetricsWithoutRegistry(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	wantError(t, send(t, f.admin, adminCall(http.MethodGet, "/metrics", nil, "Bearer "+adminToken)), http.StatusNotFound, "not_found", "")
}

func grepLines(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
