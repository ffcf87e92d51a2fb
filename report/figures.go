package report

import (
	"math"
	"sort"
	"time"

	"cardflow/internal/money"
	"cardflow/storage"
)

// Figures are the counters of a period, summed: what the daily report,
// /stats and the chart show. They are read from the slot counters only,
// never from the orders.
type Figures struct {
	From, To time.Time // [From, To)

	Orders          int
	Paid            money.Amount // of the orders accepted in the period
	Delivered       int
	DeliveredAmount money.Amount // amount of the orders delivered in the period
	Refunded        int
	RefundedAmount  money.Amount
	Failed          int
	FailReasons     map[string]int
	Reviews         int
	RuleHits        map[string]int
	Cost            money.Amount // supplier spend

	Delivery   Hist // acceptance to delivery
	ReviewWait Hist // held for review until a person decided

	Suppliers map[string]*SupplierFigures
	// Shops are the docking shops' orders and net spend in the period.
	Shops map[string]*ShopFigures
	// Hours are the period's hours (in the location asked for), oldest
	// first, for the chart.
	Hours []HourFigures
	// Cohort is the amount of the period's orders by their status now.
	Cohort map[storage.Status]money.Amount
	// Claims are the after-sale claims opened and resolved in the period.
	Claims ClaimFigures
}

// ClaimFigures are a period's after-sale claims: opened, resolved, upheld
// (reissued or refunded), how long resolving took, and the same counts by
// SKU (claims) and by supplier (the cards the claims named).
type ClaimFigures struct {
	ClaimCounts
	Time      Hist // opened to resolved
	SKUs      map[string]*ClaimCounts
	Suppliers map[string]*ClaimCounts
}

// ClaimCounts are claims (or claimed cards) opened, resolved and upheld.
type ClaimCounts struct{ Opened, Resolved, Upheld int }

// UpheldShare is the share of resolved claims that were upheld (0 when
// none was resolved).
func (c *ClaimCounts) UpheldShare() float64 { return rate(c.Upheld, c.Resolved, 0) }

// Worst names the key of counts with the most upheld, ties to the first
// name; "" when nothing was upheld.
func Worst(counts map[string]*ClaimCounts) (name string, upheld int) {
	for n, c := range counts {
		if c.Upheld > upheld || c.Upheld == upheld && upheld > 0 && n < name {
			name, upheld = n, c.Upheld
		}
	}
	return name, upheld
}

// ShopFigures are one docking shop's orders in a period and what they took
// from its balance, less what refunds gave back.
type ShopFigures struct {
	Orders int
	Spend  money.Amount
}

// SupplierFigures are one supplier's purchases in a period.
type SupplierFigures struct {
	Succeeded, Failed, Unknown, BadCards int
	Cost                                 money.Amount
	Latency                              Hist
	// Balance readings: the first and last of the period, each with the
	// lifetime spend counted when it was read (Readings 0: none).
	Readings                  int
	BalanceFirst, BalanceLast money.Amount
	SpendFirst, SpendLast     money.Amount
}

// Answered is how many purchases ended, for rates.
func (s *SupplierFigures) Answered() int { return s.Succeeded + s.Failed }

// SuccessRate is the share of ended purchases that delivered (1 when none
// ended: no evidence against the supplier).
func (s *SupplierFigures) SuccessRate() float64 { return rate(s.Succeeded, s.Answered(), 1) }

// BadCardRate is the share of delivered purchases whose cards were refused.
func (s *SupplierFigures) BadCardRate() float64 { return rate(s.BadCards, s.Succeeded, 0) }

// UnknownRate is the share of purchases whose outcome was unknown at first.
func (s *SupplierFigures) UnknownRate() float64 {
	return rate(s.Unknown, s.Answered()+s.Unknown, 0)
}

// HourFigures are one hour of a period.
type HourFigures struct {
	Start     time.Time
	Orders    int
	Delivered int
	Delivery  Hist
}

// SuccessRate is the share of orders that ended in the period and were
// delivered.
func (f *Figures) SuccessRate() float64 {
	return rate(f.Delivered, f.Delivered+f.Failed+f.Refunded, 1)
}

// Margin is what delivered orders brought in less supplier spend.
func (f *Figures) Margin() money.Amount { return f.DeliveredAmount - f.Cost }

func rate(n, of int, none float64) float64 {
	if of == 0 {
		return none
	}
	return float64(n) / float64(of)
}

// Hist is a duration histogram in the buckets of histBucket.
type Hist [histBuckets]int

// Count is how many durations it holds.
func (h *Hist) Count() int {
	n := 0
	for _, c := range h {
		n += c
	}
	return n
}

// Quantile estimates the q-quantile (0 < q ≤ 1), interpolating inside the
// bucket on a log scale; 0 if empty.
func (h *Hist) Quantile(q float64) time.Duration {
	total := h.Count()
	if total == 0 {
		return 0
	}
	target := q * float64(total)
	seen := 0.0
	for i, c := range h {
		if c == 0 {
			continue
		}
		if seen+float64(c) >= target {
			lo, hi := float64(histBase)/2, float64(HistUpper(i))
			if i > 0 {
				lo = float64(HistUpper(i - 1))
			}
			frac := (target - seen) / float64(c)
			return time.Duration(lo * math.Pow(hi/lo, frac))
		}
		seen += float64(c)
	}
	return HistUpper(histBuckets - 1)
}

func (h *Hist) add(label string, n int64) {
	if len(label) == 1 && int(label[0]) < histBuckets {
		h[label[0]] += int(n)
	}
}

