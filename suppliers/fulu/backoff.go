package fulu

import "time"

// QueryBackoff suggests how long to wait before query number n+1 of one
// attempt, where n is the number of queries already made (0 before the
// first). It follows Fulu's advice to poll every 1–3 s while a card order is
// normally being filled (a sandbox order takes about 5 s), then grows by one
// second per query so that a stuck order costs little, and stays at 30 s:
//
//	n:     0   1   2…19   20   21  …  46   47…
//	wait:  1s  2s  3s     4s   5s  …  30s  30s
//
// The first 20 queries cover about a minute; by query 47 about 9 minutes
// have passed, just inside Fulu's 10-minute not-found grace window. The
// engine owns the cadence and may use its own.
func QueryBackoff(n int) time.Duration {
	switch {
	case n <= 0:
		return time.Second
	case n == 1:
		return 2 * time.Second
	case n < 20:
		return 3 * time.Second
	case n < 47:
		return time.Duration(n-16) * time.Second
	}
	return 30 * time.Second
}

// QueryBackoff makes the client a suppliers.Pacer.
func (c *Client) QueryBackoff(n int) time.Duration { return QueryBackoff(n) }
