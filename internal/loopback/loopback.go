// Package loopback hands out loopback addresses for listeners that another
// process opens later: a bench run's services, a test's child binaries.
package loopback

import (
	"errors"
	"net"
	"sync"
)

// handedOut is every address FreeAddr returned in this process. The kernel
// may hand a port it has just freed to the next bind of port 0, so two
// addresses asked for one after another can be the same one; a service
// told to listen twice on it does not start.
var handedOut sync.Map

// tries bounds FreeAddr's search; an ephemeral range holds thousands of
// ports, so running out means something else is wrong.
const tries = 1000

// FreeAddr returns a 127.0.0.1 address that nobody listens on right now
// and that FreeAddr has not returned before in this process. Another
// program may still take it before its user listens.
func FreeAddr() (string, error) {
	for range tries {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", err
		}
		addr := ln.Addr().String()
		_ = ln.Close()
		if _, taken := handedOut.LoadOrStore(addr, struct{}{}); !taken {
			return addr, nil
		}
	}
	return "", errors.New("loopback: every port the kernel offered was handed out already")
}
