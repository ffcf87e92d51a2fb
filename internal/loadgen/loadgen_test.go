package loadgen

import (
	"fmt"
	"testing"
)

// The strconv builders must say what the fmt formats they replaced said:
// external ids and buyers are part of what a run's orders look like.
func TestOrderStringsMatchTheirFormats(t *testing.T) {
	for _, n := range []int64{0, 1, 7, 49_999, 50_000, 65_537, 99_999_999, 123_456_789} {
		if got, want := externalID("bench-1", n), fmt.Sprintf("%s-%08d", "bench-1", n); got != want {
			t.Errorf("externalID(%d) = %q, want %q", n, got, want)
		}
		b := n % 50_000
		want := fmt.Sprintf("load-%d|buyer%d@example.com|10.%d.%d.%d", b, b, b>>16&255, b>>8&255, b&255)
		got := buyerOf(n)
		if s := got.ID + "|" + got.Contact + "|" + got.IP; s != want {
			t.Errorf("buyerOf(%d) = %q, want %q", n, s, want)
		}
	}
}
