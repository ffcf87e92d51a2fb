package main

import (
	"os"
	"runtime/debug"
)

// Garbage collector settings for the long-running commands. cardflow's live
// heap is small (tens of MB) while every order allocates a few tens of KB
// of short-lived garbage (HTTP, JSON, bbolt nodes), so Go's default of
// collecting whenever the heap doubles spends a large share of the CPU on
// collection under load: `cardflow bench` measured about 20% less CPU per
// order at GOGC=400 than at 100, side by side. 200 takes most of that gain
// at a smaller heap. The soft memory limit makes the collector work harder
// instead of letting a large live heap (a day of a million orders' buyer
// history, a surge's callbacks) grow the process past it; it is well above
// the live heap so that the collector never runs back to back.
// GOGC and GOMEMLIMIT in the environment still win.
const (
	gcPercent   = 200
	memoryLimit = 150 << 20
)

func tuneGC() {
	tuneGCPercent()
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
}

// tuneGCPercent is tuneGC without the memory limit, for `cardflow bench`:
// its storefront keeps every callback it receives to check them, a live
// heap that grows with the run, and under the limit its collector would
// run back to back and take the CPU the service is being measured on.
func tuneGCPercent() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
}
