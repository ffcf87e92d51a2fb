package bot

import (
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"cardflow/alert"
	"cardflow/bot/chat"
	"cardflow/internal/testkit"
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
	nf := newNotifyFixture(t, 0)
	b := New(Options{Engine: nf.f.engine, Reports: nf.f.reports(), Bindings: nf.f.bindings(), Silences: nf.f.silences(), Auth: operators, Log: zerolog.Nop(), Now: nf.clock.Now})
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
		r := nf.f.send(b, tc.who, tc.text)
		if strings.Contains(r.Text, "🔕") {
			t.Errorf("%s typed %q and it was silenced: %q", tc.who.Name, tc.text, r.Text)
		}
	}
	if got := silences(t, nf.f); len(got) != 0 {
		t.Fatalf("silences stored: %q", got)
	}
	nf.raise(t, storage.Alert{Key: "review:12", Type: alert.Review, OrderID: 12, SKU: "qb-10", Detail: "rule:large-order"})
	nf.raise(t, storage.Alert{Key: "supplier_down:own", Type: alert.SupplierDown, Target: "own"})
	testkit.Eventually(nf.f.t, "both announced", func() bool { return strings.Contains(strings.Join(nf.ch.texts(), "\n"), "own") })
	if all := strings.Join(nf.ch.texts(), "\n"); !strings.Contains(all, "#12") {
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

// TestASilencedKeyDoesNotMuteItsNeighbours: silences were prefixes, so
// muting supplier_down:fulu muted supplier_down:fulu2 too.
func TestASilencedKeyDoesNotMuteItsNeighbours(t *testing.T) {
	nf := newNotifyFixture(t, 0)
	if _, err := nf.f.silences().Silence(storage.Actor{Name: "alice"}, "low_stock:qb-10", time.Hour); err != nil {
		t.Fatal(err)
	}
	nf.raise(t, storage.Alert{Key: "low_stock:qb-10", Type: alert.LowStock, SKU: "qb-10", Count: 1})
	nf.raise(t, storage.Alert{Key: "low_stock:qb-100", Type: alert.LowStock, SKU: "qb-100", Count: 1})
	testkit.Eventually(nf.f.t, "qb-100's alert", func() bool { return len(nf.ch.texts()) == 1 })
	if got := nf.ch.texts()[0]; !strings.Contains(got, "qb-100") {
		t.Fatalf("sent %q, want the qb-100 alert", got)
	}
}
