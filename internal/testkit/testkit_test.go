package testkit_test

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"cardflow/internal/testkit"
	"cardflow/storage"
)

// TestNothingInTheServiceImportsTheKit: the kit (and the disk-fault and
// docking-test helpers beside it) is for tests only. A non-test file that
// imported one would link test code into the binary; go list's Imports
// leaves test files out. The helpers may build on the kit.
func TestNothingInTheServiceImportsTheKit(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}:{{join .Imports " "}}`, "cardflow/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	testOnly := []string{"cardflow/internal/testkit", "cardflow/internal/diskfault", "cardflow/internal/dockingtest"}
	packages := 0
	for line := range strings.Lines(string(out)) {
		pkg, imports, _ := strings.Cut(strings.TrimSpace(line), ":")
		packages++
		if slices.Contains(testOnly, pkg) {
			continue
		}
		for _, imp := range strings.Fields(imports) {
			if slices.Contains(testOnly, imp) {
				t.Errorf("%s imports %s, which is for tests only", pkg, imp)
			}
		}
	}
	if packages < 10 {
		t.Fatalf("go list named %d packages: not the module\n%s", packages, out)
	}
}

func TestClockMovesOnlyWhenTold(t *testing.T) {
	start := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	c := testkit.NewClock(start)
	if got := c.Now(); !got.Equal(start) {
		t.Fatalf("Now = %v, want %v", got, start)
	}
	if got := c.Advance(time.Hour); !got.Equal(start.Add(time.Hour)) || !c.Now().Equal(got) {
		t.Fatalf("Advance(1h) = %v, Now = %v, want %v", got, c.Now(), start.Add(time.Hour))
	}
	c.Set(start.Add(-time.Minute))
	if got := c.Now(); !got.Equal(start.Add(-time.Minute)) {
		t.Fatalf("after Set, Now = %v", got)
	}
}

func TestClockIsSafeForConcurrentUse(t *testing.T) {
	start := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	c := testkit.NewClock(start)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				c.Advance(time.Second)
				_ = c.Now()
			}
		})
	}
	wg.Wait()
	if got := c.Now(); !got.Equal(start.Add(800 * time.Second)) {
		t.Fatalf("Now = %v, want %v", got, start.Add(800*time.Second))
	}
}

func TestEventuallyReturnsOnceTheConditionHolds(t *testing.T) {
	var ready atomic.Bool
	go func() { ready.Store(true) }()
	asked := 0
	testkit.Eventually(t, "the flag", func() bool { asked++; return ready.Load() })
	if !ready.Load() || asked == 0 {
		t.Fatalf("returned with ready=%v after %d questions", ready.Load(), asked)
	}
}

// recorder is a testing.TB that keeps what Fatalf was told.
type recorder struct {
	testing.TB
	fatal string
}

func (r *recorder) Helper() {}

func (r *recorder) Fatalf(format string, args ...any) { r.fatal = fmt.Sprintf(format, args...) }

func TestEventuallyFailsNamingWhatItAwaitedAndForHowLong(t *testing.T) {
	r := &recorder{TB: t}
	start := time.Now()
	testkit.EventuallyWithin(r, 30*time.Millisecond, "the moon to rise", func() bool { return false })
	if want := "timed out after 30ms waiting for the moon to rise"; r.fatal != want {
		t.Fatalf("failure = %q, want %q", r.fatal, want)
	}
	if took := time.Since(start); took < 30*time.Millisecond {
		t.Fatalf("gave up after %v, before its limit", took)
	}
}

func TestPollReportsWhetherTheConditionHeld(t *testing.T) {
	n := 0
	if !testkit.Poll(time.Second, time.Millisecond, func() bool { n++; return n == 3 }) || n != 3 {
		t.Fatalf("Poll asked %d times, want 3 and true", n)
	}
	if testkit.Poll(10*time.Millisecond, time.Millisecond, func() bool { return false }) {
		t.Fatal("Poll reported a condition that never held as held")
	}
}

func TestBufferIsSafeForConcurrentUse(t *testing.T) {
	var b testkit.Buffer
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 50 {
				fmt.Fprintf(&b, "%d\n", i)
				_ = b.String()
			}
		})
	}
	wg.Wait()
	if got := strings.Count(b.String(), "\n"); got != 400 {
		t.Fatalf("%d lines, want 400", got)
	}
}

// fakeStore records what the kit does to it.
type fakeStore struct {
	calls    []string
	checkErr error
}

func (s *fakeStore) Check() error { s.calls = append(s.calls, "check"); return s.checkErr }
func (s *fakeStore) Close() error { s.calls = append(s.calls, "close"); return nil }

func openFake(s *fakeStore) func(string, []byte, int) (*fakeStore, error) {
	return func(_ string, key []byte, _ int) (*fakeStore, error) {
		if !bytes.Equal(key, testkit.MasterKey()) {
			return nil, errors.New("not the kit's master key")
		}
		return s, nil
	}
}

func TestAStoreIsCheckedThenClosedWhenTheTestEnds(t *testing.T) {
	for name, open := range map[string]func(*testing.T, *fakeStore){
		"OpenStore": func(t *testing.T, s *fakeStore) { testkit.OpenStore(t, openFake(s), t.TempDir(), 0) },
		"NewStore":  func(t *testing.T, s *fakeStore) { testkit.NewStore(t, openFake(s)) },
	} {
		s := &fakeStore{}
		t.Run(name, func(t *testing.T) {
			open(t, s)
			if len(s.calls) != 0 {
				t.Fatalf("calls before the end: %v", s.calls)
			}
		})
		if want := []string{"check", "close"}; !slices.Equal(s.calls, want) {
			t.Fatalf("%s: calls = %v, want %v", name, s.calls, want)
		}
	}
}

func TestAStoreTheTestClosedIsNotClosedAgain(t *testing.T) {
	s := &fakeStore{}
	t.Run("a test", func(t *testing.T) {
		testkit.OpenStore(t, openFake(s), t.TempDir(), 0)
		testkit.CloseStore(t, s)
		testkit.CloseStore(t, s)
	})
	if want := []string{"check", "close"}; !slices.Equal(s.calls, want) {
		t.Fatalf("calls = %v, want %v", s.calls, want)
	}
}

// errorRecorder is a testing.TB that keeps what Errorf was told.
type errorRecorder struct {
	testing.TB
	errs []string
}

func (r *errorRecorder) Helper() {}

func (r *errorRecorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func TestAFailedCheckFailsTheTest(t *testing.T) {
	s := &fakeStore{checkErr: errors.New("page 7: unreachable unfreed")}
	r := &errorRecorder{TB: t}
	testkit.CloseStore(r, s)
	if len(r.errs) != 1 || !strings.Contains(r.errs[0], "page 7: unreachable unfreed") {
		t.Fatalf("errors = %q, want the check's", r.errs)
	}
	if !slices.Contains(s.calls, "close") {
		t.Fatal("the store was left open after a failed check")
	}
}

// TestARealStoreIsClosedWhenTheTestEnds: bbolt locks its file while open,
// so the directory opens again only if the kit closed it.
func TestARealStoreIsClosedWhenTheTestEnds(t *testing.T) {
	dir := t.TempDir()
	t.Run("a test", func(t *testing.T) {
		s := testkit.OpenStore(t, storage.Open, dir, storage.Options{})
		if err := s.Update(func(tx *storage.Tx) error { _, err := tx.NewOrderID(); return err }); err != nil {
			t.Fatal(err)
		}
	})
	s, err := storage.Open(dir, testkit.MasterKey(), storage.Options{LockTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	var last uint64
	_ = s.View(func(tx *storage.Tx) error { last = tx.LastOrderID(); return nil })
	if last != 1 {
		t.Fatalf("last order id = %d, want 1: not the store the test wrote", last)
	}
}
