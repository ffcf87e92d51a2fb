package processor

import (
	"bytes"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"cardflow/storage"
	"cardflow/suppliers/stock"
)

// badImportBytes is the size of the file of invalid lines: what an admin
// (or a stolen admin token) can send in seconds; the API accepts 256 MiB.
const badImportBytes = 20 << 20

// TestImportOfInvalidLinesKeepsOnlyTheErrorsItShows imports 20 MiB of lines
// that are not cards (an empty number, four fields, a bad date, a control
// character: 2.6 million lines) and checks that the heap stays small while
// it runs and afterwards: the answer lists the first errors and counts the
// rest, it does not remember every line. It logs the figures (go test -v).
func TestImportOfInvalidLinesKeepsOnlyTheErrorsItShows(t *testing.T) {
	f := newFixture(t, nil)
	body := badLines(badImportBytes)
	lines := bytes.Count(body, []byte("\n"))

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	peak := sampleHeapInuse()
	res, err := f.engine.ImportStock(storage.Actor{Name: "test", Platform: "test"}, "qb-10", bytes.NewReader(body))
	peakInuse := peak()
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	retained := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("%d MiB, %d invalid lines: TotalAlloc %d MiB, peak HeapInuse %d MiB (%d MiB before), retained after GC %d KiB",
		len(body)>>20, lines, (after.TotalAlloc-before.TotalAlloc)>>20, peakInuse>>20, before.HeapInuse>>20, retained>>10)

	if res.Added != 0 || res.Invalid != lines {
		t.Fatalf("added %d invalid %d, want 0 and %d", res.Added, res.Invalid, lines)
	}
	if len(res.Errors) != stock.MaxErrors || res.Errors[0].Line != 1 || res.Errors[stock.MaxErrors-1].Line != stock.MaxErrors {
		t.Errorf("answer lists %d errors, want lines 1 to %d", len(res.Errors), stock.MaxErrors)
	}
	if retained > 8<<20 {
		t.Errorf("the import left %d MiB on the heap after it ended", retained>>20)
	}
	if grew := int64(peakInuse) - int64(before.HeapInuse); grew > 64<<20 {
		t.Errorf("heap in use grew by %d MiB during the import of %d MiB", grew>>20, len(body)>>20)
	}
	runtime.KeepAlive(res)
	runtime.KeepAlive(body)
}

// badLines is n bytes of invalid card lines of four kinds.
func badLines(n int) []byte {
	kinds := []string{",pw\n", "A,b,c,d\n", "A1,p,31/12/2027\n", "A\x01B\n"}
	var b bytes.Buffer
	b.Grow(n + 32)
	for i := 0; b.Len() < n; i++ {
		b.WriteString(kinds[i%len(kinds)])
	}
	return b.Bytes()
}

// sampleHeapInuse samples HeapInuse every millisecond until the returned
// function is called, which reports the highest value seen.
func sampleHeapInuse() func() uint64 {
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	})
	return func() uint64 {
		close(stop)
		wg.Wait()
		return peak.Load()
	}
}
