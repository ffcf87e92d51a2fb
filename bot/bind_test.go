package bot

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"cardflow/config"
)

var bindCodeRE = regexp.MustCompile(`/bind ([2-9A-Z]{8})`)

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
	b := New(Options{Engine: f.engine, Auth: AnyOf{operators, NewBound(f.engine, ops)}, Roster: Roster(ops),
		Log: zerolog.Nop(), Now: f.clock.Now})
	qqMember := Identity{Platform: "qq", UserID: "GROUP1/MEMBER9", Name: "小王"}
	other := Identity{Platform: "qq", UserID: "GROUP1/MEMBER10"}

	if r := f.send(b, qqMember, "/pending"); !strings.Contains(r.Text, "不是本店的操作员") {
		t.Fatalf("an unbound QQ member got %q", r.Text)
	}
	issued := f.send(b, adminID, "/bind alice").Text
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

	late := bindCodeRE.FindStringSubmatch(f.send(b, adminID, "/bind alice").Text)[1]
	f.clock.Advance(16 * time.Minute)
	if r := f.send(b, other, "/bind "+late); !strings.Contains(r.Text, "无效") {
		t.Fatalf("an expired code answered %q", r.Text)
	}
	if r := f.send(b, viewerID, "/bind alice"); bindCodeRE.MatchString(r.Text) {
		t.Fatalf("a viewer got a code: %q", r.Text)
	}
	if r := f.send(b, adminID, "/bind mallory"); !strings.Contains(r.Text, "没有操作员 mallory") {
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
