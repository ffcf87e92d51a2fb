package loopback

import (
	"net"
	"strconv"
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

// The addresses are below the kernel's ephemeral range, which outgoing
// connections draw their local ports from: a connection opened between
// FreeAddr and the listen cannot take one.
func TestFreeAddrsAreBelowTheEphemeralRange(t *testing.T) {
	from := ephemeralFrom()
	if from-firstPort < minRange {
		t.Skipf("the ephemeral range starts at %d: ports come from the kernel", from)
	}
	for range 200 {
		addr, err := FreeAddr()
		if err != nil {
			t.Fatal(err)
		}
		_, p, _ := net.SplitHostPort(addr)
		if port, _ := strconv.Atoi(p); port < firstPort || port >= from {
			t.Fatalf("%s is outside [%d, %d)", addr, firstPort, from)
		}
	}
}
