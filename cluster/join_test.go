package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"

	"cardflow/internal/pgtest"
	"cardflow/internal/testkit"
	"cardflow/storage"
	"cardflow/storage/kv/pgkv"
)

// database is a new database with the store's tables, as a process finds
// it once storage.OpenPostgres has run.
func database(t *testing.T) string {
	t.Helper()
	u := pgtest.URL(t)
	pool, err := pgxpool.New(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := pgkv.Migrate(context.Background(), pool, storage.Migrations()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return u
}

// testLog is a logger whose lines the test prints if it fails.
func testLog(t *testing.T) (zerolog.Logger, *testkit.Buffer) {
	buf := &testkit.Buffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("log:\n%s", buf.String())
		}
	})
	return zerolog.New(buf).With().Timestamp().Logger(), buf
}

// join makes a member of the database u points at, closed when the test
// ends.
func join(t *testing.T, u string) *member {
	t.Helper()
	m, _ := joinLogged(t, u)
	return m
}

// joinLogged is join, and the member's log.
func joinLogged(t *testing.T, u string) (*member, *testkit.Buffer) {
	t.Helper()
	log, buf := testLog(t)
	m, err := Join(context.Background(), u, Options{Log: log, Host: "test-host"})
	if err != nil {
		t.Fatalf("join: %v", err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m.(*member), buf
}

// leads watches who runs a Lead function, and whether two ever did at once.
type leads struct {
	mu      sync.Mutex
	running []string // ids of the members whose function runs
	most    int      // the most that ran at once
	starts  map[string]int
}

func newLeads() *leads { return &leads{starts: map[string]int{}} }

// follow runs m.Lead until the test ends.
func (l *leads) follow(t *testing.T, m Member) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	wg.Go(func() {
		m.Lead(ctx, "test", func(ctx context.Context) {
			l.mu.Lock()
			l.running = append(l.running, m.ID())
			l.most = max(l.most, len(l.running))
			l.starts[m.ID()]++
			l.mu.Unlock()
			<-ctx.Done()
			l.mu.Lock()
			for i, id := range l.running {
				if id == m.ID() {
					l.running = append(l.running[:i], l.running[i+1:]...)
					break
				}
			}
			l.mu.Unlock()
		})
	})
}

// leader is the member whose function runs, if exactly one does.
func (l *leads) leader() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.running) != 1 {
		return ""
	}
	return l.running[0]
}

// backAsFollower waits until leader sees no departed member (m, cut off
// or terminated, is alive again as itself), and fails the test if m then
// leads beside it or two ever led at once.
func (l *leads) backAsFollower(t *testing.T, leader, m Member, what string) {
	t.Helper()
	testkit.Eventually(t, what+" alive again", func() bool {
		departed, err := leader.Departed(context.Background())
		return err == nil && len(departed) == 0
	})
	if m.IsLeader() {
		t.Errorf("%s leads again beside the new leader", what)
	}
	l.overlapped(t)
}

// overlapped fails the test if two functions ever ran at once.
func (l *leads) overlapped(t *testing.T) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.most > 1 {
		t.Errorf("%d members led at once", l.most)
	}
}

// awaitLeader waits up to limit for one member's function to run, and
// returns that member.
func (l *leads) awaitLeader(t *testing.T, limit time.Duration, members ...*member) *member {
	t.Helper()
	var got *member
	testkit.EventuallyWithin(t, limit, "one member leading", func() bool {
		id := l.leader()
		for _, m := range members {
			if m.ID() == id && m.IsLeader() {
				got = m
			}
		}
		return got != nil
	})
	return got
}

// others are the members other than one.
func others(one *member, all ...*member) []*member {
	var out []*member
	for _, m := range all {
		if m != one {
			out = append(out, m)
		}
	}
	return out
}

// viaProxy is u through a proxy the test can cut.
func viaProxy(t *testing.T, u string) (string, *pgtest.Proxy) {
	p := pgtest.NewProxy(t, u)
	return p.URL(), p
}

// scalar runs a query of one int on the database u points at.
func scalar(t *testing.T, u, sql string, args ...any) int {
	t.Helper()
	return pgtest.Int(t, u, sql, args...)
}

// lockHolder is the application_name of the session that holds the
// leader's lock, by the query docs/cluster.md gives operators; "" if none.
func lockHolder(t *testing.T, u string) string {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var name string
	err = conn.QueryRow(context.Background(), `SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
		WHERE l.locktype = 'advisory' AND l.classid = 1667654508 AND l.objid = 0 AND l.objsubid = 2`).Scan(&name)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		t.Fatalf("the leader's query: %v", err)
	}
	return name
}

