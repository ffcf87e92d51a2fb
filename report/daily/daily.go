// Package daily writes the shop's figures as operators read them — the
// text of /stats and /report, the hourly chart, and the daily report that
// Schedule queues for every operator chat each morning — in Chinese or
// English, from what package report counts.
package daily

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"cardflow/bot/chat"
	"cardflow/config"
	"cardflow/processor"
	"cardflow/report"

	"github.com/rs/zerolog"
)

// Period is a span of local days the figures cover.
type Period struct {
	Name     string // today, yesterday, 7d, or a date for the daily report
	From, To time.Time
}

// ParsePeriod resolves /stats and /report arguments at now, in loc: today so
// far, yesterday, or the last seven days (today included).
func ParsePeriod(arg string, now time.Time, loc *time.Location) (Period, bool) {
	now = now.In(loc)
	midnight := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	end := now.Add(time.Nanosecond) // periods end before To: include this instant's slot
	switch arg {
	case "", "today":
		return Period{Name: "today", From: midnight, To: end}, true
	case "yesterday":
		return DayBefore(now, loc), true
	case "7d":
		return Period{Name: "7d", From: midnight.AddDate(0, 0, -6), To: end}, true
	}
	return Period{}, false
}

// DayBefore is the whole local day before the one holding t: what the daily
// report sent at daily_at covers.
func DayBefore(t time.Time, loc *time.Location) Period {
	t = t.In(loc)
	midnight := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
	from := midnight.AddDate(0, 0, -1)
	return Period{Name: from.Format("2006-01-02"), From: from, To: midnight}
}

// Reports is what the report is read from (report.Counters).
type Reports interface {
	Figures(from, to time.Time, loc *time.Location) (*report.Figures, error)
	Reconcile(f *report.Figures, raise bool) (*report.Reconciliation, error)
}

// Stock is what the report reads of the shop's own stock.
type Stock interface {
	StockLevels() (map[string]int, error)
	Product(sku string) (config.Product, bool)
}

// Shops is what the report reads of docking shops' balances (the engine);
// nil when there are none.
type Shops interface {
	Balances() ([]processor.Balance, error)
}

// Options configure a Writer.
type Options struct {
	Reports  Reports
	Stock    Stock
	Shops    Shops
	Language string
	Location *time.Location // Shanghai when nil
	Log      zerolog.Logger
}

// Writer writes reports in one language and time zone.
type Writer struct {
	reports Reports
	stock   Stock
	shops   Shops
	lang    string
	loc     *time.Location
	log     zerolog.Logger
}

// New builds a Writer.
func New(o Options) *Writer {
	if o.Location == nil {
		o.Location = chat.Shanghai()
	}
	return &Writer{reports: o.Reports, stock: o.Stock, shops: o.Shops, lang: o.Language, loc: o.Location, log: o.Log}
}

// Location is the time zone the report's days are in.
func (b *Writer) Location() *time.Location { return b.loc }

// Stats is the text of /stats: the figures of a period.
func (b *Writer) Stats(p Period) (string, error) {
	f, err := b.reports.Figures(p.From, p.To, b.loc)
	if err != nil {
		return "", err
	}
	return b.figuresText(p, f), nil
}

// Report is the full report of a period: the figures, suppliers, rule hits,
// low stock and the reconciliation, with the chart. raise says whether a
// reconciliation mismatch raises an alert (the scheduled report does; a
// person asking does not, so asking twice cannot page twice).
func (b *Writer) Report(p Period, raise bool) (chat.Reply, error) {
	f, text, err := b.reportText(p, raise)
	if err != nil {
		return chat.Reply{}, err
	}
	return chat.Reply{Text: text, Photo: b.photoOf(p, f)}, nil
}

// reportText is the report without its chart. The figures are read over
// whole days, as the chart draws them ("today so far" at 02:00 is a day
// with two hours filled); what lies past p.To is not counted yet, so the
// text's totals are those of p.
func (b *Writer) reportText(p Period, raise bool) (*report.Figures, string, error) {
	f, err := b.reports.Figures(p.From, wholeDays(p, b.loc), b.loc)
	if err != nil {
		return nil, "", err
	}
	rec, err := b.reports.Reconcile(f, raise)
	if err != nil {
		return nil, "", err
	}
	lines := []string{b.figuresText(p, f)}
	lines = append(lines, b.supplierLines(f)...)
	lines = append(lines, b.claimLines(f)...)
	lines = append(lines, b.shopLines(f)...)
	lines = append(lines, b.lowStockLines()...)
	lines = append(lines, b.reconcileLines(rec)...)
	return f, strings.Join(lines, "\n"), nil
}

