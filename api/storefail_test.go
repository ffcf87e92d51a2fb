//go:build linux

package api_test

import (
	"net/http"
	"path/filepath"
	"testing"

	"cardflow/internal/diskfault"
	"cardflow/storage"
)

// TestAfterADiskErrorOrdersAre503UntilRestart: once a commit fails for the
// disk's sake, the storefront API answers every new order 503 unavailable
// (the storefront retries later), also after the disk recovers: nothing
// is written again until a restart has run recovery.
func TestAfterADiskErrorOrdersAre503UntilRestart(t *testing.T) {
	f := newFixture(t, fixtureOptions{boltFile: true})
	f.importStock(t, skuQB, "DISK-1,pw1\nDISK-2,pw2\nDISK-3,pw3\n")
	wantStatus(t, f.post(t, "shop1", simpleOrder(t, "DISK-ORDER-1", skuQB, 1, "100.00")), http.StatusCreated)

	heal := diskfault.Break(t, filepath.Join(f.dir, storage.FileName))
	wantError(t, f.post(t, "shop1", simpleOrder(t, "DISK-ORDER-2", skuQB, 1, "100.00")), http.StatusServiceUnavailable, "unavailable", "")
	heal()
	wantError(t, f.post(t, "shop1", simpleOrder(t, "DISK-ORDER-3", skuQB, 1, "100.00")), http.StatusServiceUnavailable, "unavailable", "")
	r := f.adminDo(t, http.MethodPost, "/v1/stock/"+skuQB, []byte("DISK-4,pw4\n"))
	wantError(t, r, http.StatusServiceUnavailable, "unavailable", "")
	select {
	case <-f.store.Failed():
	default:
		t.Error("the store does not say it failed")
	}
}
