package storefront

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"
)

// BenchmarkLoopbackExchange is the floor under cardflow's CPU per order: one
// bare net/http POST over loopback, a 300-byte body in and a 600-byte
// answer out, client and server in this process on keep-alive
// connections, 256 at a time as `cardflow bench` sends. Every order costs
// two such exchanges (the order in, its callback out). cpu-µs/op is the
// process's user and system CPU per exchange, the figure to compare with
// the bench's CPU per order.
func BenchmarkLoopbackExchange(b *testing.B) {
	answer := bytes.Repeat([]byte("x"), 600)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write(answer)
	})}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 256
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	body := bytes.Repeat([]byte("y"), 300)
	url := "http://" + ln.Addr().String() + "/v1/orders"

	b.SetParallelism(128) // × GOMAXPROCS 2 = 256 senders
	cpu0 := cpuTime()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Post(url, "application/json", bytes.NewReader(body))
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
	b.StopTimer()
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
