package daily

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"cardflow/bot/chat"
	"cardflow/config"
	"cardflow/internal/testkit"
	"cardflow/internal/teststore"
	"cardflow/report"
	"cardflow/storage"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

type noStock struct{}

func (noStock) StockLevels() (map[string]int, error)  { return nil, nil }
func (noStock) Product(string) (config.Product, bool) { return config.Product{}, false }

// TestTheReportShowsTheDaysClaims: a day with five claims opened and four
// resolved (fulu's cards upheld three times, own stock's once and
// rejected once; one claim named no card) reads, in /stats and in the
// report, as testdata/claims.{zh,en}.txt hold: opened, resolved, upheld
// and their share, the median time to resolve, upheld of resolved by
// supplier and by SKU, and the worst of each. The day before shows no
// claim line.
func TestTheReportShowsTheDaysClaims(t *testing.T) {
	loc := chat.Shanghai()
	store := testkit.NewStore(t, teststore.Open)
	day := time.Date(2026, 11, 24, 0, 0, 0, 0, loc)
	at := func(h, m int) time.Time { return day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute) }
	type claim struct {
		sku      string
		sources  []string
		opened   time.Time
		resolved time.Duration // 0: still open
		upheld   bool
	}
	claims := []claim{
		{"steam-50", []string{"fulu"}, at(9, 0), 10 * time.Minute, true},
		{"steam-50", []string{"fulu", "fulu"}, at(10, 0), 20 * time.Minute, true},
		{"qb-10", []string{"own"}, at(11, 0), 30 * time.Minute, true},
		{"qb-10", []string{"own"}, at(12, 0), 2 * time.Hour, false},
		{"qb-10", nil, at(13, 0), 0, false},
	}
	err := store.Update(func(tx *storage.Tx) error {
		for _, c := range claims {
			report.CountClaimOpened(tx, c.opened, c.sku, c.sources)
			if c.resolved > 0 {
				report.CountClaimResolved(tx, c.opened.Add(c.resolved), c.sku,
					&storage.Claim{Sources: c.sources, CreatedAt: c.opened}, c.upheld)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	p := Period{Name: "2026-11-24", From: day, To: day.AddDate(0, 0, 1)}
	for _, lang := range []string{chat.LangZH, chat.LangEN} {
		w := New(Options{Reports: report.New(store, []string{"fulu", "own"}, nil), Stock: noStock{}, Language: lang,
			Location: loc, Log: zerolog.Nop()})
		_, text, err := w.reportText(p, false)
		if err != nil {
			t.Fatal(err)
		}
		golden := filepath.Join("testdata", "claims."+lang+".txt")
		if *update {
			if err := os.WriteFile(golden, []byte(text+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		if text+"\n" != string(want) {
			t.Errorf("%s report:\n%s\nwant (%s):\n%s", lang, text, golden, want)
		}
		stats, err := w.Stats(p)
		if err != nil {
			t.Fatal(err)
		}
		if line := chat.T(lang, "stats_claims", 5, 4, 3, 75.0); !strings.Contains(stats, line) {
			t.Errorf("%s /stats lacks %q:\n%s", lang, line, stats)
		}
		_, before, err := w.reportText(DayBefore(day, loc), false)
		if err != nil {
			t.Fatal(err)
		}
		claimsWord, _, _ := strings.Cut(chat.T(lang, "stats_claims"), "%")
		if strings.Contains(before, claimsWord) || strings.Contains(before, chat.T(lang, "report_claims")) {
			t.Errorf("%s: the day before shows claims:\n%s", lang, before)
		}
	}
}
