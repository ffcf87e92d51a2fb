package cluster

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"
)

// Advisory locks the members take, in PostgreSQL's two-key form, which
// never meets the one-key locks of storage/kv/pgkv.
const (
	// LockSpace is the first key of every lock: "cfcl".
	LockSpace int32 = 0x6366636c
	// LeaderKey is the second key of the leader's lock. A member's own lock,
	// held for as long as it is alive, has its number (its ID in hex, never
	// 0) as second key.
	LeaderKey int32 = 0
)

// channel is the LISTEN/NOTIFY channel of nudges.
const channel = "cardflow_cluster"

// leftTopic is the nudge a leader sends when it has stopped leading and
// let the lock go on Close; the members handle it themselves.
const leftTopic = "cluster.left"

// Timing (docs/cluster.md says what it adds up to).
const (
	// tryEvery is how often a member that does not lead tries for the lock.
	tryEvery = 500 * time.Millisecond
	// checkEvery is how often the leader makes sure it still leads.
	checkEvery = time.Second
	// queryTimeout bounds every statement on a member's connection; one that
	// runs out ends the connection, and with it the lead.
	queryTimeout = 2 * time.Second
	// seenEvery is how often a member's seen_at is written, for people.
	seenEvery = 5 * time.Second
	// holdOff is how long a member that got its connection back waits
	// before trying for the lead: another member, whose connection did not
	// fail, should have it.
	holdOff = time.Second
	// grace is how long a member that took the leader's lock waits before it
	// leads, unless the last leader said it left: longer than that leader
	// can take to notice that its session ended (its next check, cut short
	// by queryTimeout), so that two never lead at once.
	grace = checkEvery + queryTimeout + 500*time.Millisecond
	// connectTimeout bounds a connection attempt when the URL sets none.
	connectTimeout = 5 * time.Second
	// backoffMax bounds the wait between two reconnection attempts.
	backoffMax = 5 * time.Second
	// leaveWait bounds how long Close waits for the leader's work to stop
	// before it lets the lock go.
	leaveWait = 5 * time.Second
	// queueCap bounds the nudges waiting to be sent; the oldest go first.
	queueCap = 64
)

// Keepalives of a member's connection, set on the server's side of it: a
// host that vanished without closing its socket is taken for dead, and its
// locks let go, about 5 s after it last spoke (2 s idle, then 3 probes a
// second apart; tcp_user_timeout does the same for data left
// unacknowledged). A member speaks at least every second, so no probe goes
// out while it lives. Over a unix socket the server ignores them.
var keepalives = map[string]string{
	"tcp_keepalives_idle":     "2",
	"tcp_keepalives_interval": "1",
	"tcp_keepalives_count":    "3",
	"tcp_user_timeout":        "5000",
}

// Options configure Join.
type Options struct {
	// Log receives what the member sees: the lead taken and lost, departed
	// members, its connection lost and back.
	Log zerolog.Logger
	// Host names this machine in the members table; "": its hostname.
	Host string
}

// Join makes this process a member of the processes sharing the PostgreSQL
// database url names (a libpq URL or key=value DSN). The database must have
// the store's tables (storage.OpenPostgres creates them, cluster_members
// among them). The member keeps one connection of its own (application_name
// "cardflow member ID"): it is alive while that connection holds its lock,
// and it competes for the lead on it. ctx bounds joining.
func Join(ctx context.Context, url string, opts Options) (Member, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = connectTimeout
	}
	for k, v := range keepalives {
		cfg.RuntimeParams[k] = v
	}
	poolCfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	poolCfg.MaxConns = 2
	if poolCfg.ConnConfig.RuntimeParams["application_name"] == "" {
		poolCfg.ConnConfig.RuntimeParams["application_name"] = "cardflow"
	}
	host := opts.Host
	if host == "" {
		host, _ = os.Hostname()
	}
	m := &member{cfg: cfg, host: host, pid: os.Getpid(), changed: make(chan struct{}), subs: map[string][]func(string){},
		done: make(chan struct{})}
	// The pool connects when first used.
	if m.pool, err = pgxpool.NewWithConfig(context.Background(), poolCfg); err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	m.ctx, m.stop = context.WithCancel(context.Background())
	cfg.OnNotification = m.received
	conn, err := m.enter(ctx)
	if err != nil {
		m.stop()
		m.pool.Close()
		return nil, err
	}
	m.log = opts.Log.With().Str("component", "cluster").Str("member", m.id).Logger()
	m.log.Info().Str("host", host).Int("pid", m.pid).Msg("joined the cluster")
	go m.run(conn)
	return m, nil
}

