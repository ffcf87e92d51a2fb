package outbox

import (
	"testing"
	"time"
)

func TestBackoffGrowsToAnHourAndNoFurther(t *testing.T) {
	prev := time.Duration(0)
	for n := 1; n <= 20; n++ {
		d := backoff(n)
		if d > backoffMax+backoffMax/10 {
			t.Fatalf("backoff(%d) = %v, over the cap", n, d)
		}
		if n <= 10 && d < prev {
			t.Errorf("backoff(%d) = %v shrank from %v", n, d, prev)
		}
		prev = d
	}
	if d := backoff(1); d < 900*time.Millisecond || d > 1100*time.Millisecond {
		t.Errorf("backoff(1) = %v", d)
	}
	if d := backoff(20); d < 54*time.Minute {
		t.Errorf("backoff(20) = %v, want about an hour", d)
	}
}
