package operator

import (
	"sync"
	"time"
)

// What a stranger (anyone who is not an operator) may cost. An audited
// refusal is an fsync'd write and a chat answer, so a flood of commands or
// presses from outside, each refused so, would load the writer and use up a
// group's messages. A stranger's first refusal is audited and answered;
// further refusals within strangerQuiet are only counted — no write, no
// answer — and the count goes into that stranger's next audited refusal.
// All strangers together get at most strangerBudget audited refusals a
// minute (QQ gives every member of every group an identity of its own);
// beyond it refusals are counted and reported in the next entry that is
// written. At most maxStrangers identities are remembered; a forgotten
// one's count is reported the same way.
const (
	strangerQuiet  = time.Minute
	strangerBudget = 60
	maxStrangers   = 4096
	// bindAttempts is how many /bind codes one identity may try a minute:
	// enough for typos, too few to matter against 74 bits, and each try
	// is an audited write.
	bindAttempts = 5
)

type strangerGate struct {
	mu          sync.Mutex
	seen        map[string]*strangerNote
	windowStart time.Time
	windowUsed  int
	unaudited   int // refusals of strangers over budget or forgotten, not yet reported
}

type strangerNote struct {
	last       time.Time // last audited refusal
	suppressed int       // refusals since, not audited
	bindsFrom  time.Time // start of the current minute of /bind tries
	binds      int
}

func newStrangerGate() *strangerGate { return &strangerGate{seen: map[string]*strangerNote{}} }

// admit decides about one refusal of the stranger key at now: whether to
// audit (and answer) it, and if so how many of this stranger's refusals and
// of others' were not audited since.
func (g *strangerGate) admit(key string, now time.Time) (audit bool, mine, others int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := g.seen[key]
	if n != nil && !n.last.IsZero() && now.Sub(n.last) < strangerQuiet {
		n.suppressed++
		return false, 0, 0
	}
	if !g.spend(now) {
		g.unaudited++
		return false, 0, 0
	}
	if n == nil {
		n = g.note(key, now)
	}
	mine, others = n.suppressed, g.unaudited
	n.last, n.suppressed, g.unaudited = now, 0, 0
	return true, mine, others
}

// bindAttempt reports whether the stranger key may try a bind code now.
func (g *strangerGate) bindAttempt(key string, now time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := g.seen[key]
	if n == nil {
		if !g.spend(now) {
			return false
		}
		n = g.note(key, now)
	}
	if now.Sub(n.bindsFrom) >= strangerQuiet {
		n.bindsFrom, n.binds = now, 0
	}
	if n.binds >= bindAttempts {
		return false
	}
	n.binds++
	return true
}

// spend takes one audited write from the minute's budget.
func (g *strangerGate) spend(now time.Time) bool {
	if now.Sub(g.windowStart) >= strangerQuiet {
		g.windowStart, g.windowUsed = now, 0
	}
	if g.windowUsed >= strangerBudget {
		return false
	}
	g.windowUsed++
	return true
}

// note remembers a new stranger, forgetting others when full: first those
// quiet for a minute, then any.
func (g *strangerGate) note(key string, now time.Time) *strangerNote {
	if len(g.seen) >= maxStrangers {
		for k, n := range g.seen {
			if now.Sub(n.last) >= strangerQuiet && now.Sub(n.bindsFrom) >= strangerQuiet {
				g.unaudited += n.suppressed
				delete(g.seen, k)
			}
		}
		for k, n := range g.seen {
			if len(g.seen) < maxStrangers {
				break
			}
			g.unaudited += n.suppressed
			delete(g.seen, k)
		}
	}
	n := &strangerNote{}
	g.seen[key] = n
	return n
}

// size is how many strangers are remembered.
func (g *strangerGate) size() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.seen)
}
