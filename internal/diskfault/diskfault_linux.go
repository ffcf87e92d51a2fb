// Package diskfault breaks a file under a running test the way a failing
// disk would, for tests of what cardflow does after a storage error. Tests
// only: nothing in the service imports it.
package diskfault

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

// Break points this process's descriptor of the file at path to /dev/full,
// where every write fails with ENOSPC: a real I/O error under bbolt, with
// no hook in the store. The returned function puts the file back, as a disk
// that recovers would; it also runs at the test's cleanup.
func Break(t testing.TB, path string) (heal func()) {
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
		if healed {
			return
		}
		healed = true
		if err := unix.Dup2(saved, fd); err != nil {
			t.Error(err)
		}
		_ = unix.Close(saved)
	}
	t.Cleanup(heal)
	return heal
}