func TestThreeMembersElectExactlyOneLeader(t *testing.T) {
	u := database(t)
	l := newLeads()
	a, b, c := join(t, u), join(t, u), join(t, u)
	for _, m := range []*member{a, b, c} {
		l.follow(t, m)
	}
	leader := l.awaitLeader(t, 10*time.Second, a, b, c)
	// Watch for a while, as the others keep trying, that nobody else leads.
	testkit.Poll(4*tryEvery, 10*time.Millisecond, func() bool {
		for _, m := range others(leader, a, b, c) {
			if m.IsLeader() {
				t.Fatalf("%s leads beside %s", m.ID(), leader.ID())
			}
		}
		return false
	})
	l.overlapped(t)
	// The query docs/cluster.md gives operators names the leader.
	if name := lockHolder(t, u); name != "cardflow member "+leader.ID() {
		t.Errorf("the leader's query names %q, want the leader %s", name, leader.ID())
	}
	if int64(LockSpace) != 1667654508 {
		t.Errorf("LockSpace is %d, not the number docs/cluster.md gives", LockSpace)
	}
	if n := scalar(t, u, "SELECT count(*) FROM cluster_members WHERE host = 'test-host'"); n != 3 {
		t.Errorf("cluster_members holds %d rows, want the 3 members'", n)
	}
	if a.ID() == b.ID() || b.ID() == c.ID() || a.ID() == c.ID() || len(a.ID()) != 8 {
		t.Errorf("ids %q %q %q: want three different", a.ID(), b.ID(), c.ID())
	}
}

func TestClosingTheLeaderHandsTheLeadToAnotherWithinTwoSeconds(t *testing.T) {
	u := database(t)
	l := newLeads()
	a, b, c := join(t, u), join(t, u), join(t, u)
	for _, m := range []*member{a, b, c} {
		l.follow(t, m)
	}
	old := l.awaitLeader(t, 10*time.Second, a, b, c)
	closed := time.Now()
	if err := old.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if id := l.leader(); id == old.ID() || old.IsLeader() {
		t.Fatal("the closed member still leads after Close returned")
	}
	next := l.awaitLeader(t, 2*time.Second, others(old, a, b, c)...)
	t.Logf("%s led %v after %s closed", next.ID(), time.Since(closed).Round(time.Millisecond), old.ID())
	l.overlapped(t)
	// Its row stays for the leader, which takes over what the store still
	// marks with its id before forgetting it.
	departed, err := next.Departed(context.Background())
	if err != nil || !slices.Contains(departed, old.ID()) {
		t.Errorf("the closed member is not listed as departed: %v %v", departed, err)
	}
	// A closed member no longer leads, however long one waits for it.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	old.Lead(ctx, "after close", func(context.Context) { t.Error("a closed member ran a leader's function") })
	if ctx.Err() != nil {
		t.Error("Lead on a closed member waited for its context")
	}
}

func TestATerminatedLeaderStopsLeadingAndAnotherLeadsWithinTenSeconds(t *testing.T) {
	u := database(t)
	l := newLeads()
	a, b, c := join(t, u), join(t, u), join(t, u)
	for _, m := range []*member{a, b, c} {
		l.follow(t, m)
	}
	old := l.awaitLeader(t, 10*time.Second, a, b, c)
	killed := time.Now()
	if n := pgtest.Terminate(t, u, appName(old.ID())); n != 1 {
		t.Fatalf("terminated %d sessions named %q, want the leader's 1", n, appName(old.ID()))
	}
	next := l.awaitLeader(t, 10*time.Second, others(old, a, b, c)...)
	t.Logf("%s led %v after %s's connection was terminated", next.ID(), time.Since(killed).Round(time.Millisecond), old.ID())
	// The old leader comes back as itself, and follows.
	l.backAsFollower(t, next, old, "the terminated member")
}

