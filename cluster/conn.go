package cluster

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// The member's connection: run's goroutine owns it, takes the member's
// lock on it, competes for the leader's lock, listens for nudges and sends
// this member's, and makes a new one when it fails.

// enter connects, picks a number nobody holds, takes its lock and writes
// the member's row: the first connection of Join.
func (m *member) enter(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, m.cfg)
	if err != nil {
		return nil, fmt.Errorf("cluster: connect to the database: %w", err)
	}
	fail := func(err error) (*pgx.Conn, error) {
		closeConn(conn)
		return nil, err
	}
	var table bool
	if err := conn.QueryRow(ctx, "SELECT to_regclass('cluster_members') IS NOT NULL").Scan(&table); err != nil {
		return fail(fmt.Errorf("cluster: look for the members table: %w", err))
	}
	if !table {
		return fail(errors.New("cluster: the database has no cluster_members table: open the store on it first (its migrations create the table)"))
	}
	for range 20 {
		n := newNumber()
		var locked bool
		if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1, $2)", LockSpace, n).Scan(&locked); err != nil {
			return fail(fmt.Errorf("cluster: take a member's lock: %w", err))
		}
		if !locked {
			continue // another member's number
		}
		// A row left by a departed member keeps its number until the leader
		// has taken its work over: pick another.
		tag, err := conn.Exec(ctx, "INSERT INTO cluster_members (id, host, pid) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING",
			formatID(n), m.host, m.pid)
		if err != nil {
			return fail(fmt.Errorf("cluster: write the member's row: %w", err))
		}
		if tag.RowsAffected() == 0 {
			if _, err := conn.Exec(ctx, "SELECT pg_advisory_unlock($1, $2)", LockSpace, n); err != nil {
				return fail(fmt.Errorf("cluster: let a taken number go: %w", err))
			}
			continue
		}
		m.num, m.id = n, formatID(n)
		if err := m.listen(ctx, conn); err != nil {
			return fail(err)
		}
		return conn, nil
	}
	return fail(errors.New("cluster: found no free member number in 20 tries"))
}

// closeConn closes a connection that failed, or is given up on, without
// waiting long on a network that may be gone.
func closeConn(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = conn.Close(ctx)
}

// listen names the connection and listens for nudges.
func (m *member) listen(ctx context.Context, conn *pgx.Conn) error {
	if _, err := conn.Exec(ctx, "SELECT set_config('application_name', $1, false)", appName(m.id)); err != nil {
		return fmt.Errorf("cluster: name the connection: %w", err)
	}
	if _, err := conn.Exec(ctx, "LISTEN "+channel); err != nil {
		return fmt.Errorf("cluster: listen for nudges: %w", err)
	}
	return nil
}

// run keeps the member's connection until Close, making a new one each
// time it fails.
func (m *member) run(conn *pgx.Conn) {
	defer close(m.done)
	var tryAt time.Time // the first connection competes at once
	for {
		err := m.serve(conn, tryAt)
		if errors.Is(err, errClosing) {
			m.closeErr = m.quit(conn)
			return
		}
		m.end(err)
		closeConn(conn)
		m.log.Warn().Err(err).Msg("cluster connection lost; reconnecting")
		if conn = m.reconnect(); conn == nil {
			return
		}
		m.log.Info().Msg("cluster connection back")
		tryAt = time.Now().Add(holdOff)
	}
}

// serve does the member's work on conn until it fails (or Close): leads or
// tries for the lead, writes seen_at, sends queued nudges, and between
// these waits for nudges from the others. It does not try for the lead
// before tryAt, unless the leader says it left.
//
// Having taken the leader's lock, it waits for grace before it leads: the
// lock is free because the last leader's session ended, and that leader
// may not have noticed yet. It leads at once when nobody else ever joined
// (there was no leader) or when the last leader said it left (it stopped
// leading first).
func (m *member) serve(conn *pgx.Conn, tryAt time.Time) error {
	nextSeen := time.Now().Add(seenEvery)
	var (
		won       bool      // this session holds the leader's lock
		beginAt   time.Time // when it leads, once won
		nextCheck time.Time
	)
	defer func() { m.holds = won }()
	for {
		select {
		case <-m.ctx.Done():
			return errClosing
		default:
		}
		now := time.Now()
		left := m.takeLeft(now)
		switch {
		case won && !now.Before(nextCheck):
			if err := m.check(conn); err != nil {
				return err
			}
			nextCheck = now.Add(checkEvery)
		case !won && (left || !now.Before(tryAt)):
			var err error
			if won, err = m.try(conn); err != nil {
				return err
			}
			tryAt = now.Add(tryEvery)
			if won {
				nextCheck, beginAt = now.Add(checkEvery), now.Add(grace)
				alone, err := m.alone(conn)
				if err != nil {
					return err
				}
				if alone || left {
					beginAt = now
				} else {
					m.log.Info().Dur("grace", grace).Msg("took the leader's lock; leading once the last leader must have noticed it lost it")
				}
			}
		}
		if won && !m.IsLeader() && (left || !now.Before(beginAt)) {
			m.begin()
		}
		if !now.Before(nextSeen) {
			if err := m.seen(conn); err != nil {
				return err
			}
			nextSeen = now.Add(seenEvery)
		}
		if err := m.flush(conn); err != nil {
			return err
		}
		due := tryAt
		if won {
			due = nextCheck
			if !m.IsLeader() && beginAt.Before(due) {
				due = beginAt
			}
		}
		if nextSeen.Before(due) {
			due = nextSeen
		}
		if err := m.wait(conn, due); err != nil {
			return err
		}
	}
}

