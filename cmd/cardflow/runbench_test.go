package main

import (
	"strings"
	"testing"
)

// TestBenchSaysHowToGetCardflowBenchWhenItIsMissing: the benchmark is a
// command of its own; `cardflow bench` without it beside the binary or on
// PATH says how to run or build it.
func TestBenchSaysHowToGetCardflowBenchWhenItIsMissing(t *testing.T) {
	code, out := runBinary(t, []string{"PATH=" + t.TempDir()}, "bench", "-orders", "10")
	for _, want := range []string{"cardflow-bench", "go run ./cmd/cardflow-bench", "go build -o . ./cmd/cardflow ./cmd/cardflow-bench"} {
		if code != 1 || !strings.Contains(out, want) {
			t.Fatalf("exit %d, want %q in\n%s", code, want, out)
		}
	}
}
