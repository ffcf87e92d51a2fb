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
//
// Several processes on one database reach their marks at about the same
// time, each having written its share: the table needs one ANALYZE, not
// one per process (two cost the server 30–190 ms more per bench run, the
// second waiting for the first's lock and then reading the same pages).
// So a process analyzes only while no other is analyzing that table (an
// advisory lock tried, never waited for) and only if the statistics are
// stale: never gathered, or with at least as many modifications since as
// half the table's rows and as analyzeStale, as the server counts them.
const (
	analyzeAt    = 1000
	analyzeStep  = 100
	analyzeStale = analyzeAt / 2
)

// AnalyzeLock is the first key of the two-key advisory lock
// (pg_try_advisory_xact_lock(int, int)) a process holds while it analyzes a
// table; the second is the table's oid: "cfka".
const AnalyzeLock int32 = 0x63666b61

// analyzeDue is true if this transaction has the table's analyze lock and
// the table's statistics are stale. $1 is the table's quoted name.
const analyzeDue = `SELECT pg_try_advisory_xact_lock($2, $1::regclass::oid::int)
	AND coalesce((SELECT c.reltuples < 0 OR s.n_mod_since_analyze >= greatest(c.reltuples / 2, $3)
		FROM pg_class c LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
		WHERE c.oid = $1::regclass), true)`

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

// analyze has the server gather a table's statistics, unless another
// process is at it or has just done it. It is advice to the planner: a
// failure changes nothing else, and is not reported.
func (d *DB) analyze(tb *table) {
	ctx, cancel := context.WithTimeout(d.ctx, d.timeout)
	defer cancel()
	name := pgx.Identifier{tb.name}.Sanitize()
	_ = pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		var due bool
		if err := tx.QueryRow(ctx, analyzeDue, name, AnalyzeLock, analyzeStale).Scan(&due); err != nil || !due {
			return err
		}
		_, err := tx.Exec(ctx, "ANALYZE "+name)
		return err
	})
}
