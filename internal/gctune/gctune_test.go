package gctune

import (
	"strings"
	"testing"
	"testing/fstest"
)

// TestMemoryLimitFollowsTheCgroupLimit: the soft limit is 80% of the
// memory limit of the process's cgroup or of an ancestor, the lowest of
// them, as cgroup v2 and v1 write them; without any it is 512 MiB (the
// old fixed 150 MiB sat just above the service's own working set).
func TestMemoryLimitFollowsTheCgroupLimit(t *testing.T) {
	const gib = 1 << 30
	cases := []struct {
		name   string
		files  map[string]string
		want   int64
		source string
	}{
		{"no cgroup files (not Linux, or /proc not mounted)", nil, 512 << 20, "default"},
		{"v2 container, 1 GiB", map[string]string{
			"proc/self/cgroup":         "0::/\n",
			"sys/fs/cgroup/memory.max": "1073741824\n",
		}, gib / 100 * 80, "/sys/fs/cgroup/memory.max"},
		{"v2 without a limit", map[string]string{
			"proc/self/cgroup":         "0::/\n",
			"sys/fs/cgroup/memory.max": "max\n",
		}, 512 << 20, "default"},
		{"v2 systemd unit under a limited slice", map[string]string{
			"proc/self/cgroup": "0::/system.slice/cardflow.service\n",
			"sys/fs/cgroup/system.slice/cardflow.service/memory.max": "max\n",
			"sys/fs/cgroup/system.slice/memory.max":                  "536870912\n",
			"sys/fs/cgroup/memory.max":                               "max\n",
		}, (512 << 20) / 100 * 80, "/sys/fs/cgroup/system.slice/memory.max"},
		{"v2 unit limit below its slice's", map[string]string{
			"proc/self/cgroup": "0::/system.slice/cardflow.service\n",
			"sys/fs/cgroup/system.slice/cardflow.service/memory.max": "268435456\n",
			"sys/fs/cgroup/system.slice/memory.max":                  "536870912\n",
		}, (256 << 20) / 100 * 80, "/sys/fs/cgroup/system.slice/cardflow.service/memory.max"},
		{"v2 host path not mounted in the container", map[string]string{
			"proc/self/cgroup":         "0::/kubepods/pod1/abc\n",
			"sys/fs/cgroup/memory.max": "2147483648\n",
		}, 2 * gib / 100 * 80, "/sys/fs/cgroup/memory.max"},
		{"v1 container, 256 MiB", map[string]string{
			"proc/self/cgroup":                           "12:cpu,cpuacct:/docker/abc\n11:memory:/docker/abc\n",
			"sys/fs/cgroup/memory/memory.limit_in_bytes": "268435456\n",
		}, (256 << 20) / 100 * 80, "/sys/fs/cgroup/memory/memory.limit_in_bytes"},
		{"v1 unlimited", map[string]string{
			"proc/self/cgroup":                           "11:memory:/\n",
			"sys/fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712\n",
		}, 512 << 20, "default"},
		{"garbage in the limit file", map[string]string{
			"proc/self/cgroup":         "0::/\n",
			"sys/fs/cgroup/memory.max": "lots\n",
		}, 512 << 20, "default"},
		{"a path that tries to climb out", map[string]string{
			"proc/self/cgroup":         "0::/../../etc\n",
			"sys/fs/cgroup/memory.max": "1073741824\n",
		}, gib / 100 * 80, "/sys/fs/cgroup/memory.max"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := fstest.MapFS{}
			for name, data := range tc.files {
				root[name] = &fstest.MapFile{Data: []byte(data)}
			}
			limit, source := memoryLimit(root)
			if limit != tc.want || !strings.HasPrefix(source, tc.source) {
				t.Errorf("memoryLimit = %d from %q, want %d from %q", limit, source, tc.want, tc.source)
			}
		})
	}
}