// takeLeft reports whether a leader said it left in the last grace, and
// forgets that it did.
func (m *member) takeLeft(now time.Time) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	left := !m.leftAt.IsZero() && now.Sub(m.leftAt) < grace
	m.leftAt = time.Time{}
	return left
}

// query runs one statement on the member's connection, bounded by
// queryTimeout (a statement cut short ends the connection).
func query(conn *pgx.Conn, sql string, args []any, dest ...any) error {
	ctx, cancel := context.WithTimeout(context.Background(), queryTimeout)
	defer cancel()
	if len(dest) == 0 {
		_, err := conn.Exec(ctx, sql, args...)
		return err
	}
	return conn.QueryRow(ctx, sql, args...).Scan(dest...)
}

// try tries for the leader's lock.
func (m *member) try(conn *pgx.Conn) (bool, error) {
	var won bool
	if err := query(conn, "SELECT pg_try_advisory_lock($1, $2)", []any{LockSpace, LeaderKey}, &won); err != nil {
		return false, fmt.Errorf("try for the lead: %w", err)
	}
	return won, nil
}

// alone reports whether no other member has a row: nobody else joined,
// so nobody else can believe it leads.
func (m *member) alone(conn *pgx.Conn) (bool, error) {
	var alone bool
	if err := query(conn, "SELECT NOT EXISTS (SELECT 1 FROM cluster_members WHERE id <> $1)", []any{m.id}, &alone); err != nil {
		return false, fmt.Errorf("look for other members: %w", err)
	}
	return alone, nil
}

// check makes sure this session still holds the leader's lock.
func (m *member) check(conn *pgx.Conn) error {
	var held bool
	err := query(conn, `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'advisory'
		AND granted AND objsubid = 2 AND classid::bigint = $1 AND objid::bigint = $2)`, []any{LockSpace, LeaderKey}, &held)
	switch {
	case err != nil:
		return fmt.Errorf("check the lead: %w", err)
	case !held:
		return errors.New("check the lead: the leader's lock is not held")
	}
	return nil
}

// seen writes seen_at, and the row again if it is gone: the member was
// taken for departed while its connection was away.
func (m *member) seen(conn *pgx.Conn) error {
	var inserted bool
	err := query(conn, `INSERT INTO cluster_members (id, host, pid) VALUES ($1, $2, $3)
		ON CONFLICT (id) DO UPDATE SET seen_at = now() RETURNING xmax = 0`, []any{m.id, m.host, m.pid}, &inserted)
	if err != nil {
		return fmt.Errorf("write seen_at: %w", err)
	}
	if inserted {
		m.log.Error().Msg("this member's row was gone: it was taken for departed while away, and its work may have been taken over")
	}
	return nil
}

// flush sends the queued nudges, in one statement. Those it could not send
// go back to the queue for the next connection.
func (m *member) flush(conn *pgx.Conn) error {
	m.mu.Lock()
	q := m.queue
	m.queue = nil
	m.mu.Unlock()
	if len(q) == 0 {
		return nil
	}
	err := query(conn, "SELECT pg_notify($1, n) FROM unnest($2::text[]) AS n", []any{channel, q})
	if err != nil {
		m.mu.Lock()
		m.queue = append(q, m.queue...)
		if over := len(m.queue) - queueCap; over > 0 {
			m.queue = m.queue[over:]
		}
		m.mu.Unlock()
		return fmt.Errorf("send nudges: %w", err)
	}
	return nil
}

