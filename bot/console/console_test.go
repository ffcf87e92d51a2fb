package console

import (
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"

	"cardflow/alert"
	"cardflow/bot/chat"
	"cardflow/bot/operator"
	"cardflow/internal/testkit"
	"cardflow/storage"
)

// inOrder fails unless each of subs occurs in text after the one before.
func inOrder(t *testing.T, text string, subs ...string) {
	t.Helper()
	rest := text
	for _, s := range subs {
		i := strings.Index(rest, s)
		if i < 0 {
			t.Errorf("want %q (after the previous expectations) in output:\n%s", s, text)
			return
		}
		rest = rest[i+len(s):]
	}
}

func TestRunAnswersTypedCommandsAndShowsButtonsAsCommands(t *testing.T) {
	f := newFixture(t)
	d := f.submit("10.00")
	f.waitStatus(d.ID, storage.StatusDelivered)
	f.submit("800.00") // #2, held for review

	s := run(t, f.bot(""))
	for _, line := range []string{"/order 1", "stock", "order 2", "", "   ", "/frobnicate", "hello there", "/pending"} {
		s.typeLine(t, line)
	}
	s.in.Close()
	if err := s.wait(t); err != nil {
		t.Fatalf("Run = %v after stdin closed, want nil", err)
	}
	out := s.out.String()
	inOrder(t, out,
		"订单 #1 · qb-10 ×1 · ¥10.00\n状态：已发货\n", "卡密：****9901\n",
		"📦 库存\nqb-10 Q币10元：5\n",
		"订单 #2 · qb-10 ×1 · ¥800.00\n状态：待审核\n原因：rule:large-order\n", "\n[批准: /approve #2]  [退款: /refund #2]\n",
		"未知命令 /frobnicate，发送 /help 查看可用命令。\n",
		"未知命令 /hello，",
		"待处理：审核 1 单，失败 0 单\n#2 qb-10 ×1 ¥800.00 待审核 · rule:large-order\n[#2: /order #2]\n",
	)
	if strings.Contains(out, "\n\n") || strings.HasPrefix(out, "\n") {
		t.Errorf("blank input printed an empty reply:\n%q", out)
	}
	for _, secret := range f.secrets {
		if strings.Contains(out, secret) {
			t.Errorf("console printed the card secret %q", secret)
		}
	}
}

