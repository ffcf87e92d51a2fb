package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"cardflow/internal/outbound"
	"cardflow/internal/periodic"
)

// probe checks, while the load runs, that the services' health and metrics
// endpoints keep answering: GET /readyz on each storefront listener must
// say 200 and GET /metrics (admin listener or [metrics] listen) must parse
// and carry the order series, each within a few seconds, at a fixed
// interval.
type probe struct {
	targets []endpoint
	client  *http.Client

	mu      sync.Mutex
	readyz  []time.Duration
	metrics []time.Duration
	errors  []string
}

// endpoint is one service under load: its storefront listener
// (http://host:port) and where its /metrics is read.
type endpoint struct {
	base    string
	scraper scraper
}

func newProbe(targets []endpoint) *probe {
	client := outbound.New(outbound.Options{Timeout: 5 * time.Second})
	p := &probe{client: client}
	for _, t := range targets {
		t.scraper.client = client
		p.targets = append(p.targets, t)
	}
	return p
}

// run probes every interval until ctx ends.
func (p *probe) run(ctx context.Context, interval time.Duration) {
	periodic.Every(ctx, interval, func() {
		for _, t := range p.targets {
			start := time.Now()
			err := p.readyOnce(ctx, t.base)
			p.record(&p.readyz, "readyz", time.Since(start), err, ctx)
			start = time.Now()
			_, err = t.scraper.scrape(ctx)
			p.record(&p.metrics, "metrics", time.Since(start), err, ctx)
		}
	})
}

func (p *probe) record(into *[]time.Duration, what string, d time.Duration, err error, ctx context.Context) {
	if ctx.Err() != nil {
		return // the run ended mid-request: not the service's fault
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	*into = append(*into, d)
	if err != nil && len(p.errors) < 10 {
		p.errors = append(p.errors, fmt.Sprintf("%s: %v", what, err))
	}
}

func (p *probe) readyOnce(ctx context.Context, base string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/readyz", nil)
	if err != nil {
		return err
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %s", resp.Status)
	}
	return nil
}

// probeReport summarises the probes.
type probeReport struct {
	Readyz, Metrics probeStats
	Errors          []string
}

type probeStats struct {
	N        int
	P50, Max time.Duration
}

func (p *probe) report() probeReport {
	p.mu.Lock()
	defer p.mu.Unlock()
	stats := func(d []time.Duration) probeStats {
		if len(d) == 0 {
			return probeStats{}
		}
		s := slices.Clone(d)
		slices.Sort(s)
		return probeStats{N: len(s), P50: s[len(s)/2], Max: s[len(s)-1]}
	}
	return probeReport{Readyz: stats(p.readyz), Metrics: stats(p.metrics), Errors: slices.Clone(p.errors)}
}

// serviceMetrics is a parsed /metrics scrape.
type serviceMetrics map[string]*dto.MetricFamily

// scraper reads /metrics: on the admin listener with its token, or on a
// [metrics] listen address without one. The storefront listener does not
// serve it.
type scraper struct {
	base   string // http://host:port
	token  string // the admin token; "" for a [metrics] listener
	client *http.Client
}

func newScraper(base, token string) scraper {
	return scraper{base: base, token: token, client: outbound.New(outbound.Options{Timeout: 10 * time.Second})}
}

// scrape reads and parses /metrics, and checks that it carries the order
// series.
func (s scraper) scrape(ctx context.Context) (serviceMetrics, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %s", resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	if families["cardflow_orders_open"] == nil {
		return nil, fmt.Errorf("no cardflow_orders_open series")
	}
	return serviceMetrics(families), nil
}

// scrapeAll reads every service's /metrics.
func scrapeAll(ctx context.Context, targets []endpoint) ([]serviceMetrics, error) {
	all := make([]serviceMetrics, len(targets))
	for i, t := range targets {
		m, err := t.scraper.scrape(ctx)
		if err != nil {
			return nil, err
		}
		all[i] = m
	}
	return all, nil
}

// total sums a counter over the services: each counts its own work.
func total(all []serviceMetrics, name string) float64 {
	sum := 0.0
	for _, m := range all {
		sum += m.value(name)
	}
	return sum
}

// value sums a family's series whose labels include the given pairs.
func (m serviceMetrics) value(name string, labels ...string) float64 {
	f := m[name]
	if f == nil {
		return 0
	}
	total := 0.0
next:
	for _, s := range f.GetMetric() {
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, l := range s.GetLabel() {
				if l.GetName() == labels[i] && l.GetValue() == labels[i+1] {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch {
		case s.Counter != nil:
			total += s.GetCounter().GetValue()
		case s.Gauge != nil:
			total += s.GetGauge().GetValue()
		case s.Untyped != nil:
			total += s.GetUntyped().GetValue()
		}
	}
	return total
}