func TestAMemberCutOffStopsLeadingWithinThreeSecondsAndNeverOverlapsANewLeader(t *testing.T) {
	u := database(t)
	l := newLeads()
	cutURL, proxy := viaProxy(t, u)
	a := join(t, cutURL)
	l.follow(t, a)
	l.awaitLeader(t, 5*time.Second, a) // alone, a leads
	b, c := join(t, u), join(t, u)
	l.follow(t, b)
	l.follow(t, c)

	cut := time.Now()
	proxy.Cut()
	testkit.EventuallyWithin(t, 3*time.Second, "the cut-off member to stop leading", func() bool {
		return !a.IsLeader() && l.leader() != a.ID()
	})
	stopped := time.Since(cut)
	next := l.awaitLeader(t, 10*time.Second, b, c)
	t.Logf("the cut-off leader stopped after %v; %s led after %v", stopped.Round(time.Millisecond), next.ID(),
		time.Since(cut).Round(time.Millisecond))
	l.overlapped(t)

	proxy.Restore()
	l.backAsFollower(t, next, a, "the cut-off member")
}

// TestAMemberThatClosesInItsGraceLeavesTheNextOneTheSameGrace: the member
// that took the lock from a leader cut off waits before it leads; closed
// meanwhile, it must not say it left, which would let the next lead at once
// while the cut-off leader may still believe it leads.
func TestAMemberThatClosesInItsGraceLeavesTheNextOneTheSameGrace(t *testing.T) {
	u := database(t)
	l := newLeads()
	cutURL, proxy := viaProxy(t, u)
	a := join(t, cutURL)
	l.follow(t, a)
	l.awaitLeader(t, 5*time.Second, a)
	b, c := join(t, u), join(t, u)
	l.follow(t, b)
	l.follow(t, c)
	proxy.Cut()
	var holder *member
	testkit.Eventually(t, "another member holding the leader's lock", func() bool {
		name := lockHolder(t, u)
		for _, m := range []*member{b, c} {
			if name == appName(m.ID()) {
				holder = m
			}
		}
		return holder != nil
	})
	if holder.IsLeader() {
		t.Fatal("the member leads as soon as it took the lock from a leader cut off")
	}
	next := others(holder, b, c)[0]
	closed := time.Now()
	if err := holder.Close(); err != nil {
		t.Fatal(err)
	}
	l.awaitLeader(t, 10*time.Second, next)
	if waited := time.Since(closed); waited < grace {
		t.Errorf("%s led %v after the member in its grace closed, want at least %v", next.ID(), waited, grace)
	}
	l.overlapped(t)
}

