package processor

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"cardflow/storage"
	"cardflow/suppliers"
)

// metrics are the engine's Prometheus series. Labels carry
// statuses, supplier and SKU names only: never buyer data or secrets.
type metrics struct {
	transitions *prometheus.CounterVec
	delivery    prometheus.Histogram
	supplierReq *prometheus.CounterVec
	supplierDur *prometheus.HistogramVec
	ruleHits    *prometheus.CounterVec
}

// ruleHit is a rule that decided an order's intake, counted once the intake
// commits (a batch retried after a failed member screens its orders again).
type ruleHit struct{ rule, action string }

func newMetrics(e *Engine, reg prometheus.Registerer) *metrics {
	m := &metrics{
		transitions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cardflow_order_transitions_total",
			Help: "Order state changes, by the state entered."}, []string{"status"}),
		delivery: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "cardflow_delivery_seconds",
			Help:    "Time from an order's acceptance to its delivery.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600}}),
		supplierReq: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cardflow_supplier_requests_total",
			Help: "Supplier requests by operation and result."}, []string{"supplier", "op", "result"}),
		supplierDur: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "cardflow_supplier_request_seconds",
			Help: "Supplier request latency.", Buckets: prometheus.DefBuckets}, []string{"supplier", "op"}),
		ruleHits: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cardflow_rule_hits_total",
			Help: "Orders a rule decided at intake, by rule and action."}, []string{"rule", "action"}),
	}
	if reg == nil {
		return m
	}
	reg.MustRegister(m.transitions, m.delivery, m.supplierReq, m.supplierDur, m.ruleHits,
		openCollector{e}, stockCollector{e}, circuitCollector{e},
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "cardflow_outbox_backlog", Help: "Callbacks and alerts not yet acknowledged."},
			func() float64 { return float64(e.outbox.Backlog()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "cardflow_work_queue", Help: "Orders waiting for a worker."},
			func() float64 { return float64(e.queue.len()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "cardflow_store_commits_total", Help: "bbolt transactions committed by the group-commit writer."},
			func() float64 { return float64(e.store.Stats().Commits) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "cardflow_store_writes_total", Help: "Writes carried by those commits."},
			func() float64 { return float64(e.store.Stats().Writes) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "cardflow_store_commit_seconds_total", Help: "Time spent committing, fsyncs included."},
			func() float64 { return e.store.Stats().CommitTime.Seconds() }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "cardflow_orders_stored", Help: "Orders accepted since the store was created."},
			func() float64 {
				var n uint64
				_ = e.store.View(func(tx *storage.Tx) error { n = tx.LastOrderID(); return nil })
				return float64(n)
			}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "cardflow_store_bytes", Help: "Size of the database file (PostgreSQL: of the database, asked at most every 10 s)."},
			func() float64 { return float64(e.store.Size()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "cardflow_store_available", Help: "1 while the store's database answers, 0 while it does not."},
			func() float64 {
				if e.store.Available() != nil {
					return 0
				}
				return 1
			}),
	)
	return m
}

// observe counts a committed transition.
func (m *metrics) observe(c Change, createdAt time.Time) {
	m.transitions.WithLabelValues(string(c.To)).Inc()
	if c.To == storage.StatusDelivered && !createdAt.IsZero() {
		m.delivery.Observe(c.At.Sub(createdAt).Seconds())
	}
}

func (m *metrics) ruleHit(h ruleHit) { m.ruleHits.WithLabelValues(h.rule, h.action).Inc() }

// supplierCall records one supplier request.
func (m *metrics) supplierCall(supplier, op string, res suppliers.Result, sent bool, took time.Duration) {
	result := res.Status.String()
	if !sent {
		result = "not_sent"
	}
	m.supplierReq.WithLabelValues(supplier, op, result).Inc()
	if sent {
		m.supplierDur.WithLabelValues(supplier, op).Observe(took.Seconds())
	}
}

var (
	openDesc    = prometheus.NewDesc("cardflow_orders_open", "Orders not yet finished, by status.", []string{"status"}, nil)
	stockDesc   = prometheus.NewDesc("cardflow_stock_level", "Card keys in own stock.", []string{"sku"}, nil)
	circuitDesc = prometheus.NewDesc("cardflow_supplier_circuit_open", "1 while a supplier is marked down.", []string{"supplier"}, nil)
)

// openCollector counts the open orders at scrape time from the store's
// status index, so the figure survives restarts and never drifts.
type openCollector struct{ e *Engine }

func (c openCollector) Describe(ch chan<- *prometheus.Desc) { ch <- openDesc }
func (c openCollector) Collect(ch chan<- prometheus.Metric) {
	open := []storage.Status{storage.StatusPending, storage.StatusReview, storage.StatusProcessing, storage.StatusFailed}
	counts := make([]int, len(open))
	err := c.e.store.View(func(tx *storage.Tx) error {
		for i, st := range open {
			counts[i] = tx.CountOpen(st)
		}
		return nil
	})
	if err != nil {
		return
	}
	for i, st := range open {
		ch <- prometheus.MustNewConstMetric(openDesc, prometheus.GaugeValue, float64(counts[i]), string(st))
	}
}

type stockCollector struct{ e *Engine }

func (c stockCollector) Describe(ch chan<- *prometheus.Desc) { ch <- stockDesc }
func (c stockCollector) Collect(ch chan<- prometheus.Metric) {
	levels, err := c.e.StockLevels()
	if err != nil {
		return
	}
	for sku, n := range levels {
		ch <- prometheus.MustNewConstMetric(stockDesc, prometheus.GaugeValue, float64(n), sku)
	}
}

type circuitCollector struct{ e *Engine }

func (c circuitCollector) Describe(ch chan<- *prometheus.Desc) { ch <- circuitDesc }
func (c circuitCollector) Collect(ch chan<- prometheus.Metric) {
	for _, name := range c.e.supplierNames {
		if c.e.supplierTypes[name] == "stock" {
			continue
		}
		v := 0.0
		if c.e.health.MarkedDown(name) {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(circuitDesc, prometheus.GaugeValue, v, name)
	}
}
