package api

import (
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// httpMetrics times every request by listener, route pattern and status
// code. The route is the mux pattern ("POST /v1/orders"), never the raw
// path: order ids and unknown paths would make a series each.
type httpMetrics struct {
	duration    *prometheus.HistogramVec
	connections *prometheus.GaugeVec
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	m := &httpMetrics{duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "cardflow_http_request_seconds",
		Help:    "HTTP requests served, by listener, route and status code.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10},
	}, []string{"listener", "route", "code"}),
		connections: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "cardflow_http_connections",
			Help: "Connections open on each listener (the storefront listener's are capped by api.max_connections).",
		}, []string{"listener"})}
	if reg != nil {
		reg.MustRegister(m.duration, m.connections)
	}
	return m
}

// ConnState counts a listener's open connections in
// cardflow_http_connections; set it as the http.Server's ConnState.
func (s *Server) ConnState(listener string) func(net.Conn, http.ConnState) {
	g := s.http.connections.WithLabelValues(listener)
	return func(_ net.Conn, st http.ConnState) {
		switch st {
		case http.StateNew:
			g.Inc()
		case http.StateClosed, http.StateHijacked:
			g.Dec()
		}
	}
}

// metricsHandler serves the registry in the Prometheus text format.
func metricsHandler(g prometheus.Gatherer) http.Handler {
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// codeRecorder remembers the status code a handler wrote.
type codeRecorder struct {
	http.ResponseWriter
	code int
}

func (c *codeRecorder) WriteHeader(code int) {
	if c.code == 0 {
		c.code = code
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *codeRecorder) Write(b []byte) (int, error) {
	if c.code == 0 {
		c.code = http.StatusOK
	}
	return c.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (pprof's
// profile handler extends its write deadline).
func (c *codeRecorder) Unwrap() http.ResponseWriter { return c.ResponseWriter }

func (m *httpMetrics) observe(listener, route string, code int, took time.Duration) {
	if route == "" {
		route = "unmatched"
	}
	if code == 0 {
		code = http.StatusOK
	}
	m.duration.WithLabelValues(listener, route, statusText(code)).Observe(took.Seconds())
}

// statusText renders a code without fmt, on the hot path of every request.
func statusText(code int) string {
	if code < 100 || code > 999 {
		return "other"
	}
	return string([]byte{byte('0' + code/100), byte('0' + code/10%10), byte('0' + code%10)})
}
