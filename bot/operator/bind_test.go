package operator

import (
	"bytes"
	"context"
	"crypto/sha256"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	bolt "go.etcd.io/bbolt"

	"cardflow/bot/chat"
	"cardflow/config"
	"cardflow/storage"
)

// A bind code is three groups of five characters of an alphabet without
// 0/O/1/I/L: 31^15, about 74 bits.
var bindCodeRE = regexp.MustCompile(`/bind ([2-9A-HJKMNP-Z]{5}-[2-9A-HJKMNP-Z]{5}-[2-9A-HJKMNP-Z]{5})\b`)

// TestBindCodeMakesAQQIdentityAnOperator: an admin on Telegram issues a
// code for alice; a QQ member who is nobody yet is refused /pending, a
// wrong code binds nothing, the right one makes them alice (an operator)
// and works once only; a code used after 15 minutes is refused; a viewer
// cannot issue codes, nor can anyone for a name not in the config. Every
// step is audited.
func TestBindCodeMakesAQQIdentityAnOperator(t *testing.T) {
	f := newFixture(t)
	ops := []config.Operator{{Name: "alice", Role: config.RoleOperator}, {Name: "carol", Role: config.RoleAdmin},
		{Name: "vera", Role: config.RoleViewer}}
	b := New(Options{Orders: f.engine, Reports: f.reports(), Bindings: f.bindings(), Silences: f.silences(), Auth: AnyOf{operators, NewBound(f.bindings(), ops)}, Roster: Roster(ops),
		Log: zerolog.Nop(), Now: f.clock.Now})
	qqMember := chat.Identity{Platform: "qq", UserID: "GROUP1/MEMBER9", Name: "小王"}
	other := chat.Identity{Platform: "qq", UserID: "GROUP1/MEMBER10"}

	if r := f.send(b, qqMember, "/pending"); !strings.Contains(r.Text, "不是本店的操作员") {
		t.Fatalf("an unbound QQ member got %q", r.Text)
	}
	issued := f.sendPrivate(b, adminID, "/bind alice").Text
	m := bindCodeRE.FindStringSubmatch(issued)
	if m == nil {
		t.Fatalf("no code in %q", issued)
	}
	code := m[1]
	if r := f.send(b, qqMember, "/bind ZZZZ2222"); !strings.Contains(r.Text, "无效") {
		t.Fatalf("a wrong code answered %q", r.Text)
	}
	if r := f.send(b, qqMember, "/bind "+strings.ToLower(code)); !strings.Contains(r.Text, "已绑定为操作员 alice") {
		t.Fatalf("the right code answered %q", r.Text)
	}
	if r := f.send(b, qqMember, "/pending"); strings.Contains(r.Text, "不是本店的操作员") {
		t.Fatalf("a bound member is still refused: %q", r.Text)
	}
	if r := f.send(b, other, "/bind "+code); !strings.Contains(r.Text, "无效") {
		t.Fatalf("a used code bound a second identity: %q", r.Text)
	}

	late := bindCodeRE.FindStringSubmatch(f.sendPrivate(b, adminID, "/bind alice").Text)[1]
	f.clock.Advance(16 * time.Minute)
	if r := f.send(b, other, "/bind "+late); !strings.Contains(r.Text, "无效") {
		t.Fatalf("an expired code answered %q", r.Text)
	}
	if r := f.sendPrivate(b, viewerID, "/bind alice"); bindCodeRE.MatchString(r.Text) {
		t.Fatalf("a viewer got a code: %q", r.Text)
	}
	if r := f.sendPrivate(b, adminID, "/bind mallory"); !strings.Contains(r.Text, "没有操作员 mallory") {
		t.Fatalf("a code for an unknown name: %q", r.Text)
	}
	var outcomes []string
	for _, e := range f.audit(50) {
		if strings.HasPrefix(e.Action, "bind") || e.Action == "/bind" {
			outcomes = append(outcomes, e.Action+" "+e.Outcome)
		}
	}
	for _, want := range []string{"bind.issue ok", "bind ok", "bind refused", "/bind refused"} {
		if !strings.Contains(strings.Join(outcomes, ","), want) {
			t.Errorf("audit lacks %q: %v", want, outcomes)
		}
	}
	if strings.Contains(strings.Join(outcomes, ","), code) {
		t.Error("a bind code is in the audit log")
	}
}

// bindBot is an operator layer that knows QQ's bound identities.
func bindBot(f *fixture) *Handler {
	ops := []config.Operator{{Name: "alice", Role: config.RoleOperator}, {Name: "carol", Role: config.RoleAdmin},
		{Name: "vera", Role: config.RoleViewer}}
	return New(Options{Orders: f.engine, Reports: f.reports(), Bindings: f.bindings(), Silences: f.silences(), Auth: AnyOf{operators, NewBound(f.bindings(), ops)}, Roster: Roster(ops),
		Log: zerolog.Nop(), Now: f.clock.Now})
}