// wait waits for nudges until due, Publish or Close. Nudges arriving are
// handed to received by the connection, here or during any statement.
func (m *member) wait(conn *pgx.Conn, due time.Time) error {
	ctx, cancel := context.WithDeadline(context.Background(), due)
	defer cancel()
	m.mu.Lock()
	pending := len(m.queue) > 0
	if !pending {
		m.wake = cancel
	}
	m.mu.Unlock()
	if pending {
		return nil
	}
	select {
	case <-m.ctx.Done():
		cancel()
	default:
	}
	err := conn.PgConn().WaitForNotification(ctx)
	m.mu.Lock()
	m.wake = nil
	m.mu.Unlock()
	if err != nil && conn.IsClosed() {
		return fmt.Errorf("wait for nudges: %w", err)
	}
	return nil // a deadline cut the wait short: the connection is as it was
}

// received hands a nudge from another member to this one's subscribers.
func (m *member) received(pc *pgconn.PgConn, n *pgconn.Notification) {
	if n.Channel != channel || n.PID == pc.PID() {
		return // this member's own: delivered when published
	}
	topic, payload, ok := strings.Cut(n.Payload, ":")
	switch {
	case ok && topic == leftTopic:
		m.mu.Lock()
		m.leftAt = time.Now()
		m.mu.Unlock()
	case !ok || checkTopic(topic) != nil:
		m.log.Warn().Int("bytes", len(n.Payload)).Msg("malformed nudge ignored")
	default:
		m.deliver(topic, payload)
	}
}

// reconnect makes a new connection with backoff, takes the member's lock
// again (ending an old session of this member that still holds it: a
// connection the server has not yet seen die) and writes its row. It
// returns nil once Close is called.
func (m *member) reconnect() *pgx.Conn {
	delay := 250 * time.Millisecond
	for {
		// A little jitter, so that members cut off together do not return
		// in step.
		d := delay/2 + rand.N(delay/2+1)
		t := time.NewTimer(d)
		select {
		case <-m.ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		conn, err := m.rejoin()
		if err == nil {
			return conn
		}
		m.log.Warn().Err(err).Dur("retry_in", delay).Msg("cluster reconnect failed")
		delay = min(2*delay, backoffMax)
	}
}

// rejoin is one attempt of reconnect.
func (m *member) rejoin() (*pgx.Conn, error) {
	ctx, cancel := context.WithTimeout(m.ctx, m.cfg.ConnectTimeout+2*queryTimeout)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, m.cfg)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	fail := func(err error) (*pgx.Conn, error) {
		closeConn(conn)
		return nil, err
	}
	var locked bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1, $2)", LockSpace, m.num).Scan(&locked); err != nil {
		return fail(fmt.Errorf("take the member's lock: %w", err))
	}
	if !locked {
		// Only an old session of this member holds its lock.
		if _, err := conn.Exec(ctx, `SELECT pg_terminate_backend(pid, 2000) FROM pg_locks
			WHERE locktype = 'advisory' AND granted AND objsubid = 2 AND classid::bigint = $1 AND objid::bigint = $2
			  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`, LockSpace, m.num); err != nil {
			return fail(fmt.Errorf("end the member's old session: %w", err))
		}
		if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1, $2)", LockSpace, m.num).Scan(&locked); err != nil {
			return fail(fmt.Errorf("take the member's lock: %w", err))
		}
		if !locked {
			return fail(errors.New("the member's lock is still held by its old session"))
		}
	}
	if err := m.seen(conn); err != nil {
		return fail(err)
	}
	if err := m.listen(ctx, conn); err != nil {
		return fail(err)
	}
	return conn, nil
}

// quit leaves the cluster on Close: the lead ends here first, then its lock
// goes and the others hear it left, then the connection and the member's
// lock. The member's row stays: the leader finds it departed, takes over
// the work the store still marks with its id (orders a stop left pending,
// events not yet sent), and forgets it.
func (m *member) quit(conn *pgx.Conn) error {
	leading := m.IsLeader()
	m.end(nil)
	if !m.drain(leaveWait) {
		m.log.Warn().Dur("waited", leaveWait).Msg("the leader's work has not stopped; letting the lead go regardless")
	}
	var errs []error
	if m.holds {
		// The lock goes first: a member that hears the leader left tries
		// for it at once. Only a member that led says so: one still
		// waiting out its grace would vouch for the leader before it.
		if err := query(conn, "SELECT pg_advisory_unlock($1, $2)", []any{LockSpace, LeaderKey}); err != nil {
			errs = append(errs, fmt.Errorf("cluster: let the lead go: %w", err))
		} else if leading {
			if err := query(conn, "SELECT pg_notify($1, $2)", []any{channel, leftTopic + ":" + m.id}); err != nil {
				errs = append(errs, fmt.Errorf("cluster: say the leader left: %w", err))
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), queryTimeout)
	defer cancel()
	if err := conn.Close(ctx); err != nil {
		errs = append(errs, fmt.Errorf("cluster: close the connection: %w", err))
	}
	m.log.Info().Msg("left the cluster")
	return errors.Join(errs...)
}
