//go:build linux

package main

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"cardflow/internal/storefront"
)

// TestServeExitsNonZeroAfterAStorageError runs the real binary and, once it
// serves, lowers its file size limit (RLIMIT_FSIZE, as a quota or a full
// disk would) below the database file's size: the next commit fails with
// EFBIG, a real I/O error, and no hook in the binary is needed. cardflow
// must stop taking orders, exit non-zero saying why, and a start with the
// limit lifted must take the order that failed.
func TestServeExitsNonZeroAfterAStorageError(t *testing.T) {
	if testing.Short() {
		t.Skip("drives the real binary")
	}
	s := newService(t, "")
	p := s.start(t)
	ctx := context.Background()
	if res, err := s.adminClient().ImportStock(ctx, "qb-10", strings.NewReader("FAIL-1,pw1\nFAIL-2,pw2\n")); err != nil || res.Added != 2 {
		t.Fatalf("import: %+v %v", res, err)
	}
	order := func(ext string) storefront.NewOrder {
		return storefront.NewOrder{ExternalID: ext, SKU: "qb-10", Quantity: 1, Amount: "10.00", Buyer: storefront.Buyer{ID: "b1"}}
	}
	client := s.client()
	if _, status, err := client.Create(ctx, order("BEFORE")); err != nil || status != http.StatusCreated {
		t.Fatalf("order before the limit: %d %v", status, err)
	}

	// Only the two meta pages stay writable.
	limit := unix.Rlimit{Cur: 8192, Max: 8192}
	if err := unix.Prlimit(p.cmd.Process.Pid, unix.RLIMIT_FSIZE, &limit, nil); err != nil {
		t.Fatalf("prlimit: %v", err)
	}
	_, status, err := client.Create(ctx, order("DURING"))
	var apiErr *storefront.APIError
	switch {
	case err == nil:
		t.Errorf("an order was accepted (%d) although the store cannot write", status)
	case errors.As(err, &apiErr) && apiErr.Status != http.StatusServiceUnavailable:
		t.Errorf("the order failing to commit got %d, want 503: %v", apiErr.Status, err)
	}
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		t.Fatalf("cardflow still runs 20 s after a storage error:\n%s", p.logs())
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	if logs := p.logs(); !strings.Contains(logs, "a storage error stopped all writes") || !strings.Contains(logs, "file too large") {
		t.Errorf("the logs do not say a storage error stopped it:\n%s", logs)
	}

	p = s.start(t) // no limit: recovery runs, the storefront sends the order again
	got, status, err := submit(ctx, client, order("DURING"))
	if err != nil || status != http.StatusCreated && status != http.StatusOK || got.Status != "delivered" {
		t.Fatalf("the order sent again after the restart: %d %+v %v", status, got, err)
	}
	p.interrupt(t)
}
