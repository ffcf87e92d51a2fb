package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTick is Linux's USER_HZ, the unit of /proc/<pid>/stat CPU times. It
// is 100 on every architecture Go supports on Linux.
const clockTick = 10 * time.Millisecond

// processCPU is the user and system CPU time another process has used
// (Linux; 0 elsewhere).
func processCPU(pid int) time.Duration {
	f := statFields(pid)
	if len(f) < 13 {
		return 0
	}
	return ticks(f[11], f[12])
}

// treeCPU is the CPU time a server and its child processes have used
// (Linux; 0 elsewhere): its own, its children's that ended (which the
// kernel adds to it when it reaps them), and those running now. It only
// grows, so two readings bracket what was spent between them. PostgreSQL
// runs one child per connection beside its writers.
func treeCPU(pid int) time.Duration {
	f := statFields(pid)
	if len(f) < 15 {
		return 0
	}
	total := ticks(f[11], f[12], f[13], f[14])
	procs, _ := filepath.Glob("/proc/[0-9]*")
	parent := strconv.Itoa(pid)
	for _, p := range procs {
		child, err := strconv.Atoi(filepath.Base(p))
		if err != nil || child == pid {
			continue
		}
		if c := statFields(child); len(c) >= 15 && c[1] == parent {
			total += ticks(c[11], c[12], c[13], c[14])
		}
	}
	return total
}

// statFields are the fields of /proc/<pid>/stat after the command name,
// which, in parentheses, may hold spaces: the state is field 0, the
// parent 1, utime and stime 11 and 12, the reaped children's 13 and 14.
func statFields(pid int) []string {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil
	}
	rest := string(data)
	if i := strings.LastIndexByte(rest, ')'); i >= 0 {
		rest = rest[i+1:]
	}
	return strings.Fields(rest)
}

func ticks(fields ...string) time.Duration {
	var n int64
	for _, f := range fields {
		v, _ := strconv.ParseInt(f, 10, 64)
		n += v
	}
	return time.Duration(n) * clockTick
}
