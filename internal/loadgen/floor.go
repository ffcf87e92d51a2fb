package loadgen

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"cardflow/internal/outbound"
)

// Floor is what bare HTTP costs on this machine now: net/http exchanges
// over loopback with nothing behind them, client and server in this
// process. Every order costs two exchanges (the order in, its callback
// out), so the floor bounds any HTTP order service on the same cores; it is
// measured in the same run as the load because these machines' speed
// changes from one hour to the next.
type Floor struct {
	Exchanges   int
	Connections int
	Elapsed     time.Duration
	CPU         time.Duration // this process's user and system CPU
}

// PerSecond is the exchange rate.
func (f Floor) PerSecond() float64 { return perSecond(f.Exchanges, f.Elapsed) }

// CPUPerExchange is the CPU one exchange cost, both ends together.
func (f Floor) CPUPerExchange() time.Duration {
	if f.Exchanges == 0 {
		return 0
	}
	return f.CPU / time.Duration(f.Exchanges)
}

// Loopback is an HTTP server answering every POST with 201 and a 600-byte
// body (an order's answer) and a client with a kept connection per sender,
// as `cardflow bench` uses them.
type Loopback struct {
	URL    string
	Client *http.Client
	srv    *http.Server
	tr     *http.Transport
}

// floorBody is a request body the size of a signed order.
var floorBody = bytes.Repeat([]byte("y"), 300)

// NewLoopback starts the server on 127.0.0.1 and a client for conns senders.
func NewLoopback(conns int) (*Loopback, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	answer := bytes.Repeat([]byte("x"), 600)
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write(answer)
	})}
	go func() { _ = srv.Serve(ln) }()
	client := outbound.New(outbound.Options{IdleConnsPerHost: conns})
	tr := client.Transport.(*http.Transport)
	return &Loopback{URL: "http://" + ln.Addr().String() + "/v1/orders", Client: client, srv: srv, tr: tr}, nil
}

// Exchange sends one order-sized POST and reads the answer.
func (l *Loopback) Exchange() error {
	resp, err := l.Client.Post(l.URL, "application/json", bytes.NewReader(floorBody))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return err
}

// Close stops the server and drops the client's connections.
func (l *Loopback) Close() {
	l.tr.CloseIdleConnections()
	_ = l.srv.Close()
}

// MeasureFloor runs conns senders of bare exchanges for d.
func MeasureFloor(ctx context.Context, d time.Duration, conns int) (Floor, error) {
	lb, err := NewLoopback(conns)
	if err != nil {
		return Floor{}, err
	}
	defer lb.Close()
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var (
		n        atomic.Int64
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	start, cpu0 := time.Now(), SelfCPU()
	for range conns {
		wg.Go(func() {
			for ctx.Err() == nil {
				if err := lb.Exchange(); err != nil {
					errOnce.Do(func() { firstErr = err })
					cancel()
					return
				}
				n.Add(1)
			}
		})
	}
	wg.Wait()
	f := Floor{Exchanges: int(n.Load()), Connections: conns, Elapsed: time.Since(start), CPU: SelfCPU() - cpu0}
	return f, firstErr
}

// SelfCPU is the user and system CPU time this process has used.
func SelfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
