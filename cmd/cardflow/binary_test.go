package main

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"cardflow/internal/loopback"
	"cardflow/internal/testkit"
)

// The tests in this package drive the real binary, built once per run.
var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func cardflowBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "cardflow-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "cardflow")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// freeAddr returns a loopback address nobody listens on right now and no
// other freeAddr of this test binary returned.
func freeAddr(t *testing.T) string {
	t.Helper()
	addr, err := loopback.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

// proc is one running cardflow process.
type proc struct {
	cmd    *exec.Cmd
	stderr *testkit.Buffer
	done   chan struct{}
}

// logs is what the process wrote to stderr so far.
func (p *proc) logs() string { return p.stderr.String() }

// startProc runs the binary with args and env and waits until url answers
// 200 (use /readyz).
func startProc(t *testing.T, env []string, readyURL string, args ...string) *proc {
	t.Helper()
	p, err := launch(t, env, readyURL, args...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// errExitedAtStart is launch's error when the process ended before it was
// ready; the error's text carries the process's output.
var errExitedAtStart = errors.New("cardflow exited during start-up")

// launch starts cardflow and waits until readyURL answers 200.
func launch(t *testing.T, env []string, readyURL string, args ...string) (*proc, error) {
	t.Helper()
	cmd := exec.Command(cardflowBinary(t), args...)
	cmd.Env = append(os.Environ(), env...)
	p := &proc{cmd: cmd, stderr: &testkit.Buffer{}, done: make(chan struct{})}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() { _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { p.kill() })
	// A timeout: a port taken by someone else may accept and never answer.
	probe := &http.Client{Timeout: time.Second}
	exited := false
	ready := testkit.Poll(20*time.Second, 20*time.Millisecond, func() bool {
		select {
		case <-p.done:
			exited = true
			return true
		default:
		}
		resp, err := probe.Get(readyURL)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	switch {
	case exited:
		return nil, fmt.Errorf("%w:\n%s", errExitedAtStart, p.logs())
	case !ready:
		return nil, fmt.Errorf("cardflow not ready at %s:\n%s", readyURL, p.logs())
	}
	return p, nil
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *proc) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// interrupt sends SIGINT and waits for a clean exit.
func (p *proc) interrupt(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		t.Fatal("cardflow did not stop on SIGINT")
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit code %d after SIGINT:\n%s", code, p.logs())
	}
}

// TestStartMovesOffAPortTakenMeanwhile: the helper's retry when another
// process took a picked port before cardflow could bind it.
func TestStartMovesOffAPortTakenMeanwhile(t *testing.T) {
	if testing.Short() {
		t.Skip("drives the real binary")
	}
	s := newService(t, "")
	taken, err := net.Listen("tcp", s.apiAddr)
	if err != nil {
		t.Skipf("the picked port went elsewhere already: %v", err)
	}
	defer taken.Close()
	old := s.apiAddr
	s.start(t)
	if s.apiAddr == old {
		t.Fatalf("still on the taken %s", old)
	}
	if resp, err := http.Get("http://" + s.apiAddr + "/readyz"); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("readyz on the new port: %v", err)
	}
}
