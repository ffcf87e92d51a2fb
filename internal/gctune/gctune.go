// Package gctune sets the garbage collector for cardflow's long-running
// commands: collect at GOGC 200, under a soft memory limit taken from the
// process's cgroup.
package gctune

import (
	"bufio"
	"bytes"
	"io/fs"
	"os"
	"path"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/rs/zerolog"
)

// Garbage collector settings for the long-running commands. cardflow's live
// heap is small (tens of MB) while every order allocates a few tens of KB
// of short-lived garbage (HTTP, JSON, bbolt nodes), so Go's default of
// collecting whenever the heap doubles spends a large share of the CPU on
// collection under load. 200 takes most of what larger values save, at a
// smaller heap (docs/performance.md has the measurement).
//
// The soft memory limit makes the collector work harder instead of letting
// the heap grow past it. It must sit well above the working set (the
// process's own memory with a million orders a day, more during a large stock
// import; docs/performance.md), or the collector runs back to back exactly
// when the shop is busiest. Under a cgroup memory limit (a container, a
// systemd unit's MemoryMax) it is 80% of that limit, leaving the rest for
// what the Go heap does not count (stacks, the runtime, mapped database
// pages); without one it is defaultMemoryLimit. GOGC and GOMEMLIMIT in the
// environment still win.
const (
	gcPercent          = 200
	defaultMemoryLimit = 512 << 20
	cgroupSharePercent = 80
)

// Apply sets GOGC and the soft memory limit, each unless the environment
// sets it.
func Apply() {
	ApplyPercent()
	if os.Getenv("GOMEMLIMIT") == "" {
		limit, _ := memoryLimit(os.DirFS("/"))
		debug.SetMemoryLimit(limit)
	}
}

// ApplyPercent is Apply without the memory limit, for `cardflow bench`:
// its storefront keeps every callback it receives to check them, a live
// heap that grows with the run, and under the limit its collector would
// run back to back and take the CPU the service is being measured on.
func ApplyPercent() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
}

// LogMemoryLimit says at start which soft memory limit is in force and why.
func LogMemoryLimit(log zerolog.Logger) {
	source := "GOMEMLIMIT"
	if os.Getenv("GOMEMLIMIT") == "" {
		_, source = memoryLimit(os.DirFS("/"))
	}
	log.Info().Int64("memory_limit_bytes", debug.SetMemoryLimit(-1)).Str("memory_limit_from", source).Msg("memory limit")
}

// memoryLimit chooses the soft memory limit from the cgroup memory limit
// that applies to this process, read from root (the file system's root
// in production, a fake in tests): cgroupSharePercent of it, or
// defaultMemoryLimit when there is none. source names what decided.
func memoryLimit(root fs.FS) (limit int64, source string) {
	if cg, file := cgroupMemoryLimit(root); cg > 0 {
		return cg / 100 * cgroupSharePercent, file
	}
	return defaultMemoryLimit, "default (no cgroup memory limit)"
}

// unlimited is where cgroup v1 reports "no limit" (the largest page count
// times the page size, about 2^63).
const unlimited = 1 << 60

// cgroupMemoryLimit is the lowest memory limit of the process's cgroup and
// its ancestors (a limit applies to everything below it), and the file it
// was read from; 0 if none. /proc/self/cgroup names the cgroup: "0::/path"
// for cgroup v2 (limit in memory.max, "max" for none), "N:...memory...:/path"
// for v1 (memory.limit_in_bytes under the memory controller's mount). In a
// container the path may be the host's while /sys/fs/cgroup is the
// container's own cgroup: walking up to the mount's root finds its limit.
func cgroupMemoryLimit(root fs.FS) (int64, string) {
	data, err := fs.ReadFile(root, "proc/self/cgroup")
	if err != nil {
		return 0, ""
	}
	var best int64
	var from string
	consider := func(dir, file string) {
		for p := dir; ; p = path.Dir(p) {
			name := path.Join(p, file)
			if v := readLimit(root, name); v > 0 && (best == 0 || v < best) {
				best, from = v, "/"+name
			}
			if p == "sys/fs/cgroup" || p == "sys/fs/cgroup/memory" || p == "." || p == "/" {
				return
			}
		}
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		cgPath := strings.TrimPrefix(path.Clean("/"+parts[2]), "/")
		switch {
		case parts[0] == "0" && parts[1] == "":
			consider(path.Join("sys/fs/cgroup", cgPath), "memory.max")
		case hasController(parts[1], "memory"):
			consider(path.Join("sys/fs/cgroup/memory", cgPath), "memory.limit_in_bytes")
		}
	}
	return best, from
}

func hasController(list, name string) bool {
	for c := range strings.SplitSeq(list, ",") {
		if c == name {
			return true
		}
	}
	return false
}

// readLimit reads a limit file: bytes, or 0 for "max", unlimited or none.
func readLimit(root fs.FS, name string) int64 {
	b, err := fs.ReadFile(root, name)
	if err != nil {
		return 0
	}
	v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || v <= 0 || v >= unlimited {
		return 0
	}
	return v
}
