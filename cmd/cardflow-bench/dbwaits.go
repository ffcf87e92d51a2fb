package main

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"cardflow/internal/periodic"
)

// waitEvery is how often the database's sessions are sampled during the
// load: about fifty cheap queries a second.
const waitEvery = 20 * time.Millisecond

// waitSampler looks at what the sessions on the run's database are doing
// (pg_stat_activity), again and again while the load runs: a profile of
// where the database's time goes that needs no extension. A session is
// running (on a CPU), waiting for something (the write lock every cardflow
// transaction takes is Lock:advisory, a WAL flush IO:WALSync or
// LWLock:WALWrite), or idle in a transaction, waiting for cardflow to send
// the next statement.
type waitSampler struct {
	db *benchDatabase

	mu      sync.Mutex
	samples int
	states  map[string]int // what a busy session was doing → sessions seen doing it
	err     error
}

func newWaitSampler(db *benchDatabase) *waitSampler {
	return &waitSampler{db: db, states: map[string]int{}}
}

// run samples until ctx ends, on a connection of its own.
func (w *waitSampler) run(ctx context.Context) {
	conn, err := w.db.connect(ctx)
	if err != nil {
		w.fail(err)
		return
	}
	defer conn.Close(context.Background())
	periodic.Every(ctx, waitEvery, func() {
		rows, err := conn.Query(ctx, `SELECT CASE
			    WHEN state LIKE 'idle in transaction%' THEN 'idle in transaction'
			    WHEN wait_event IS NULL THEN 'running'
			    ELSE wait_event_type || ':' || wait_event END, count(*)
			FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid()
			  AND backend_type = 'client backend' AND state <> 'idle'
			GROUP BY 1`)
		if err != nil {
			if ctx.Err() == nil {
				w.fail(err)
			}
			return
		}
		seen := map[string]int{}
		for rows.Next() {
			var what string
			var n int
			if rows.Scan(&what, &n) == nil {
				seen[what] += n
			}
		}
		if rows.Err() != nil {
			return
		}
		w.mu.Lock()
		defer w.mu.Unlock()
		w.samples++
		for what, n := range seen {
			w.states[what] += n
		}
	})
}

func (w *waitSampler) fail(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil {
		w.err = err
	}
}

// waitReport is what the samples saw.
type waitReport struct {
	samples int
	busy    float64 // sessions busy per sample, on average
	shares  []waitShare
	err     error
}

type waitShare struct {
	what  string
	share float64 // of the busy sessions seen
}

func (w *waitSampler) report() waitReport {
	w.mu.Lock()
	defer w.mu.Unlock()
	r := waitReport{samples: w.samples, err: w.err}
	seen := 0
	for _, n := range w.states {
		seen += n
	}
	if w.samples == 0 || seen == 0 {
		return r
	}
	r.busy = float64(seen) / float64(w.samples)
	for _, what := range slices.Sorted(maps.Keys(w.states)) {
		r.shares = append(r.shares, waitShare{what, float64(w.states[what]) / float64(seen)})
	}
	slices.SortStableFunc(r.shares, func(a, b waitShare) int { return cmp.Compare(b.share, a.share) })
	return r
}

func (r waitReport) String() string {
	if r.err != nil {
		return fmt.Sprintf("sampling failed: %v", r.err)
	}
	if r.busy == 0 {
		return fmt.Sprintf("no session busy in %d samples", r.samples)
	}
	var parts []string
	rest := 0.0
	for i, s := range r.shares {
		if i < 6 && s.share >= 0.005 {
			parts = append(parts, fmt.Sprintf("%.0f%% %s", 100*s.share, s.what))
		} else {
			rest += s.share
		}
	}
	if rest > 0 {
		parts = append(parts, fmt.Sprintf("%.0f%% other", 100*rest))
	}
	return fmt.Sprintf("%.1f sessions busy on average (%d samples, every %v): %s",
		r.busy, r.samples, waitEvery, strings.Join(parts, ", "))
}