// TestBindCodeIsNeverPostedInAGroupChat: an admin's "/bind alice" typed in
// a group would show the code to everyone there, who could bind
// themselves as alice first. It is refused with a hint, and no code is
// issued.
func TestBindCodeIsNeverPostedInAGroupChat(t *testing.T) {
	f := newFixture(t)
	b := bindBot(f)
	r, _ := b.Handle(context.Background(), chat.Message{From: adminID, Text: "/bind alice"}) // a group: not private
	if bindCodeRE.MatchString(r.Text) || regexp.MustCompile(`[2-9A-Z]{8}`).MatchString(r.Text) {
		t.Fatalf("a bind code was posted in a group: %q", r.Text)
	}
	containsAll(t, "/bind in a group", r.Text, "私聊")
	for _, e := range f.audit(5) {
		if e.Action == "bind.issue" {
			t.Fatalf("a code was issued for a group: %+v", e)
		}
	}
	if r := f.sendPrivate(b, adminID, "/bind alice"); !bindCodeRE.MatchString(r.Text) {
		t.Fatalf("no code in a private chat: %q", r.Text)
	}
}

// TestBindCodesAreLongAndAcceptedHoweverTyped: a code has at least 60
// bits, and is accepted in lower case, without its dashes or with spaces.
func TestBindCodesAreLongAndAcceptedHoweverTyped(t *testing.T) {
	f := newFixture(t)
	b := bindBot(f)
	for i, spell := range []func(string) string{
		strings.ToLower,
		func(c string) string { return strings.ReplaceAll(c, "-", "") },
		func(c string) string { return strings.ToLower(strings.ReplaceAll(c, "-", " ")) },
		func(c string) string { return c },
	} {
		code, _, err := f.bindings().Issue(storage.Actor{Name: "carol", Platform: "telegram"}, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if !bindCodeRE.MatchString("/bind " + code) {
			t.Fatalf("code %q is not three groups of five", code)
		}
		member := chat.Identity{Platform: "qq", UserID: "G/" + string(rune('a'+i))}
		if r := f.send(b, member, "/bind "+spell(code)); !strings.Contains(r.Text, "已绑定为操作员 alice") {
			t.Fatalf("code %q typed as %q answered %q", code, spell(code), r.Text)
		}
	}
}

// backupDB copies the store to a file and opens the copy with bbolt.
func backupDB(t *testing.T, f *fixture) *bolt.DB {
	t.Helper()
	if f.store.Postgres() {
		t.Skip("reads the stored bytes from a bbolt backup; on PostgreSQL the same storage code writes them (storage's tests read its tables)")
	}
	path := filepath.Join(t.TempDir(), "copy.db")
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.engine.Backup(out, nil); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestBindCodesAreStoredKeyedAndPurgedWhenExpired: a copy of the database
// holds no plain SHA-256 of a code (31^8 codes hashed without a key are
// searched in minutes), and a code past its time does not stay in it.
func TestBindCodesAreStoredKeyedAndPurgedWhenExpired(t *testing.T) {
	f := newFixture(t)
	actor := storage.Actor{Name: "carol", Platform: "telegram"}
	old, _, err := f.bindings().Issue(actor, "alice")
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(16 * time.Minute)
	code, _, err := f.bindings().Issue(actor, "vera")
	if err != nil {
		t.Fatal(err)
	}
	db := backupDB(t, f)
	var keys [][]byte
	err = db.View(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("bindcodes")).ForEach(func(k, _ []byte) error {
			keys = append(keys, append([]byte(nil), k...))
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 {
		t.Errorf("%d codes stored, want 1: the expired one is purged when a new one is issued", len(keys))
	}
	for _, c := range []string{old, code, strings.ReplaceAll(code, "-", "")} {
		sum := sha256.Sum256([]byte(c))
		for _, k := range keys {
			if bytes.Equal(k, sum[:]) {
				t.Errorf("code %q is stored as its bare SHA-256", c)
			}
		}
	}
}

// TestUnbindRemovesAnOperatorsBoundIdentities: after "/unbind alice" (an
// admin), the QQ identities alice bound are strangers again and her
// unused codes bind nobody; it is audited; an operator cannot unbind.
func TestUnbindRemovesAnOperatorsBoundIdentities(t *testing.T) {
	f := newFixture(t)
	b := bindBot(f)
	actor := storage.Actor{Name: "carol", Platform: "telegram"}
	member := chat.Identity{Platform: "qq", UserID: "GROUP1/MEMBER9"}
	code, _, err := f.bindings().Issue(actor, "alice")
	if err != nil {
		t.Fatal(err)
	}
	f.send(b, member, "/bind "+code)
	unused, _, err := f.bindings().Issue(actor, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if r := f.send(b, aliceID, "/unbind alice"); strings.Contains(r.Text, "已解除") {
		t.Fatalf("an operator unbound alice: %q", r.Text)
	}
	if r := f.send(b, member, "/pending"); strings.Contains(r.Text, "不是本店的操作员") {
		t.Fatalf("alice's identity was unbound by an operator: %q", r.Text)
	}
	r := f.send(b, adminID, "/unbind alice")
	containsAll(t, "/unbind alice", r.Text, "alice", "1")
	if r := f.send(b, member, "/pending"); !strings.Contains(r.Text, "不是本店的操作员") {
		t.Fatalf("an unbound identity still acts as alice: %q", r.Text)
	}
	other := chat.Identity{Platform: "qq", UserID: "GROUP1/MEMBER10"}
	if r := f.send(b, other, "/bind "+unused); !strings.Contains(r.Text, "无效") {
		t.Fatalf("a code issued before the unbind still binds: %q", r.Text)
	}
	found := false
	for _, e := range f.audit(20) {
		if e.Action == "unbind" && e.Target == "alice" && e.Outcome == "ok" && e.Actor.Name == "carol" {
			found = true
		}
	}
	if !found {
		t.Errorf("no audit entry of carol's unbind: %+v", f.audit(5))
	}
}