// Read sums the counters of [from, to). Both ends are rounded down to a
// slot (a quarter hour); the chart's hours start at from, in loc.
func Read(store *storage.Store, from, to time.Time, loc *time.Location) (*Figures, error) {
	f := &Figures{From: from, To: to, FailReasons: map[string]int{}, RuleHits: map[string]int{},
		Suppliers: map[string]*SupplierFigures{}, Shops: map[string]*ShopFigures{}, Cohort: map[storage.Status]money.Amount{},
		Claims: ClaimFigures{SKUs: map[string]*ClaimCounts{}, Suppliers: map[string]*ClaimCounts{}}}
	for h := from; h.Before(to); h = h.Add(time.Hour) {
		f.Hours = append(f.Hours, HourFigures{Start: h.In(loc)})
	}
	hourOf := func(slot uint32) *HourFigures {
		i := int(storage.SlotTime(slot).Sub(from) / time.Hour)
		if i < 0 || i >= len(f.Hours) {
			return nil
		}
		return &f.Hours[i]
	}
	supplier := func(name string) *SupplierFigures {
		s := f.Suppliers[name]
		if s == nil {
			s = &SupplierFigures{}
			f.Suppliers[name] = s
		}
		return s
	}
	shop := func(id string) *ShopFigures {
		s := f.Shops[id]
		if s == nil {
			s = &ShopFigures{}
			f.Shops[id] = s
		}
		return s
	}
	claimsOf := func(m map[string]*ClaimCounts, key string) *ClaimCounts {
		c := m[key]
		if c == nil {
			c = &ClaimCounts{}
			m[key] = c
		}
		return c
	}
	first, last := storage.Slot(from), storage.Slot(to.Add(-time.Nanosecond))
	err := store.ScanStats(first, last, func(k storage.StatKey, v int64) {
		n := int(v)
		switch k.Metric {
		case storage.MetricOrders:
			f.Orders += n
			if h := hourOf(k.Slot); h != nil {
				h.Orders += n
			}
		case storage.MetricPaid:
			f.Paid += money.Amount(v)
		case storage.MetricDelivered:
			f.Delivered += n
			if h := hourOf(k.Slot); h != nil {
				h.Delivered += n
			}
		case storage.MetricDeliveredAmount:
			f.DeliveredAmount += money.Amount(v)
		case storage.MetricRefunded:
			f.Refunded += n
		case storage.MetricRefundedAmount:
			f.RefundedAmount += money.Amount(v)
		case storage.MetricFailed:
			f.Failed += n
			f.FailReasons[k.Label] += n
		case storage.MetricReviews:
			f.Reviews += n
		case storage.MetricRuleHits:
			f.RuleHits[k.Label] += n
		case storage.MetricDeliveryTime:
			f.Delivery.add(k.Label, v)
			if h := hourOf(k.Slot); h != nil {
				h.Delivery.add(k.Label, v)
			}
		case storage.MetricReviewWait:
			f.ReviewWait.add(k.Label, v)
		case storage.MetricShopOrders:
			shop(k.Label).Orders += n
		case storage.MetricShopSpend:
			shop(k.Label).Spend += money.Amount(v)
		case storage.MetricSupplierOK:
			supplier(k.Label).Succeeded += n
		case storage.MetricSupplierFail:
			supplier(k.Label).Failed += n
		case storage.MetricSupplierUnknown:
			supplier(k.Label).Unknown += n
		case storage.MetricSupplierBad:
			supplier(k.Label).BadCards += n
		case storage.MetricSupplierCost:
			supplier(k.Label).Cost += money.Amount(v)
			f.Cost += money.Amount(v)
		case storage.MetricSupplierTime:
			if name, b, ok := storage.SplitSupplierLabel(k.Label); ok {
				supplier(name).Latency.add(string([]byte{byte(b)}), v)
			}
		case storage.MetricBalance:
			s := supplier(k.Label)
			if s.Readings == 0 {
				s.BalanceFirst = money.Amount(v)
			}
			s.BalanceLast = money.Amount(v)
			s.Readings++
		case storage.MetricBalanceSpend:
			s := supplier(k.Label)
			if s.Readings <= 1 {
				s.SpendFirst = money.Amount(v)
			}
			s.SpendLast = money.Amount(v)
		case storage.MetricCohort:
			f.Cohort[storage.Status(k.Label)] += money.Amount(v)
		case storage.MetricClaimsOpened:
			f.Claims.Opened += n
			claimsOf(f.Claims.SKUs, k.Label).Opened += n
		case storage.MetricClaimsResolved:
			f.Claims.Resolved += n
			claimsOf(f.Claims.SKUs, k.Label).Resolved += n
		case storage.MetricClaimsUpheld:
			f.Claims.Upheld += n
			claimsOf(f.Claims.SKUs, k.Label).Upheld += n
		case storage.MetricClaimTime:
			f.Claims.Time.add(k.Label, v)
		case storage.MetricClaimCards:
			claimsOf(f.Claims.Suppliers, k.Label).Opened += n
		case storage.MetricClaimCardsDone:
			claimsOf(f.Claims.Suppliers, k.Label).Resolved += n
		case storage.MetricClaimCardsBad:
			claimsOf(f.Claims.Suppliers, k.Label).Upheld += n
		}
	})
	if err != nil {
		return nil, err
	}
	return f, nil
}

// TopReasons lists failure reasons by count, most first, at most n.
func (f *Figures) TopReasons(n int) []string {
	reasons := make([]string, 0, len(f.FailReasons))
	for r := range f.FailReasons {
		reasons = append(reasons, r)
	}
	sort.Slice(reasons, func(i, j int) bool {
		a, b := f.FailReasons[reasons[i]], f.FailReasons[reasons[j]]
		return a > b || a == b && reasons[i] < reasons[j]
	})
	return reasons[:min(n, len(reasons))]
}
