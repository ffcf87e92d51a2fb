// Command cardflow-bench measures cardflow under load: it runs `cardflow
// serve` as a child process on a fresh data directory (or loads a cardflow
// already running, with -target), plays the storefront over loopback and
// reports throughput, latency, memory, CPU and the physical limits beside
// them. `cardflow bench ARGS` runs it on that cardflow binary. It is a
// command of its own so that the service binary carries no load generator
// and no fake supplier.
package main

import (
	"os"

	"cardflow/internal/gctune"
)

func main() {
	gctune.ApplyPercent() // the load generator's allocations would otherwise weigh on the figures
	os.Exit(cmdBench(os.Args[1:]))
}