// member is a process of the cluster on PostgreSQL. Its connection belongs
// to run's goroutine; the other methods reach it through the fields below.
type member struct {
	cfg  *pgx.ConnConfig
	pool *pgxpool.Pool // for Departed and Forget, apart from the connection that keeps the locks
	log  zerolog.Logger
	id   string
	num  int32 // the second key of its lock; id is its hex
	host string
	pid  int
	// holds says, when serve returns, whether its session held the
	// leader's lock (run's goroutine alone reads and writes it).
	holds bool

	ctx       context.Context // ends at Close
	stop      context.CancelFunc
	done      chan struct{} // closed when run has returned
	closeOnce sync.Once
	closeErr  error

	mu      sync.Mutex
	term    *term         // while it leads
	changed chan struct{} // closed and replaced when term changes
	running int           // Lead functions running
	drained chan struct{} // closed when running falls to 0, if someone waits
	subs    map[string][]func(string)
	queue   []string           // nudges to send, "topic:payload"
	wake    context.CancelFunc // cuts run's wait short
	departs map[string]bool    // departed members already logged
	leftAt  time.Time          // when a leader last said it left
}

// term is one spell as leader.
type term struct {
	ctx    context.Context
	cancel context.CancelFunc
}

func (m *member) ID() string { return m.id }

func (m *member) IsLeader() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.term != nil
}

func (m *member) Lead(ctx context.Context, name string, fn func(ctx context.Context)) {
	checkLead(name, fn)
	for {
		t := m.await(ctx)
		if t == nil {
			return
		}
		lctx, cancel := context.WithCancel(ctx)
		stop := context.AfterFunc(t.ctx, cancel)
		m.log.Debug().Str("task", name).Msg("leader's task started")
		fn(lctx)
		stop()
		cancel()
		m.leave()
		select {
		case <-t.ctx.Done():
		case <-ctx.Done():
			return
		}
	}
}

// await waits until this member leads and counts a Lead function in; nil
// when ctx ends or the member closes first.
func (m *member) await(ctx context.Context) *term {
	for {
		m.mu.Lock()
		if t := m.term; t != nil {
			m.running++
			m.mu.Unlock()
			return t
		}
		changed := m.changed
		m.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil
		case <-m.ctx.Done():
			return nil
		case <-changed:
		}
	}
}

// leave counts a Lead function out.
func (m *member) leave() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.running--
	if m.running == 0 && m.drained != nil {
		close(m.drained)
		m.drained = nil
	}
}

// drain waits until no Lead function runs, at most d.
func (m *member) drain(d time.Duration) bool {
	m.mu.Lock()
	if m.running == 0 {
		m.mu.Unlock()
		return true
	}
	if m.drained == nil {
		m.drained = make(chan struct{})
	}
	ch := m.drained
	m.mu.Unlock()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
		return true
	case <-t.C:
		return false
	}
}

// begin starts a term as leader.
func (m *member) begin() {
	m.mu.Lock()
	ctx, cancel := context.WithCancel(context.Background())
	m.term = &term{ctx: ctx, cancel: cancel}
	close(m.changed)
	m.changed = make(chan struct{})
	m.mu.Unlock()
	m.log.Info().Msg("became the leader")
}

// end ends the term, if any: every Lead function's context ends now.
func (m *member) end(why error) {
	m.mu.Lock()
	t := m.term
	m.term = nil
	if t != nil {
		t.cancel()
		close(m.changed)
		m.changed = make(chan struct{})
	}
	m.mu.Unlock()
	switch {
	case t == nil:
	case why != nil:
		m.log.Warn().Err(why).Msg("lost the lead")
	default:
		m.log.Info().Msg("gave up the lead")
	}
}

func (m *member) Publish(topic, payload string) {
	mustTopic(topic)
	if err := checkPayload(payload); err != nil {
		m.log.Error().Err(err).Str("topic", topic).Msg("nudge dropped")
		return
	}
	m.deliver(topic, payload)
	nudge := topic + ":" + payload
	m.mu.Lock()
	for _, q := range m.queue {
		if q == nudge {
			m.mu.Unlock()
			return // one nudge says it already
		}
	}
	if len(m.queue) == queueCap {
		m.queue = m.queue[1:]
	}
	m.queue = append(m.queue, nudge)
	wake := m.wake
	m.mu.Unlock()
	if wake != nil {
		wake()
	}
}

func (m *member) Subscribe(topic string, fn func(string)) {
	checkSubscribe(topic, fn)
	m.mu.Lock()
	m.subs[topic] = append(m.subs[topic], fn)
	m.mu.Unlock()
}

