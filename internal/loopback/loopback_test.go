package loopback

import (
	"net"
	"testing"
)

// Two thousand addresses, asked for one after another, are all different
// and all free. The kernel offers ports from a range of some thousands, so
// without the memory of what was handed out this draws the same one again
// many times over.
func TestFreeAddrNeverReturnsTheSameAddressTwice(t *testing.T) {
	seen := make(map[string]bool)
	for range 2000 {
		addr, err := FreeAddr()
		if err != nil {
			t.Fatal(err)
		}
		if seen[addr] {
			t.Fatalf("%s handed out twice", addr)
		}
		seen[addr] = true
	}
	for addr := range seen {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("%s is not free: %v", addr, err)
		}
		_ = ln.Close()
	}
}
