package api

import "testing"

// BenchmarkDecodeOrder is the storefront's POST /v1/orders body as
// cardflow bench sends it.
func BenchmarkDecodeOrder(b *testing.B) {
	body := []byte(`{"external_id":"bench-1764094578-00012345","sku":"BENCH-10","quantity":1,"amount":"10.00","buyer":{"id":"load-12345","contact":"buyer12345@example.com","ip":"10.0.48.57"}}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeOrder("bench", body); err != nil {
			b.Fatal(err)
		}
	}
}