// Photo draws the chart of the day a queued daily report covers, from
// to to; nil (the text goes alone) if the figures cannot be read or drawn.
func (b *Writer) Photo(from, to time.Time) *chat.Photo {
	p := Period{Name: from.In(b.loc).Format("2006-01-02"), From: from, To: to}
	f, err := b.reports.Figures(p.From, wholeDays(p, b.loc), b.loc)
	if err != nil {
		b.log.Error().Err(err).Msg("read figures for the chart")
		return nil
	}
	return b.photoOf(p, f)
}

// photoOf draws figures read over whole days (see reportText).
func (b *Writer) photoOf(p Period, f *report.Figures) *chat.Photo {
	png, err := Chart(f, b.lang)
	if err != nil {
		b.log.Error().Err(err).Msg("draw report chart")
		return nil
	}
	name := "cardflow-" + p.From.In(b.loc).Format("2006-01-02")
	if !strings.HasPrefix(name, "cardflow-"+p.Name) {
		name += "-" + p.Name
	}
	return &chat.Photo{Name: name + ".png", PNG: png}
}

// figuresText is the body of /stats and of the report.
func (b *Writer) figuresText(p Period, f *report.Figures) string {
	l := b.lang
	title := p.Name
	switch p.Name {
	case "today", "yesterday", "7d":
		title = chat.T(l, "period_"+p.Name)
	}
	lines := []string{
		chat.T(l, "stats_title", title, p.From.In(b.loc).Format("01-02 15:04"), p.To.In(b.loc).Format("01-02 15:04")),
		chat.T(l, "stats_orders", f.Orders, f.Paid.String()),
		chat.T(l, "stats_outcomes", f.Delivered, f.Refunded, f.Failed, 100*f.SuccessRate()),
		chat.T(l, "stats_money", f.Cost.String(), f.Margin().String()),
	}
	if n := f.Delivery.Count(); n > 0 {
		lines = append(lines, chat.T(l, "stats_delivery", chat.Short(f.Delivery.Quantile(0.5)), chat.Short(f.Delivery.Quantile(0.95))))
	}
	if f.Reviews > 0 || f.ReviewWait.Count() > 0 {
		lines = append(lines, chat.T(l, "stats_reviews", f.Reviews, chat.Short(f.ReviewWait.Quantile(0.5))))
	}
	if c := f.Claims; c.Opened+c.Resolved > 0 {
		line := chat.T(l, "stats_claims", c.Opened, c.Resolved, c.Upheld, 100*c.UpheldShare())
		if c.Time.Count() > 0 {
			line += chat.T(l, "stats_claims_time", chat.Short(c.Time.Quantile(0.5)))
		}
		lines = append(lines, line)
	}
	if reasons := f.TopReasons(3); len(reasons) > 0 {
		parts := make([]string, len(reasons))
		for i, r := range reasons {
			parts[i] = fmt.Sprintf("%s %d", chat.Untrusted(r), f.FailReasons[r])
		}
		lines = append(lines, chat.T(l, "stats_reasons", strings.Join(parts, chat.T(l, "list_sep"))))
	}
	if len(f.RuleHits) > 0 {
		names := make([]string, 0, len(f.RuleHits))
		for n := range f.RuleHits {
			names = append(names, n)
		}
		sort.Strings(names)
		parts := make([]string, len(names))
		for i, n := range names {
			parts[i] = fmt.Sprintf("%s %d", n, f.RuleHits[n])
		}
		lines = append(lines, chat.T(l, "stats_rules", strings.Join(parts, chat.T(l, "list_sep"))))
	}
	return strings.Join(lines, "\n")
}

