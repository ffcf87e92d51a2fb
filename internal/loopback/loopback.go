// Package loopback hands out loopback addresses for listeners that another
// process opens later: a bench run's services, a test's child binaries.
package loopback

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
)

// handedOut is every address FreeAddr returned in this process: two
// addresses asked for one after another must not be the same one, or a
// service told to listen twice on it does not start.
var handedOut sync.Map

// tries bounds FreeAddr's search; the range holds thousands of ports, so
// running out means something else is wrong.
const tries = 1000

// Ports are drawn from below the kernel's ephemeral range, where no
// outgoing connection takes one. A port found free by binding port 0 is one
// of the ephemeral range, and between FreeAddr's check and the other
// process's listen, a connection that process or this one opened (a
// bench's 64 storefront connections, a service's callbacks) could take it
// as its local port: a second service then failed with "address already in
// use" (2026-12-06, a bench run's second process).
const (
	firstPort = 10000
	// minRange is the fewest ports below the ephemeral range worth drawing
	// from; with fewer, ports come from binding port 0 as before.
	minRange = 2000
)

// ephemeralFrom is where the kernel's ephemeral range begins: Linux's
// ip_local_port_range, else IANA's 49152 as BSDs and macOS use.
var ephemeralFrom = sync.OnceValue(func() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 49152
	}
	lo, err := strconv.Atoi(strings.Fields(string(b) + " x")[0])
	if err != nil {
		return 49152
	}
	return lo
})

// FreeAddr returns a 127.0.0.1 address that nobody listens on right now
// and that FreeAddr has not returned before in this process. Another
// program may still take it before its user listens.
func FreeAddr() (string, error) {
	var lastErr error
	for range tries {
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(drawPort())))
		if err != nil {
			lastErr = err // most likely the port drawn is in use: draw again
			continue
		}
		addr := ln.Addr().String()
		_ = ln.Close()
		if _, taken := handedOut.LoadOrStore(addr, struct{}{}); !taken {
			return addr, nil
		}
	}
	if lastErr != nil {
		return "", fmt.Errorf("loopback: no free port in %d tries: %w", tries, lastErr)
	}
	return "", errors.New("loopback: every port found free was handed out already")
}

// drawPort is a random port below the ephemeral range, or 0 (the kernel
// chooses) if that range is too small.
func drawPort() int {
	if top := ephemeralFrom(); top-firstPort >= minRange {
		return firstPort + rand.IntN(top-firstPort)
	}
	return 0
}
