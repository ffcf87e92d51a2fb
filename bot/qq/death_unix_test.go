//go:build unix

package qq

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"cardflow/bot/chat"
	"cardflow/bot/operator"
	"cardflow/bot/qq/qqfake"
	"cardflow/config"
	"cardflow/internal/testkit"
	"cardflow/processor"
	"cardflow/storage"
)

// childDirEnv names the data directory of TestQQChildDrainsTheInboundQueue
// when this test binary runs as the child of
// TestAQQEventThatKillsTheProcessIsSetAsideAfterThreeStarts.
const childDirEnv = "CARDFLOW_QQ_CHILD_DIR"

// killer is an authorizer that ends its process with SIGKILL, as an OOM
// kill or a fatal runtime error would: nothing below it can recover.
type killer struct{}

func (killer) Operator(chat.Identity) (operator.Operator, bool) {
	_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {} // the signal is on its way
}

// TestAQQEventThatKillsTheProcessIsSetAsideAfterThreeStarts: an event whose
// handling kills the process (no panic to recover) used to be replayed on
// every start, for ever. Here the process dies handling it three times;
// the fourth start sets it aside without handling it, audits it and runs
// on.
func TestAQQEventThatKillsTheProcessIsSetAsideAfterThreeStarts(t *testing.T) {
	dir := t.TempDir()
	s := testkit.OpenStore(t, storage.Open, dir, storage.Options{})
	hook := New(Options{AppID: vectorAppID, Secret: vectorSecret, Store: s, Log: zerolog.Nop()})
	body := []byte(`{"id":"ev-deadly","op":0,"s":1,"t":"GROUP_AT_MESSAGE_CREATE","d":{"id":"msg-deadly","content":" /pending",` +
		`"group_openid":"G1","author":{"member_openid":"M1"},"timestamp":"2026-11-25T17:00:00+08:00"}}`)
	if w := call(t, hook, body, strconv.FormatInt(time.Now().Unix(), 10), true); w.Code != 200 {
		t.Fatalf("webhook answered %d %s", w.Code, w.Body)
	}
	testkit.CloseStore(t, s)

	for start := 1; start <= 4; start++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestQQChildDrainsTheInboundQueue$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), childDirEnv+"="+dir)
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		killed := errors.As(err, &exit) && exit.Sys().(syscall.WaitStatus).Signal() == syscall.SIGKILL
		switch {
		case start <= 3 && !killed:
			t.Fatalf("start %d: %v; want the process killed while handling the event\n%s", start, err, out)
		case start == 4 && err != nil:
			t.Fatalf("start %d: %v; want the event set aside and the start clean\n%s", start, err, out)
		}
	}

	s = testkit.OpenStore(t, storage.Open, dir, storage.Options{})
	if n := inboundCount(t, s); n != 0 {
		t.Errorf("%d events still queued", n)
	}
	var failed []storage.AuditEntry
	_ = s.View(func(tx *storage.Tx) error {
		entries, err := tx.AuditLast(20)
		for _, e := range entries {
			if e.Outcome == "failed" {
				failed = append(failed, e)
			}
		}
		return err
	})
	if len(failed) != 1 || failed[0].Actor.Platform != "qq" || failed[0].Actor.Name != "G1/M1" {
		t.Errorf("audited failures = %+v, want one under G1/M1 on qq", failed)
	}
	if p := parked(t, s); len(p) != 1 || p[0].Attempts != maxAttempts || !strings.Contains(string(p[0].Body), "ev-deadly") {
		t.Errorf("set aside: %+v, want the deadly event after %d attempts", p, maxAttempts)
	}
}

// TestQQChildDrainsTheInboundQueue is the child process of the test above:
// it drains the inbound queue of the store in $CARDFLOW_QQ_CHILD_DIR with
// an authorizer that kills the process, and returns once the queue is
// empty.
func TestQQChildDrainsTheInboundQueue(t *testing.T) {
	dir := os.Getenv(childDirEnv)
	if dir == "" {
		t.Skip("runs only as the child of TestAQQEventThatKillsTheProcessIsSetAsideAfterThreeStarts")
	}
	s := testkit.OpenStore(t, storage.Open, dir, storage.Options{})
	fake := qqfake.New(vectorAppID, vectorSecret)
	defer fake.Close()
	engine := processor.New(s, processor.Options{
		Suppliers: []config.Supplier{{Name: "own", Type: config.SupplierStock}}, Log: zerolog.Nop()})
	b := operator.New(operator.Options{Orders: engine, Auth: killer{}, Log: zerolog.Nop()})
	a := New(Options{AppID: vectorAppID, Secret: vectorSecret, APIURL: fake.URL(), TokenURL: fake.URL(),
		Bot: b, Store: s, Log: zerolog.Nop()})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = a.Run(ctx) }()
	testkit.Eventually(t, "the inbound queue to drain", func() bool { return inboundCount(t, s) == 0 })
	cancel()
	<-done
	fmt.Println("drained")
}