// supplierLines are each remote supplier's figures for the period.
func (b *Writer) supplierLines(f *report.Figures) []string {
	names := make([]string, 0, len(f.Suppliers))
	for n, s := range f.Suppliers {
		if s.Answered()+s.Unknown+s.BadCards > 0 {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return nil
	}
	sort.Strings(names)
	lines := []string{chat.T(b.lang, "report_suppliers")}
	for _, n := range names {
		s := f.Suppliers[n]
		lines = append(lines, chat.T(b.lang, "report_supplier", n, 100*s.SuccessRate(), s.Succeeded, s.Answered(),
			chat.Short(s.Latency.Quantile(0.95)), s.BadCards, 100*s.UnknownRate(), s.Cost.String()))
	}
	return lines
}

// claimsListed is how many suppliers and SKUs the report's claim lines
// name, most upheld first.
const claimsListed = 5

// claimLines are the period's resolved claims by supplier (their cards)
// and by SKU, upheld of resolved, and the supplier and SKU with the most
// upheld; nothing when no claim was resolved.
func (b *Writer) claimLines(f *report.Figures) []string {
	c := f.Claims
	if c.Resolved == 0 {
		return nil
	}
	l := b.lang
	lines := []string{chat.T(l, "report_claims")}
	if parts := b.claimCounts(c.Suppliers); len(parts) > 0 {
		lines = append(lines, chat.T(l, "report_claims_suppliers", strings.Join(parts, chat.T(l, "list_sep"))))
	}
	if parts := b.claimCounts(c.SKUs); len(parts) > 0 {
		lines = append(lines, chat.T(l, "report_claims_skus", strings.Join(parts, chat.T(l, "list_sep"))))
	}
	var worst []string
	if name, n := report.Worst(c.Suppliers); n > 0 {
		worst = append(worst, chat.T(l, "claims_worst_supplier", name, n))
	}
	if name, n := report.Worst(c.SKUs); n > 0 {
		worst = append(worst, chat.T(l, "claims_worst_sku", name, n))
	}
	if len(worst) > 0 {
		lines = append(lines, chat.T(l, "report_claims_worst", strings.Join(worst, chat.T(l, "list_sep"))))
	}
	return lines
}

// claimCounts writes "name upheld/resolved (share)" for those with claims
// resolved, most upheld first, then by name, at most claimsListed.
func (b *Writer) claimCounts(counts map[string]*report.ClaimCounts) []string {
	names := make([]string, 0, len(counts))
	for n, c := range counts {
		if c.Resolved > 0 {
			names = append(names, n)
		}
	}
	sort.Slice(names, func(i, j int) bool {
		a, z := counts[names[i]], counts[names[j]]
		return a.Upheld > z.Upheld || a.Upheld == z.Upheld && names[i] < names[j]
	})
	parts := make([]string, 0, min(len(names), claimsListed))
	for _, n := range names[:min(len(names), claimsListed)] {
		c := counts[n]
		parts = append(parts, chat.T(b.lang, "report_claims_count", n, c.Upheld, c.Resolved, 100*c.UpheldShare()))
	}
	return parts
}

// shopLines are each docking shop's orders and spend in the period, and
// its balance now.
func (b *Writer) shopLines(f *report.Figures) []string {
	if b.shops == nil {
		return nil
	}
	balances, err := b.shops.Balances()
	if err != nil {
		b.log.Error().Err(err).Msg("read docking shops' balances")
		return nil
	}
	if len(balances) == 0 {
		return nil
	}
	lines := []string{chat.T(b.lang, "report_shops")}
	for _, s := range balances {
		fig := f.Shops[s.Storefront]
		if fig == nil {
			fig = &report.ShopFigures{}
		}
		lines = append(lines, chat.T(b.lang, "report_shop", chat.Untrusted(s.Storefront), fig.Orders, fig.Spend.String(), s.Balance.String()))
	}
	return lines
}

// lowStockLines lists SKUs at or under their low_stock mark now.
func (b *Writer) lowStockLines() []string {
	levels, err := b.stock.StockLevels()
	if err != nil {
		return []string{chat.T(b.lang, "report_stock_error")}
	}
	var low []string
	for sku, n := range levels {
		if p, ok := b.stock.Product(sku); ok && p.LowStock > 0 && n < p.LowStock {
			low = append(low, fmt.Sprintf("%s %d", sku, n))
		}
	}
	if len(low) == 0 {
		return nil
	}
	sort.Strings(low)
	return []string{chat.T(b.lang, "report_low_stock", strings.Join(low, chat.T(b.lang, "list_sep")))}
}

func (b *Writer) reconcileLines(r *report.Reconciliation) []string {
	l := b.lang
	lines := []string{chat.T(l, "report_reconcile", r.Paid.String(), r.Delivered.String(), r.Refunded.String(),
		r.Failed.String(), r.Open.String())}
	for _, bc := range r.Balances {
		lines = append(lines, chat.T(l, "report_balance", bc.Supplier, bc.Movement.String(), bc.Spend.String()))
	}
	if len(r.Problems) == 0 {
		return append(lines, chat.T(l, "report_reconcile_ok"))
	}
	for _, p := range r.Problems {
		lines = append(lines, chat.T(l, "report_reconcile_bad", p))
	}
	return lines
}

// wholeDays is the end of the last local day p touches.
func wholeDays(p Period, loc *time.Location) time.Time {
	end := p.To.In(loc)
	midnight := time.Date(end.Year(), end.Month(), end.Day(), 0, 0, 0, 0, loc)
	if midnight.Equal(end) {
		return p.To
	}
	return midnight.AddDate(0, 0, 1)
}
