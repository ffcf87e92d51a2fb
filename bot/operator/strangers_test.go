package operator

import (
	"cardflow/bot/chat"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// strangerRefusals are the audit entries of refused strangers.
func strangerRefusals(f *fixture) []string {
	var out []string
	for _, e := range f.audit(1000) {
		if strings.HasPrefix(e.Actor.Name, "unknown:") && e.Outcome == "refused" {
			out = append(out, e.Actor.Name+" "+e.Action+" "+e.Detail)
		}
	}
	return out
}

// TestAStrangersFloodCostsOneAuditEntryAMinute: every command and button
// press of a stranger was an fsync'd audit write (and a reply). A stranger
// sending 30 commands and 30 presses in a minute is audited once and
// answered once; the next refusal after the minute is audited with the
// count of those suppressed in between.
func TestAStrangersFloodCostsOneAuditEntryAMinute(t *testing.T) {
	f := newFixture(t)
	b := f.bot(chat.LangEN)
	answered := 0
	for i := range 30 {
		if r, ok := b.Handle(context.Background(), chat.Message{From: strangerID, Text: fmt.Sprintf("/order %d", i)}); ok {
			answered++
			containsAll(t, "refusal", r.Text, "not an operator")
		}
		if r := b.HandlePress(context.Background(), chat.Press{From: strangerID, Data: "o:ap:1"}); r.Text != "" {
			answered++
		}
	}
	if got := strangerRefusals(f); len(got) != 1 {
		t.Fatalf("a stranger's 60 refusals in a minute made %d audit entries: %q", len(got), got)
	}
	if answered != 1 {
		t.Errorf("a stranger's 60 refusals in a minute got %d answers, want 1", answered)
	}
	f.clock.Advance(time.Minute)
	if _, ok := b.Handle(context.Background(), chat.Message{From: strangerID, Text: "/pending"}); !ok {
		t.Error("the first refusal after a quiet minute was not answered")
	}
	got := strangerRefusals(f)
	if len(got) != 2 || !strings.Contains(got[0], "59 more refused") {
		t.Fatalf("after a minute: %q, want a second entry counting the 59 suppressed", got)
	}
	// Another stranger is audited on their own.
	other := chat.Identity{Platform: "telegram", UserID: "998"}
	b.Handle(context.Background(), chat.Message{From: other, Text: "/pending"})
	if got := strangerRefusals(f); len(got) != 3 || !strings.HasPrefix(got[0], "unknown:998 ") {
		t.Fatalf("a second stranger: %q", got)
	}
}

// TestManyStrangersStayWithinAFixedAuditBudgetAndMemory: strangers with
// fresh identities (QQ gives every user of every group one) cannot buy an
// audit write each: beyond a budget per minute they are counted, and the
// gate remembers a bounded number of identities.
func TestManyStrangersStayWithinAFixedAuditBudgetAndMemory(t *testing.T) {
	f := newFixture(t)
	b := f.bot(chat.LangEN)
	const n = 3 * maxStrangers
	for i := range n {
		b.Handle(context.Background(), chat.Message{From: chat.Identity{Platform: "qq", UserID: fmt.Sprintf("G/%d", i)}, Text: "/pending"})
	}
	if got := len(strangerRefusals(f)); got > strangerBudget {
		t.Errorf("%d strangers made %d audit entries in a minute, budget %d", n, got, strangerBudget)
	}
	if got := b.strangers.size(); got > maxStrangers {
		t.Errorf("the gate remembers %d strangers, at most %d", got, maxStrangers)
	}
	f.clock.Advance(time.Minute)
	b.Handle(context.Background(), chat.Message{From: chat.Identity{Platform: "qq", UserID: "G/last"}, Text: "/pending"})
	last := strangerRefusals(f)[0]
	if !strings.Contains(last, "other strangers") {
		t.Errorf("the entry after the flood does not count the strangers suppressed: %q", last)
	}
}
