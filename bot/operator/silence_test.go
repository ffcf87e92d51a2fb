package operator

import (
	"strings"
	"testing"

	"cardflow/alert"
	"cardflow/bot/chat"
	"cardflow/storage"
)

// silences lists the silences the store holds.
func silences(t *testing.T, f *fixture) []string {
	t.Helper()
	var keys []string
	for _, e := range f.audit(50) {
		if e.Action == "silence" && e.Outcome == "ok" {
			keys = append(keys, e.Target)
		}
	}
	return keys
}

// TestAnOperatorCannotMuteReviewPromptsWithAPrefix: "/silence r 168h" was
// a key prefix that muted every review prompt for a week. It is refused,
// and so is every other way to silence review prompts and failed orders:
// they are work, not noise. The prompt raised afterwards is announced.
func TestAnOperatorCannotMuteReviewPromptsWithAPrefix(t *testing.T) {
	f := newFixture(t)
	b := f.bot("")
	sink := f.page(t, b)
	for _, tc := range []struct {
		who  chat.Identity
		text string
	}{
		{aliceID, "/silence r 168h"},
		{aliceID, "/silence review:12 1h"},
		{adminID, "/silence review 1h"},
		{adminID, "/silence order_failed 1h"},
		{adminID, "/silence re 1h"},
		{adminID, "/silence : 1h"},
	} {
		r := f.send(b, tc.who, tc.text)
		if strings.Contains(r.Text, "🔕") {
			t.Errorf("%s typed %q and it was silenced: %q", tc.who.Name, tc.text, r.Text)
		}
	}
	if got := silences(t, f); len(got) != 0 {
		t.Fatalf("silences stored: %q", got)
	}
	sink.raise(t, storage.Alert{Key: "review:12", Type: alert.Review, OrderID: 12, SKU: "qb-10", Detail: "rule:large-order"})
	sink.raise(t, storage.Alert{Key: "supplier_down:own", Type: alert.SupplierDown, Target: "own"})
	sink.waitReply(t, "own")
	if all := sink.texts(); !strings.Contains(all, "#12") {
		t.Fatalf("the review prompt was not announced:\n%s", all)
	}
}

// TestSilencingAWholeAlertTypeIsForAdminsAndAtMostADay: an operator may
// mute one alert by its key, not a type; an admin may mute a type for at
// most 24 hours.
func TestSilencingAWholeAlertTypeIsForAdminsAndAtMostADay(t *testing.T) {
	f := newFixture(t)
	b := f.bot(chat.LangEN)
	if r := f.send(b, aliceID, "/silence low_stock 1h"); strings.Contains(r.Text, "🔕") {
		t.Fatalf("an operator silenced a whole type: %q", r.Text)
	}
	if r := f.send(b, adminID, "/silence low_stock 48h"); strings.Contains(r.Text, "🔕") {
		t.Fatalf("an admin silenced a whole type for two days: %q", r.Text)
	}
	if r := f.send(b, adminID, "/silence low_stock 24h"); !strings.Contains(r.Text, "🔕 low_stock silenced until 03-15 02:00") {
		t.Fatalf("an admin could not silence a type for a day: %q", r.Text)
	}
	if r := f.send(b, aliceID, "/silence supplier_down:own 168h"); !strings.Contains(r.Text, "🔕 supplier_down:own silenced") {
		t.Fatalf("an operator could not silence one supplier's alert: %q", r.Text)
	}
	if r := f.send(b, aliceID, "/silence supplier_down:nosuch 1h"); strings.Contains(r.Text, "🔕") {
		t.Fatalf("a key of no supplier was silenced: %q", r.Text)
	}
	if r := f.press(b, aliceID, "s:si:supplier_down:nosuch"); strings.Contains(r.Text, "🔕") {
		t.Fatalf("a forged Silence button muted a key of no supplier: %q", r.Text)
	}
}
