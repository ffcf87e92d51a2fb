package pgkv

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// A young table, one that grew from nothing in the last minute (a new
// store, a stock import, a copy from bbolt), has no statistics until
// autovacuum's next round, and PostgreSQL plans its queries as though it
// were nearly empty and its nested bucket column were selective: a
// Prefetch of 30 keys from 20,000 rows then walks the whole bucket (3 ms,
// not 0.04), and a page of a stock queue sorts every card left. So each
// process has a table analyzed when its own writes to it first reach
// analyzeAt, and again at each hundredfold: two or three times in a
// table's life. Autovacuum keeps the statistics from then on.
const (
	analyzeAt   = 1000
	analyzeStep = 100
)

// noteWrites counts a commit's writes per table and has a table that
// reached its next mark analyzed, in the background.
func (d *DB) noteWrites(written map[bucketKey]*keySet) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return
	}
	for bk, ks := range written {
		tb := bk.tbl
		tb.writes += int64(len(ks.keys))
		if tb.nextAnalyze == 0 {
			tb.nextAnalyze = analyzeAt
		}
		if tb.writes >= tb.nextAnalyze {
			for tb.nextAnalyze <= tb.writes {
				tb.nextAnalyze *= analyzeStep
			}
			d.background.Go(func() { d.analyze(tb) })
		}
	}
}

// analyze has the server gather a table's statistics. It is advice to the
// planner: a failure changes nothing else, and is not reported.
func (d *DB) analyze(tb *table) {
	ctx, cancel := context.WithTimeout(d.ctx, d.timeout)
	defer cancel()
	_, _ = d.pool.Exec(ctx, "ANALYZE "+pgx.Identifier{tb.name}.Sanitize())
}
