package console

import (
	"sync/atomic"
	"testing"

	"github.com/rs/zerolog"

	"cardflow/bot/chat"
	"cardflow/bot/operator"
	"cardflow/storage"
)

// panicOnce panics on its first lookup, standing in for any bug below the
// console; after that it is the console's own authorizer.
type panicOnce struct {
	Authorizer
	done atomic.Bool
}

func (a *panicOnce) Operator(id chat.Identity) (operator.Operator, bool) {
	if a.done.CompareAndSwap(false, true) {
		panic("authorizer bug")
	}
	return a.Authorizer.Operator(id)
}

// TestAPanickingConsoleCommandIsAnsweredAuditedAndSurvived: the first line
// typed panics below the console. The console says 出错了, the audit log
// records the failure, and the next line is answered as usual.
func TestAPanickingConsoleCommandIsAnsweredAuditedAndSurvived(t *testing.T) {
	f := newFixture(t)
	b := operator.New(operator.Options{Orders: f.engine, Auth: &panicOnce{Authorizer: Authorizer{Name: "ops"}}, Language: "zh", Log: zerolog.Nop()})
	s := run(t, b)
	s.typeLine(t, "/pending")
	s.waitOutput(t, "出错了")
	s.typeLine(t, "/help")
	s.waitOutput(t, "可用命令")
	entries, err := f.engine.AuditLog(20)
	if err != nil {
		t.Fatal(err)
	}
	var panics []storage.AuditEntry
	for _, e := range entries {
		if e.Outcome == "panic" {
			panics = append(panics, e)
		}
	}
	if len(panics) != 1 || panics[0].Actor != (storage.Actor{Name: "ops", Platform: Platform}) {
		t.Errorf("audited panics = %+v, want one under the console user", panics)
	}
}
