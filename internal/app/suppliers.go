package app

import (
	"fmt"
	"net/http"
	"time"

	"github.com/rs/zerolog"

	"cardflow/api"
	"cardflow/config"
	"cardflow/internal/outbound"
	"cardflow/suppliers"
	"cardflow/suppliers/fulu"
	"cardflow/suppliers/sim"
)

// buildSources makes a client for every remote supplier in the config, and
// the callback routes of those that call back.
func buildSources(cfg *config.Config, log zerolog.Logger) (map[string]suppliers.Supplier, []api.SupplierNotify, error) {
	sources := map[string]suppliers.Supplier{}
	var notify []api.SupplierNotify
	for i, s := range cfg.Suppliers {
		switch s.Type {
		case config.SupplierFulu:
			c, err := fulu.New(fulu.Options{
				BaseURL: s.BaseURL, AppKey: s.AppKey.Reveal(), AppSecret: s.AppSecret.Reveal(),
				HTTP: supplierHTTP(s.Timeout.Std()), Log: log.With().Str("supplier", s.Name).Logger(),
			})
			if err != nil {
				return nil, nil, fmt.Errorf("supplier %s: %w", s.Name, err)
			}
			sources[s.Name] = c
			if s.NotifyPath != "" {
				notify = append(notify, api.SupplierNotify{Supplier: s.Name, Path: s.NotifyPath, Parse: c.ParseNotify,
					Owner: fmt.Sprintf("suppliers[%d].notify_path", i)})
			}
		case config.SupplierSim:
			sources[s.Name] = sim.New(sim.Options{
				Name: s.Name, Latency: s.Latency.Std(), FailRate: s.FailRate, UnknownRate: s.UnknownRate,
				DuplicateRate: s.DuplicateRate, OutageRate: s.OutageRate, OutageDuration: s.OutageDuration.Std(),
				UnitCost: s.UnitCost, Now: time.Now,
			})
		}
	}
	return sources, notify, nil
}

// supplierHTTP is a client that keeps a connection for each request the
// engine may have in flight: the default two idle connections per host
// would redial for almost every purchase under load.
func supplierHTTP(timeout time.Duration) *http.Client {
	return outbound.New(outbound.Options{Timeout: timeout, IdleConnsPerHost: 64})
}
