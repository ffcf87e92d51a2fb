package api_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"cardflow/api"
	"cardflow/internal/routes"
	"cardflow/suppliers/fulu"
	"cardflow/suppliers/fulu/fulufake"
)

// hintRecorder is the engine with Hint recorded.
type hintRecorder struct {
	api.Orders
	mu    sync.Mutex
	hints []string
}

func (h *hintRecorder) Hint(attemptNo string) {
	h.mu.Lock()
	h.hints = append(h.hints, attemptNo)
	h.mu.Unlock()
}

// TestSupplierCallbackIsVerifiedAnsweredAndPassedOnAsAHint: Fulu's notify
// endpoint on the storefront listener checks the callback's signature,
// answers the literal "success", and hands the purchase number to the
// engine (which confirms by query); anything else is answered "fail".
func TestSupplierCallbackIsVerifiedAnsweredAndPassedOnAsAHint(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	client, err := fulu.New(fulu.Options{BaseURL: "http://127.0.0.1:1", AppKey: fulufake.SandboxAppKey, AppSecret: fulufake.SandboxAppSecret})
	if err != nil {
		t.Fatal(err)
	}
	rec := &hintRecorder{Orders: f.engine}
	server := api.New(api.Options{Orders: rec})
	if err := server.MountNotify(api.SupplierNotify{Supplier: "fulu", Path: "/notify/fulu", Parse: client.ParseNotify,
		Owner: "suppliers[1].notify_path"}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(server.Storefront())
	defer srv.Close()

	fields := map[string]any{"order_id": "24010203040500000001", "charge_finish_time": "2024-01-02 03:05:00",
		"customer_order_no": "CF7-0-abcd", "order_status": "success", "recharge_description": "充值成功",
		"product_id": "10000587", "price": "1.0000", "buy_num": "1", "operator_serial_number": ""}
	sign, err := fulu.SignMap(fields, fulufake.SandboxAppSecret)
	if err != nil {
		t.Fatal(err)
	}
	signed := func(sig string) string {
		var b strings.Builder
		b.WriteString("{")
		for k, v := range fields {
			b.WriteString(`"` + k + `":"` + v.(string) + `",`)
		}
		b.WriteString(`"sign":"` + sig + `"}`)
		return b.String()
	}
	for _, tc := range []struct {
		name, body, want string
		status           int
	}{
		{"signed callback", signed(sign), "success", http.StatusOK},
		{"wrong signature", signed(strings.Repeat("0", 32)), "fail", http.StatusBadRequest},
		{"garbled body", "{not json", "fail", http.StatusBadRequest},
		{"empty body", "", "fail", http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := http.Post(srv.URL+"/notify/fulu", "application/json", strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status || strings.TrimSpace(string(body)) != tc.want {
				t.Fatalf("answer %d %q, want %d %q", resp.StatusCode, body, tc.status, tc.want)
			}
		})
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.hints) != 1 || rec.hints[0] != "CF7-0-abcd" {
		t.Fatalf("hints = %v, want exactly the verified callback's number", rec.hints)
	}
}

// TestMountRefusesAPathItCannotServe: a webhook or notify path on an API
// route, on another mount's path, or that ServeMux would read as a pattern
// is an error naming the config key (tried before: Mount stored it and
// Storefront panicked in ServeMux at start-up).
func TestMountRefusesAPathItCannotServe(t *testing.T) {
	s := api.New(api.Options{})
	h := http.NotFoundHandler()
	if err := s.Mount(routes.Mount{Owner: "qq.webhook_path", Path: "/qq/webhook"}, h); err != nil {
		t.Fatal(err)
	}
	for _, m := range []routes.Mount{
		{Owner: "telegram.webhook_url", Path: "/v1/orders"},
		{Owner: "telegram.webhook_url", Path: "/qq/webhook"},
		{Owner: "suppliers[1].notify_path", Path: "/notify/{x}"},
		{Owner: "suppliers[1].notify_path", Path: ""},
	} {
		err := s.Mount(m, h)
		if err == nil || !strings.HasPrefix(err.Error(), m.Owner+": ") {
			t.Errorf("Mount(%s %q) = %v, want an error naming %s", m.Owner, m.Path, err, m.Owner)
		}
	}
	srv := httptest.NewServer(s.Storefront())
	defer srv.Close()
	wantStatus(t, send(t, srv, call{method: http.MethodGet, path: "/healthz"}), http.StatusOK)
}
