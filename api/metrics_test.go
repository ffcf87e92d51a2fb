package api_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestMetricsScrape: /metrics answers on the storefront listener without
// credentials and on the admin listener only with the token; it carries the
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

	scrape := send(t, f.api, call{method: http.MethodGet, path: "/metrics"})
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
	body = string(send(t, f.api, call{method: http.MethodGet, path: "/metrics"}).body)
	if !strings.Contains(body, `cardflow_http_request_seconds_count{code="404",listener="api",route="unmatched"} 2`) ||
		strings.Contains(body, "wp-login") {
		t.Errorf("unknown paths are not pooled:\n%s", grepLines(body, "cardflow_http_request_seconds_count"))
	}

	wantStatus(t, send(t, f.admin, adminCall(http.MethodGet, "/metrics", nil, "")), http.StatusUnauthorized)
	admin := f.adminDo(t, http.MethodGet, "/metrics", nil)
	wantStatus(t, admin, http.StatusOK)
	if !strings.Contains(string(admin.body), "cardflow_orders_open") {
		t.Error("admin scrape lacks the order series")
	}
}

// TestNoMetricsWithoutRegistry: a server built without a registry has no
// /metrics route (embedding programs choose).
func TestNoMetricsWithoutRegistry(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	wantError(t, send(t, f.api, call{method: http.MethodGet, path: "/metrics"}), http.StatusNotFound, "not_found", "")
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