func TestDepartedListsAMemberGoneForGoodAndNotALiveOne(t *testing.T) {
	u := database(t)
	goneURL, proxy := viaProxy(t, u)
	a, logs := joinLogged(t, u)
	gone, live := join(t, goneURL), join(t, u)
	if departed, err := a.Departed(context.Background()); err != nil || len(departed) != 0 {
		t.Fatalf("Departed with every member alive = %v, %v", departed, err)
	}
	proxy.Cut() // its sessions end; it cannot come back
	var departed []string
	testkit.EventuallyWithin(t, 10*time.Second, "the cut-off member listed as departed", func() bool {
		var err error
		departed, err = a.Departed(context.Background())
		return err == nil && len(departed) == 1
	})
	if departed[0] != gone.ID() {
		t.Fatalf("Departed = %v, want only %s (live: %s)", departed, gone.ID(), live.ID())
	}
	if _, err := a.Departed(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(logs.String(), "departed member seen"); n != 1 {
		t.Errorf("the departed member was logged %d times over several calls, want once:\n%s", n, logs.String())
	}
	if err := a.Forget(context.Background(), live.ID()); !errors.Is(err, ErrAlive) {
		t.Errorf("Forget of a live member = %v, want ErrAlive", err)
	}
	if err := a.Forget(context.Background(), a.ID()); err == nil || !strings.Contains(err.Error(), "cannot forget itself") {
		t.Errorf("Forget of itself = %v, want an error", err)
	}
	if err := a.Forget(context.Background(), gone.ID()); err != nil {
		t.Fatalf("Forget: %v", err)
	}
	if departed, err := a.Departed(context.Background()); err != nil || len(departed) != 0 {
		t.Fatalf("Departed after Forget = %v, %v", departed, err)
	}
	if err := a.Forget(context.Background(), gone.ID()); err != nil {
		t.Errorf("Forget of a member forgotten already = %v, want nil", err)
	}
	// Back after all, it writes its row again and is alive to the others.
	proxy.Restore()
	testkit.Eventually(t, "the forgotten member's row written again", func() bool {
		return scalar(t, u, "SELECT count(*) FROM cluster_members WHERE id = $1", gone.ID()) == 1
	})
	if departed, err := live.Departed(context.Background()); err != nil || len(departed) != 0 {
		t.Errorf("Departed once it is back = %v, %v", departed, err)
	}
}

// inbox records the nudges a member's subscriber gets.
type inbox struct {
	mu  sync.Mutex
	got []string
}

func (b *inbox) add(p string) {
	b.mu.Lock()
	b.got = append(b.got, p)
	b.mu.Unlock()
}

func (b *inbox) has(p string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, g := range b.got {
		if g == p {
			return true
		}
	}
	return false
}

func TestPublishReachesEveryMemberIncludingItself(t *testing.T) {
	u := database(t)
	members := []*member{join(t, u), join(t, u), join(t, u)}
	boxes := make([]*inbox, len(members))
	others := make([]*inbox, len(members))
	for i, m := range members {
		boxes[i], others[i] = &inbox{}, &inbox{}
		m.Subscribe("stock", boxes[i].add)
		m.Subscribe("chat", others[i].add)
	}
	members[0].Publish("stock", "qb-10:with a colon")
	if !boxes[0].has("qb-10:with a colon") {
		t.Error("the publisher's own subscriber did not get the nudge at once")
	}
	for i := range members {
		testkit.Eventually(t, fmt.Sprintf("member %d's nudge", i), func() bool { return boxes[i].has("qb-10:with a colon") })
	}
	members[2].Publish("stock", "")
	for i := range members {
		testkit.Eventually(t, fmt.Sprintf("member %d's empty nudge", i), func() bool { return boxes[i].has("") })
	}
	for i, b := range others {
		if len(b.got) != 0 {
			t.Errorf("member %d's chat subscriber got %q", i, b.got)
		}
	}
}

func TestPublishNeverWaitsOnTheNetworkAndKeepsTheNewestNudges(t *testing.T) {
	u := database(t)
	cutURL, proxy := viaProxy(t, u)
	a, b := join(t, cutURL), join(t, u)
	own, theirs := &inbox{}, &inbox{}
	a.Subscribe("n", own.add)
	b.Subscribe("n", theirs.add)
	proxy.Cut()
	testkit.Eventually(t, "the cut-off member to notice", func() bool {
		return scalar(t, u, "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", appName(a.ID())) == 0
	})
	done := make(chan struct{})
	go func() {
		for i := range 2 * queueCap {
			a.Publish("n", fmt.Sprint(i))
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Publish waited with the database out of reach")
	}
	if !own.has("0") || !own.has(fmt.Sprint(2*queueCap-1)) {
		t.Error("the member's own subscriber missed nudges published while cut off")
	}
	proxy.Restore()
	last := fmt.Sprint(2*queueCap - 1)
	testkit.Eventually(t, "the newest nudge sent once the member is back", func() bool { return theirs.has(last) })
	if theirs.has("0") {
		t.Errorf("the oldest nudge was kept past the queue's %d", queueCap)
	}
	if !theirs.has(fmt.Sprint(queueCap)) {
		t.Errorf("nudge %d, among the newest %d, was lost", queueCap, queueCap)
	}
}

func TestJoinRefusesWhatItCannotJoin(t *testing.T) {
	noTable := pgtest.URL(t)
	for _, tc := range []struct {
		name, url, want string
	}{
		{"unreachable", "postgres://cardflow@127.0.0.1:1/none?connect_timeout=2", "cluster: connect to the database"},
		{"not a URL", "postgres://%zz", "cluster: cannot parse"},
		{"no members table", noTable, "no cluster_members table"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			m, err := Join(ctx, tc.url, Options{})
			if err == nil {
				_ = m.Close()
				t.Fatalf("Join(%q) joined", tc.url)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Join(%q) = %v, want it to say %q", tc.url, err, tc.want)
			}
		})
	}
}

func TestAJoinedMemberRefusesBadInput(t *testing.T) {
	m, buf := joinLogged(t, database(t))
	badInput(t, m)
	// A payload that cannot travel is dropped, and said so in the log.
	got := &inbox{}
	m.Subscribe("x", got.add)
	for _, p := range []string{strings.Repeat("a", MaxPayload+1), "nul\x00byte", "bad \xff utf-8"} {
		m.Publish("x", p)
		if got.has(p) {
			t.Errorf("payload %.20q delivered", p)
		}
	}
	if n := strings.Count(buf.String(), "nudge dropped"); n != 3 {
		t.Errorf("%d drops logged, want 3:\n%s", n, buf.String())
	}
}
