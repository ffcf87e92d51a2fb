package config

import (
	"net/url"
	"strings"
)

// supplierKeys checks the keys that belong to a supplier's type, and that no
// key of another type is set (a fulu base_url on a sim supplier is a typo
// that would otherwise be silently ignored).
func (v *validator) supplierKeys(key string, s Supplier) {
	foreign := func(name string, set bool, types ...string) {
		if set {
			v.add(key+"."+name, "applies only to %s suppliers; remove it from this %s supplier", strings.Join(types, " and "), s.Type)
		}
	}
	remote := s.Type == SupplierFulu || s.Type == SupplierSim
	if remote {
		if s.Timeout <= 0 {
			v.add(key+".timeout", `must be positive; write it like timeout = "10s"`)
		}
		if s.Grace <= 0 {
			v.add(key+".grace", `must be positive; write it like grace = "10m"`)
		}
		if s.BreakerFailures < 1 {
			v.add(key+".breaker_failures", "%d is out of range; use 1 or more (default 5)", s.BreakerFailures)
		}
		if s.BreakerProbe <= 0 {
			v.add(key+".breaker_probe", `must be positive; write it like breaker_probe = "30s"`)
		}
		if s.BalanceLow < 0 {
			v.add(key+".balance_low", `must not be negative; write it like balance_low = "1000.00", or "0" for no alert`)
		}
	} else {
		foreign("timeout", s.Timeout != 0, SupplierFulu, SupplierSim)
		foreign("grace", s.Grace != 0, SupplierFulu, SupplierSim)
		foreign("breaker_failures", s.BreakerFailures != 0, SupplierFulu, SupplierSim)
		foreign("breaker_probe", s.BreakerProbe != 0, SupplierFulu, SupplierSim)
		foreign("balance_low", s.BalanceLow != 0, SupplierFulu, SupplierSim)
	}
	if s.Type == SupplierFulu {
		if u, err := url.Parse(s.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			v.add(key+".base_url", `%q is not an absolute http(s) URL; write it like base_url = "https://openapi.fulu.com"`, s.BaseURL)
		}
		for _, sec := range []struct {
			name  string
			value Secret
		}{{"app_key", s.AppKey}, {"app_secret", s.AppSecret}} {
			if sec.value == "" && !v.c.failed[key+"."+sec.name] {
				v.add(key+"."+sec.name, `must be set; write it like %s_env = "FULU_%s"`, sec.name, strings.ToUpper(sec.name))
			}
		}
		if s.AppSecret != "" && len(s.AppSecret) != 32 {
			v.add(key+".app_secret", "is %d characters; a Fulu AppSecret has 32 (it is also the card decryption key): copy it again from the merchant console", len(s.AppSecret))
		}
	} else {
		foreign("base_url", s.BaseURL != "", SupplierFulu)
		foreign("app_key", s.AppKey != "" || s.AppKeyEnv != "" || s.AppKeyFile != "", SupplierFulu)
		foreign("app_secret", s.AppSecret != "" || s.AppSecretEnv != "" || s.AppSecretFile != "", SupplierFulu)
		foreign("notify_path", s.NotifyPath != "", SupplierFulu)
	}
	if s.Type == SupplierSim {
		for _, r := range []struct {
			name string
			rate float64
		}{{"fail_rate", s.FailRate}, {"unknown_rate", s.UnknownRate}, {"duplicate_rate", s.DuplicateRate}, {"outage_rate", s.OutageRate}} {
			// Written so that NaN ("fail_rate = nan" is valid TOML) fails
			// too: every comparison with NaN is false (found by FuzzLoad).
			if !(r.rate >= 0 && r.rate <= 1) {
				v.add(key+"."+r.name, "%v is not a share; use a number from 0 to 1, like %s = 0.02", r.rate, r.name)
			}
		}
		if s.Latency < 0 {
			v.add(key+".latency", `must not be negative; write it like latency = "200ms"`)
		}
		if s.OutageDuration <= 0 {
			v.add(key+".outage_duration", `must be positive; write it like outage_duration = "1m"`)
		}
		if s.UnitCost < 0 {
			v.add(key+".unit_cost", `must not be negative; write it like unit_cost = "9.80"`)
		}
	} else {
		foreign("latency", s.Latency != 0, SupplierSim)
		foreign("fail_rate", s.FailRate != 0, SupplierSim)
		foreign("unknown_rate", s.UnknownRate != 0, SupplierSim)
		foreign("duplicate_rate", s.DuplicateRate != 0, SupplierSim)
		foreign("outage_rate", s.OutageRate != 0, SupplierSim)
		foreign("outage_duration", s.OutageDuration != 0, SupplierSim)
		foreign("unit_cost", s.UnitCost != 0, SupplierSim)
	}
}
