package api_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"cardflow/internal/testkit"
	"cardflow/storage"
)

// smallBuffers sets a socket's kernel buffers to their minimum, so that a
// peer that stops reading stalls the writer after a few kilobytes instead
// of the megabytes loopback buffers take.
func smallBuffers(c syscall.RawConn, opt int) error {
	var serr error
	err := c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, opt, 4096) })
	if err != nil {
		return err
	}
	return serr
}

type smallSendListener struct{ net.Listener }

func (l smallSendListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if raw, err := c.(*net.TCPConn).SyscallConn(); err == nil {
		_ = smallBuffers(raw, syscall.SO_SNDBUF)
	}
	return c, nil
}

// slowBackup starts GET /v1/backup on a connection with a tiny receive
// buffer, reads the header and the first bytes, then stops reading until
// resume is closed; it returns the whole body on done.
func slowBackup(t *testing.T, srv *httptest.Server, resume <-chan struct{}) (started <-chan int64, done <-chan []byte) {
	t.Helper()
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error { return smallBuffers(c, syscall.SO_RCVBUF) }}
	conn, err := d.DialContext(context.Background(), "tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	fmt.Fprintf(conn, "GET /v1/backup HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n", adminToken)
	st, out := make(chan int64, 1), make(chan []byte, 1)
	go func() {
		defer close(out)
		br := bufio.NewReaderSize(conn, 1024)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Errorf("backup response: %v", err)
			close(st)
			return
		}
		defer resp.Body.Close()
		head := make([]byte, 1024)
		if _, err := io.ReadFull(resp.Body, head); err != nil {
			t.Errorf("backup body: %v", err)
			close(st)
			return
		}
		st <- resp.ContentLength
		<-resume
		rest, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Errorf("backup body: %v", err)
		}
		out <- append(head, rest...)
	}()
	return st, out
}

// TestOrdersAndImportsGoOnWhileASlowClientDownloadsABackup: a backup
// streamed to a client that stops reading once it has the first kilobyte
// must not hold up writes, not even the import that makes the file grow
// past its mapping nor the order after it. The backup the client then
// reads in full is a working database, and nothing is left of it in the
// data directory.
func TestOrdersAndImportsGoOnWhileASlowClientDownloadsABackup(t *testing.T) {
	f := newFixture(t, fixtureOptions{store: storage.Options{InitialMmapSize: 1 << 20}, boltFile: true})
	f.importStock(t, skuQB, cardLines("SLOW-BEFORE", 8000)) // about 1.5 MiB
	admin := httptest.NewUnstartedServer(f.server.Admin())
	admin.Listener = smallSendListener{admin.Listener}
	admin.Start()
	t.Cleanup(admin.Close)

	resume := make(chan struct{})
	started, done := slowBackup(t, admin, resume)
	size, ok := <-started
	if !ok {
		t.FailNow()
	}

	wrote := make(chan string, 1)
	go func() {
		start := time.Now()
		r, err := roundTrip(context.Background(), f.admin, adminCall(http.MethodPost, "/v1/stock/"+skuQB,
			[]byte(cardLines("SLOW-DURING", 30000)), "Bearer "+adminToken)) // about 6 MiB more: the file grows
		if err != nil || r.status != http.StatusOK {
			wrote <- fmt.Sprintf("import: %v %v", r, err)
			return
		}
		order := f.signed("shop1", http.MethodPost, "/v1/orders", simpleOrder(t, "DURING-BACKUP", skuQB, 1, "100.00"))
		if r, err = roundTrip(context.Background(), f.api, order); err != nil || r.status != http.StatusCreated {
			wrote <- fmt.Sprintf("order: %v %v", r, err)
			return
		}
		t.Logf("import and order took %v while the backup client stalled", time.Since(start).Round(time.Millisecond))
		wrote <- ""
	}()
	finished := false
	select {
	case problem := <-wrote:
		finished = true
		if problem != "" {
			t.Error(problem)
		}
	case <-time.After(15 * time.Second):
		t.Errorf("an import and an order waited over 15 s for a client downloading a backup slowly")
	}
	close(resume)
	if !finished {
		defer func() { <-wrote }()
	}
	body := <-done
	if int64(len(body)) != size {
		t.Fatalf("backup is %d bytes, Content-Length said %d", len(body), size)
	}
	path := filepath.Join(t.TempDir(), storage.FileName)
	if err := os.WriteFile(path, body, 0o600); err != nil {
		t.Fatal(err)
	}
	copyStore := testkit.OpenStore(t, storage.Open, filepath.Dir(path), storage.Options{})
	if err := copyStore.Check(); err != nil {
		t.Errorf("backup fails bbolt's check: %v", err)
	}
	_ = copyStore.View(func(tx *storage.Tx) error {
		if lv := tx.StockLevel(skuQB); lv != 8000 {
			t.Errorf("stock in backup = %d, want the 8000 cards imported before it", lv)
		}
		return nil
	})
	testkit.Eventually(t, "the data dir to hold only the database", func() bool {
		names, _ := filepath.Glob(filepath.Join(f.dir, "*"))
		return len(names) == 1 && strings.HasSuffix(names[0], storage.FileName)
	})
}

func cardLines(prefix string, n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "%s-%08d,pw-%08d,2027-12-31\n", prefix, i, i)
	}
	return b.String()
}

// TestABackupTheClientAbandonsLeavesNoCopyBehind: a client that hangs up
// half-way through the download leaves no copy of the database in the
// data directory.
func TestABackupTheClientAbandonsLeavesNoCopyBehind(t *testing.T) {
	f := newFixture(t, fixtureOptions{boltFile: true})
	f.importStock(t, skuQB, cardLines("ABANDON", 8000))
	admin := httptest.NewUnstartedServer(f.server.Admin())
	admin.Listener = smallSendListener{admin.Listener}
	admin.Start()
	t.Cleanup(admin.Close)

	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error { return smallBuffers(c, syscall.SO_RCVBUF) }}
	conn, err := d.DialContext(context.Background(), "tcp", admin.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "GET /v1/backup HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n", adminToken)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("backup: %v %v", resp, err)
	}
	if _, err := io.ReadFull(resp.Body, make([]byte, 1024)); err != nil {
		t.Fatal(err)
	}
	copies := func() []string {
		names, _ := filepath.Glob(filepath.Join(f.dir, "*"))
		var out []string
		for _, n := range names {
			if !strings.HasSuffix(n, storage.FileName) {
				out = append(out, filepath.Base(n))
			}
		}
		return out
	}
	if c := copies(); len(c) != 1 {
		t.Errorf("while the backup streams the data dir holds %v, want its one copy", c)
	} else if st, err := os.Stat(filepath.Join(f.dir, c[0])); err != nil {
		t.Error(err)
	} else if st.Mode().Perm() != 0o600 {
		t.Errorf("the copy %s has mode %v, want 0600", c[0], st.Mode().Perm())
	}
	_ = conn.Close()
	testkit.Eventually(t, "the copy to be removed after the client hung up", func() bool { return len(copies()) == 0 })
}
