package report

import (
	"testing"
	"time"
)

func TestHistogramQuantiles(t *testing.T) {
	var h Hist
	if h.Quantile(0.5) != 0 {
		t.Fatal("empty histogram has a median")
	}
	for _, d := range []time.Duration{10 * time.Millisecond, 200 * time.Millisecond, time.Second, 2 * time.Second, 30 * time.Second} {
		h[histBucket(d)]++
	}
	for q, want := range map[float64]time.Duration{0.5: time.Second, 0.9: 30 * time.Second} {
		got := h.Quantile(q)
		if got < want*7/10 || got > want*15/10 {
			t.Errorf("q%.2f = %s, want about %s", q, got, want)
		}
	}
	if histBucket(0) != 0 || histBucket(100*24*time.Hour) != histBuckets-1 {
		t.Fatal("bucket bounds")
	}
}
