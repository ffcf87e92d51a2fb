//go:build linux

package api_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"

	"cardflow/storage"
)

// breakDisk points the process's descriptor of the database file at
// /dev/full, where every write fails with ENOSPC: a real I/O error under
// bbolt. The returned function puts the file back.
func breakDisk(t *testing.T, path string) (heal func()) {
	t.Helper()
	path, _ = filepath.EvalSymlinks(path)
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	fd := -1
	for _, e := range fds {
		if target, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && target == path {
			fd, _ = strconv.Atoi(e.Name())
		}
	}
	if fd < 0 {
		t.Fatalf("no descriptor of %s", path)
	}
	saved, err := unix.Dup(fd)
	if err != nil {
		t.Fatal(err)
	}
	full, err := unix.Open("/dev/full", unix.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Dup2(full, fd); err != nil {
		t.Fatal(err)
	}
	_ = unix.Close(full)
	healed := false
	heal = func() {
		if !healed {
			healed = true
			_ = unix.Dup2(saved, fd)
			_ = unix.Close(saved)
		}
	}
	t.Cleanup(heal)
	return heal
}

// TestAfterADiskErrorOrdersAre503UntilRestart: once a commit fails for the
// disk's sake, the storefront API answers every new order 503 unavailable
// (the storefront retries later), also after the disk recovers: nothing
// is written again until a restart has run recovery.
func TestAfterADiskErrorOrdersAre503UntilRestart(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.importStock(t, skuQB, "DISK-1,pw1\nDISK-2,pw2\nDISK-3,pw3\n")
	wantStatus(t, f.post(t, "shop1", simpleOrder(t, "DISK-ORDER-1", skuQB, 1, "100.00")), http.StatusCreated)

	heal := breakDisk(t, filepath.Join(f.dir, storage.FileName))
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
