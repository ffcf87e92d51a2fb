package loadgen

import (
	"context"
	"testing"
	"time"
)

func TestMeasureFloorCountsExchangesAndTheirCPU(t *testing.T) {
	f, err := MeasureFloor(context.Background(), 200*time.Millisecond, 8)
	if err != nil {
		t.Fatal(err)
	}
	if f.Exchanges == 0 || f.CPU <= 0 || f.Connections != 8 {
		t.Fatalf("floor = %+v, want exchanges and CPU counted", f)
	}
	if f.Elapsed < 200*time.Millisecond || f.Elapsed > 5*time.Second {
		t.Fatalf("ran %v for a 200ms floor", f.Elapsed)
	}
	if got := f.CPUPerExchange(); got != f.CPU/time.Duration(f.Exchanges) || f.PerSecond() <= 0 {
		t.Fatalf("per exchange %v, per second %v", got, f.PerSecond())
	}
}

// BenchmarkLoopbackExchange is the floor with go test's own counting: 256
// senders (128 × GOMAXPROCS 2, as `cardflow bench` sends), cpu-µs/op the
// process's CPU per exchange, both ends together.
func BenchmarkLoopbackExchange(b *testing.B) {
	lb, err := NewLoopback(256)
	if err != nil {
		b.Fatal(err)
	}
	defer lb.Close()
	b.SetParallelism(128)
	cpu0 := SelfCPU()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := lb.Exchange(); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64((SelfCPU()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
}
