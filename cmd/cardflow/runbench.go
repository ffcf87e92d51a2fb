package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
)

// benchMissing says how to get cardflow-bench; %s is this binary's directory.
const benchMissing = `cardflow bench: the benchmark is a command of its own, cardflow-bench, and there is none in %s or on PATH.
From the source tree, run it directly (it builds and measures that tree's cardflow):
  go run ./cmd/cardflow-bench -orders 20000
or build both side by side and run cardflow bench again:
  go build -o . ./cmd/cardflow ./cmd/cardflow-bench && ./cardflow bench -orders 20000
`

// cmdBench runs cardflow-bench, found beside this binary or on PATH, on
// this binary: the load generator and the fake supplier stay out of the
// service binary.
func cmdBench(args []string) int {
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(os.Stderr, "cardflow bench: %v\n", err)
		return 1
	}
	bench, err := exec.LookPath(filepath.Join(filepath.Dir(self), "cardflow-bench"))
	if err != nil {
		if bench, err = exec.LookPath("cardflow-bench"); err != nil {
			fmt.Fprintf(os.Stderr, benchMissing, filepath.Dir(self))
			return 1
		}
	}
	cmd := exec.Command(bench, append([]string{"-cardflow", self}, args...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	// The bench stops its service and reports on an interrupt: this process
	// passes signals on and waits for it.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "cardflow bench: %v\n", err)
		return 1
	}
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			select {
			case s := <-sigs:
				_ = cmd.Process.Signal(s)
			case <-done:
				return
			}
		}
	}()
	var exit *exec.ExitError
	if err := cmd.Wait(); errors.As(err, &exit) && exit.ExitCode() >= 0 {
		return exit.ExitCode()
	} else if err != nil {
		fmt.Fprintf(os.Stderr, "cardflow bench: %v\n", err)
		return 1
	}
	return 0
}
