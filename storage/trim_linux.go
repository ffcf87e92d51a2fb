package storage

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/sys/unix"
)

// Trim lets go of the database pages the process has read through bbolt's
// memory map (madvise MADV_DONTNEED on the shared, read-only mapping). The
// pages stay in the kernel's page cache, so the next read finds them there
// at the cost of a minor fault; the process's resident set then counts its
// own memory and what it read since the last trim, not every page it ever
// touched. Without it, reading a day of buyer history at start-up or the
// orders behind a day of callbacks leaves most of a large file mapped in,
// and the kernel maps neighbouring pages on every fault as well.
//
// Only a mapping with more than over bytes resident is trimmed (Trim(0)
// always trims). A check that finds less costs a read of /proc/self/statm,
// which is cheap, where /proc/self/smaps, which gives the mapping's own
// share, walks every mapping's page tables and costs far more
// (docs/performance.md): statm counts the mapping together with the binary's
// code and other file-backed pages, whose share the last full look measured
// (trimOther). The estimate is off by how much those other pages changed
// since: they are mostly the binary's code, which grows as more of it runs,
// so the check errs toward trimming early; it can fall behind only when the
// kernel reclaims them under memory pressure, and then by at most their size.
//
// It runs inside a read transaction: bbolt remaps the file only under its
// mmap lock, which a read transaction holds shared, so the range trimmed is
// the one bbolt uses for the whole call. It returns the bytes the mapping
// had resident before (that estimate, when it is over or below).
func (s *Store) Trim(over int64) (int64, error) {
	if s.bolt == nil {
		return 0, nil // PostgreSQL: no file is mapped
	}
	if over > 0 {
		if f, err := residentFileBytes(); err == nil {
			if est := f - s.trimOther.Load(); est <= over {
				return est, nil
			}
		}
	}
	path, err := filepath.Abs(s.bolt.Path())
	if err != nil {
		return 0, err
	}
	if p, err := filepath.EvalSymlinks(path); err == nil {
		path = p
	}
	var resident int64
	err = s.bolt.View(func(*bolt.Tx) error {
		start, end, rss, err := mappingOf(path)
		if err != nil || start == end {
			return err
		}
		resident = rss
		if f, err := residentFileBytes(); err == nil {
			s.trimOther.Store(max(f-rss, 0))
		}
		if rss <= over {
			return nil
		}
		if _, _, errno := unix.Syscall(unix.SYS_MADVISE, start, end-start, unix.MADV_DONTNEED); errno != 0 {
			return fmt.Errorf("madvise: %w", errno)
		}
		return nil
	})
	return resident, err
}

// residentFileBytes is the process's resident file-backed (and shared)
// memory: the third field of /proc/self/statm, in pages.
func residentFileBytes() (int64, error) {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, err
	}
	fields := strings.Fields(string(b))
	if len(fields) < 3 {
		return 0, fmt.Errorf("/proc/self/statm: %q", b)
	}
	pages, err := strconv.ParseInt(fields[2], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("/proc/self/statm: %w", err)
	}
	return pages * int64(os.Getpagesize()), nil
}

// mappingOf finds the process's mapping of a file in /proc/self/smaps: its
// address range and how much of it is resident.
func mappingOf(path string) (start, end uintptr, rss int64, err error) {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return 0, 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	found := false
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		switch {
		case len(fields) >= 5 && strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":"):
			if found {
				return start, end, rss, nil // the next mapping begins
			}
			if len(fields) < 6 || strings.Join(fields[5:], " ") != path { // anonymous, or another file
				continue
			}
			lo, hi, _ := strings.Cut(fields[0], "-")
			a, err1 := strconv.ParseUint(lo, 16, 64)
			b, err2 := strconv.ParseUint(hi, 16, 64)
			if err1 != nil || err2 != nil {
				return 0, 0, 0, fmt.Errorf("parse mapping %q", fields[0])
			}
			start, end, found = uintptr(a), uintptr(b), true
		case found && len(fields) == 3 && fields[0] == "Rss:":
			kb, _ := strconv.ParseInt(fields[1], 10, 64)
			rss = kb << 10
		}
	}
	if err := sc.Err(); err != nil {
		return 0, 0, 0, err
	}
	return start, end, rss, nil
}