func TestRunActsAsTheLocalAdmin(t *testing.T) {
	f := newFixture(t)
	o := f.submit("1500.00") // over the refund limit: only an admin may refund it
	s := run(t, f.bot(chat.LangEN))
	s.typeLine(t, "order 1")
	s.waitOutput(t, "[Approve: /approve #1]  [Refund: /refund #1]\n")
	s.typeLine(t, "/approve 1")
	s.waitOutput(t, "✅ Order #1 approved by ops; it is on its way.\n")
	f.waitStatus(o.ID, storage.StatusDelivered)
	s.typeLine(t, "refund 1 buyer changed mind") // delivered: the console shows its Confirm button as a command
	s.waitOutput(t, "[Confirm refund #1: /confirm ")
	confirm := regexp.MustCompile(`/confirm [2-9A-Z]+`).FindString(s.out.String())
	s.typeLine(t, confirm)
	s.waitOutput(t, "↩️ Order #1 refunded by ops.\n")
	f.waitStatus(o.ID, storage.StatusRefunded)

	var entries []storage.AuditEntry
	if err := f.store.View(func(tx *storage.Tx) error {
		var err error
		entries, err = tx.AuditLast(2)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	want := []struct{ action, detail string }{{"refund", "buyer changed mind"}, {"approve", ""}}
	for i, w := range want {
		e := entries[i]
		if e.Actor != (storage.Actor{Name: "ops", Platform: Platform}) || e.Action != w.action || e.Outcome != "ok" || e.Detail != w.detail {
			t.Errorf("audit[%d] = %+v, want ops@console %s ok %q", i, e, w.action, w.detail)
		}
	}
}

func TestAnnouncePrintsAlertsWithButtonsAsCommands(t *testing.T) {
	review := storage.Alert{Key: "review:7", Type: alert.Review, OrderID: 7, SKU: "qb-10", Detail: "rule:large-order"}
	restocked := storage.Alert{Key: "out_of_stock:qb-10", Type: alert.OutOfStock, SKU: "qb-10", Resolved: true, Count: 40}
	tests := []struct {
		lang  string
		alert storage.Alert
		want  string
	}{
		{"", review, "🔍 订单 #7（qb-10）待审核：rule:large-order\n[批准: /approve #7]  [退款: /refund #7]  [详情: /order #7]\n"},
		{chat.LangEN, review, "🔍 Order #7 (qb-10) needs review: rule:large-order\n[Approve: /approve #7]  [Refund: /refund #7]  [Details: /order #7]\n"},
		{"", restocked, "✅ 已补货：qb-10 现有库存 40。\n"},
		{chat.LangEN, restocked, "✅ Restocked: qb-10 now has 40.\n"},
	}
	for _, tt := range tests {
		t.Run(tt.lang+"/"+tt.alert.Key, func(t *testing.T) {
			b := operator.New(operator.Options{Language: tt.lang, Auth: Authorizer{Name: "ops"}})
			out := &testkit.Buffer{}
			c := New(b, strings.NewReader(""), out, "ops")
			if _, err := c.Send(Dest, b.RenderAlert(tt.alert)); err != nil {
				t.Fatalf("Send: %v", err)
			}
			if got := out.String(); got != tt.want {
				t.Errorf("printed %q\nwant    %q", got, tt.want)
			}
		})
	}
	t.Run("println", func(t *testing.T) {
		out := &testkit.Buffer{}
		New(operator.New(operator.Options{}), strings.NewReader(""), out, "ops").Println("#12 pending → delivered")
		if got := out.String(); got != "#12 pending → delivered\n" {
			t.Errorf("Println printed %q", got)
		}
	})
}

func TestRunStops(t *testing.T) {
	errBoom := errors.New("terminal gone")
	tests := []struct {
		name string
		stop func(*session)
		want error
	}{
		{"when the context is cancelled", func(s *session) { s.cancel() }, nil},
		{"when stdin closes", func(s *session) { s.in.Close() }, nil},
		{"when stdin fails", func(s *session) { s.in.CloseWithError(errBoom) }, errBoom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			s := run(t, f.bot(""))
			s.typeLine(t, "/help")
			s.waitOutput(t, "可用命令")
			tt.stop(s)
			if err := s.wait(t); !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Errorf("Run = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestAnnounceWhileAnsweringKeepsMessagesWhole(t *testing.T) {
	f := newFixture(t)
	b := f.bot("")
	s := run(t, b)
	alert := b.RenderAlert(storage.Alert{Key: "review:9", Type: alert.Review, OrderID: 9, SKU: "qb-10", Detail: "rule:large-order"})
	const n = 40
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			if _, err := s.console.Send(Dest, alert); err != nil {
				t.Errorf("Send: %v", err)
			}
		})
	}
	for range 10 {
		s.typeLine(t, "/stock")
	}
	wg.Wait()
	s.in.Close()
	if err := s.wait(t); err != nil {
		t.Fatalf("Run: %v", err)
	}
	out := s.out.String()
	block := "🔍 订单 #9（qb-10）待审核：rule:large-order\n[批准: /approve #9]  [退款: /refund #9]  [详情: /order #9]\n"
	if got := strings.Count(out, block); got != n {
		t.Errorf("%d whole alert blocks in the output, want %d", got, n)
	}
	if got := strings.Count(out, "📦 库存\nqb-10 Q币10元：6\n"); got != 10 {
		t.Errorf("%d whole /stock replies, want 10", got)
	}
}

func TestAuthorizerTrustsOnlyTheConsole(t *testing.T) {
	a := Authorizer{Name: "ops"}
	tests := []struct {
		id     chat.Identity
		wantOK bool
	}{
		{chat.Identity{Platform: Platform, UserID: "ops"}, true},
		{chat.Identity{Platform: Platform, UserID: "anyone"}, true},
		{chat.Identity{Platform: "telegram", UserID: "ops"}, false},
		{chat.Identity{Platform: "", UserID: "ops"}, false},
	}
	for _, tt := range tests {
		op, ok := a.Operator(tt.id)
		if ok != tt.wantOK {
			t.Errorf("Operator(%+v) ok = %v, want %v", tt.id, ok, tt.wantOK)
			continue
		}
		if ok && (op.Name != "ops" || op.Role != operator.RoleAdmin) {
			t.Errorf("Operator(%+v) = %+v, want ops as admin", tt.id, op)
		}
	}
}