// deliver hands a nudge to this member's subscribers.
func (m *member) deliver(topic, payload string) {
	m.mu.Lock()
	subs := m.subs[topic]
	m.mu.Unlock()
	for _, fn := range subs {
		fn(payload)
	}
}

func (m *member) Departed(ctx context.Context) ([]string, error) {
	type row struct {
		id, host string
		pid      int32
		seen     time.Time
	}
	rows, err := m.pool.Query(ctx, "SELECT id, host, pid, seen_at FROM cluster_members WHERE id <> $1 ORDER BY id", m.id)
	if err != nil {
		return nil, fmt.Errorf("cluster: list members: %w", err)
	}
	var members []row
	var r row
	if _, err := pgx.ForEachRow(rows, []any{&r.id, &r.host, &r.pid, &r.seen}, func() error {
		members = append(members, r)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("cluster: list members: %w", err)
	}
	if len(members) == 0 {
		return nil, nil
	}
	// The locks are read after the rows: a member takes its lock before
	// it writes its row, so one that joined meanwhile is not taken for
	// departed.
	alive, err := m.alive(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.departs == nil {
		m.departs = map[string]bool{}
	}
	for _, r := range members {
		if n, ok := parseID(r.id); ok && alive[n] {
			continue
		}
		out = append(out, r.id)
		if !m.departs[r.id] {
			m.departs[r.id] = true
			m.log.Info().Str("departed", r.id).Str("host", r.host).Int32("pid", r.pid).Time("seen_at", r.seen).Msg("departed member seen")
		}
	}
	return out, nil
}

// alive reads which members' locks are held now, by number.
func (m *member) alive(ctx context.Context) (map[int32]bool, error) {
	rows, err := m.pool.Query(ctx, `SELECT objid::bigint FROM pg_locks
		WHERE locktype = 'advisory' AND granted AND objsubid = 2 AND classid::bigint = $1
		  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`, LockSpace)
	if err != nil {
		return nil, fmt.Errorf("cluster: read the members' locks: %w", err)
	}
	alive := map[int32]bool{}
	var n int64
	if _, err := pgx.ForEachRow(rows, []any{&n}, func() error {
		alive[int32(n)] = true
		return nil
	}); err != nil {
		return nil, fmt.Errorf("cluster: read the members' locks: %w", err)
	}
	return alive, nil
}

func (m *member) Forget(ctx context.Context, id string) error {
	if id == m.id {
		return fmt.Errorf("cluster: member %s cannot forget itself", id)
	}
	n, ok := parseID(id)
	if !ok {
		n = LeaderKey // no member's lock: the row goes whatever it is
	}
	var gone, there bool
	err := m.pool.QueryRow(ctx, `WITH held AS (
		  SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2 AND classid::bigint = $2 AND objid::bigint = $3
		    AND database = (SELECT oid FROM pg_database WHERE datname = current_database())),
		gone AS (DELETE FROM cluster_members WHERE id = $1 AND ($3 = 0 OR NOT EXISTS (SELECT 1 FROM held)) RETURNING 1)
		SELECT EXISTS (SELECT 1 FROM gone), EXISTS (SELECT 1 FROM cluster_members WHERE id = $1)`,
		id, LockSpace, n).Scan(&gone, &there)
	if err != nil {
		return fmt.Errorf("cluster: forget member %s: %w", id, err)
	}
	if !gone && there {
		return fmt.Errorf("forget member %s: %w", id, ErrAlive)
	}
	m.mu.Lock()
	delete(m.departs, id)
	m.mu.Unlock()
	return nil
}

func (m *member) Close() error {
	m.closeOnce.Do(func() {
		m.stop()
		m.mu.Lock()
		wake := m.wake
		m.mu.Unlock()
		if wake != nil {
			wake()
		}
		<-m.done
		m.pool.Close()
	})
	return m.closeErr
}

// newNumber picks a member's number: random, positive, never LeaderKey.
func newNumber() int32 {
	for {
		var b [4]byte
		_, _ = rand.Read(b[:]) // crypto/rand.Read does not fail
		if n := int32(binary.BigEndian.Uint32(b[:]) & 0x7fffffff); n != LeaderKey {
			return n
		}
	}
}

// formatID is a member's ID: its number in hex.
func formatID(n int32) string { return fmt.Sprintf("%08x", n) }

// parseID reads a member's number back from its ID.
func parseID(id string) (int32, bool) {
	n, err := strconv.ParseUint(id, 16, 31)
	if err != nil || len(id) != 8 || n == 0 {
		return 0, false
	}
	return int32(n), true
}

// appName is the application_name of a member's connection.
func appName(id string) string { return "cardflow member " + id }

var errClosing = errors.New("cluster: closing")
