package config

import (
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"time"
)

// DefaultAdminTokenEnv is read for the admin token when none of admin.token,
// admin.token_env and admin.token_file is given.
const DefaultAdminTokenEnv = "CARDFLOW_ADMIN_TOKEN"

// DefaultDatabaseURLEnv is read for the PostgreSQL connection string when
// backend = "postgres" and none of storage.dsn, dsn_env and dsn_file is
// given.
const DefaultDatabaseURLEnv = "CARDFLOW_DATABASE_URL"

// DefaultDatabaseConnections is storage.max_connections when not given.
const DefaultDatabaseConnections = 16

// Defaults of the storefront listener's limits.
const (
	DefaultMaxConnections = 1024
	DefaultReadTimeout    = 10 * time.Second
)

// Default returns the configuration used for every key a file leaves out.
func Default() *Config {
	c := base()
	c.applyDefaults(nil)
	return c
}

// base holds the defaults a TOML decode can keep: top-level values.
func base() *Config {
	return &Config{
		DataDir: "./data",
		API:     API{Listen: "127.0.0.1:8080", MaxConnections: DefaultMaxConnections, ReadTimeout: Duration(DefaultReadTimeout)},
		Admin:   Admin{Listen: "127.0.0.1:8081"},
		Log:     Log{Level: "info", Format: "json"},
		Processing: Processing{
			Workers:   16,
			StockWait: Duration(30 * time.Minute),
			Routing:   RoutingPriority,
		},
		Bot:     Bot{Language: "zh", RefundLimit: 500_00},
		Alerts:  Alerts{GroupWait: Duration(30 * time.Second), RepeatInterval: Duration(4 * time.Hour)},
		Report:  Report{DailyAt: "09:00", Timezone: "Asia/Shanghai"},
		QQ:      QQ{WebhookPath: "/qq/webhook"},
		Storage: Storage{Backend: BackendBolt},
	}
}

// applyDefaults fills what a decode cannot: defaults that depend on other
// keys, and per-element defaults of products and sources. A zero value the
// file wrote explicitly (written[key]) is kept, so that `low_stock = 0` turns
// the alert off and `max_quantity = 0` is reported rather than hidden.
func (c *Config) applyDefaults(written map[string]bool) {
	if c.Admin.Token == "" && c.Admin.TokenEnv == "" && c.Admin.TokenFile == "" {
		c.Admin.TokenEnv = DefaultAdminTokenEnv
	}
	setInt := func(v *int, def int, key string) {
		if *v == 0 && !written[key] {
			*v = def
		}
	}
	if c.Rules == nil && !written["rules"] {
		c.Rules = DefaultRules()
	}
	for i := range c.Suppliers {
		s, key := &c.Suppliers[i], fmt.Sprintf("suppliers[%d]", i)
		if s.Type == SupplierStock {
			continue
		}
		setDuration := func(v *Duration, def time.Duration, name string) {
			if *v == 0 && !written[key+"."+name] {
				*v = Duration(def)
			}
		}
		setDuration(&s.Timeout, 10*time.Second, "timeout")
		setDuration(&s.Grace, 10*time.Minute, "grace")
		setDuration(&s.BreakerProbe, 30*time.Second, "breaker_probe")
		if s.BreakerFailures == 0 && !written[key+".breaker_failures"] {
			s.BreakerFailures = 5
		}
		if s.Type == SupplierSim {
			setDuration(&s.Latency, 200*time.Millisecond, "latency")
			setDuration(&s.OutageDuration, time.Minute, "outage_duration")
		}
		if s.Type == SupplierFulu && s.BaseURL == "" && !written[key+".base_url"] {
			s.BaseURL = "https://openapi.fulu.com"
		}
	}
	if st := &c.Storage; st.Postgres() {
		if st.DSN == "" && st.DSNEnv == "" && st.DSNFile == "" {
			st.DSNEnv = DefaultDatabaseURLEnv
		}
		setInt(&st.MaxConnections, DefaultDatabaseConnections, "storage.max_connections")
	}
	if c.Email.Enabled() {
		if c.Email.Security == "" && !written["email.security"] {
			c.Email.Security = SecurityTLS
		}
		if c.Email.Port == 0 && !written["email.port"] {
			c.Email.Port = DefaultPort(c.Email.Security)
		}
	}
	for i := range c.Storefronts {
		s, key := &c.Storefronts[i], fmt.Sprintf("storefronts[%d]", i)
		if s.Protocol == "" && !written[key+".protocol"] {
			s.Protocol = ProtocolCardflow
		}
		if s.Name == "" && !written[key+".name"] {
			s.Name = s.ID
		}
		if s.Language == "" && !written[key+".language"] {
			s.Language = c.Bot.Language
		}
		if s.Protocol == ProtocolAcgFaka {
			if s.SyncWindow == 0 && !written[key+".sync_window"] {
				s.SyncWindow = Duration(8 * time.Second)
			}
			if s.ClaimPeriod == 0 && !written[key+".claim_period"] {
				s.ClaimPeriod = Duration(24 * time.Hour)
			}
		}
	}
	for i := range c.Products {
		p, key := &c.Products[i], fmt.Sprintf("products[%d]", i)
		setInt(&p.MaxQuantity, 10, key+".max_quantity")
		setInt(&p.BatchSize, 5, key+".batch_size")
		setInt(&p.LowStock, 20, key+".low_stock")
		if p.Kind == "" && !written[key+".kind"] {
			p.Kind = KindCard
		}
		if p.Kind == KindDirect && p.AccountLabel == "" && !written[key+".account_label"] {
			p.AccountLabel = DefaultAccountLabel
		}
		for j := range p.Sources {
			setInt(&p.Sources[j].Units, 1, fmt.Sprintf("%s.sources[%d].units", key, j))
		}
	}
}

// resolvePaths makes data_dir and every *_file key relative to dir, the
// directory of the config file, so the service does not depend on its
// working directory.
func (c *Config) resolvePaths(dir string) {
	c.DataDir = resolvePath(dir, c.DataDir)
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		for _, f := range tomlFields(v.Type()) {
			fv := v.FieldByIndex(f.Index)
			switch {
			case isTable(f.Type):
				walk(fv)
			case isTableArray(f.Type):
				for i := 0; i < fv.Len(); i++ {
					walk(fv.Index(i))
				}
			case f.Type.Kind() == reflect.String && strings.HasSuffix(tagName(f), "_file"):
				fv.SetString(resolvePath(dir, fv.String()))
			}
		}
	}
	walk(reflect.ValueOf(c).Elem())
}

func resolvePath(dir, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

// FillDefaults gives the suppliers, products and sources of a Config built
// in code (the demo, tests) the defaults a file would get for keys it leaves
// out. Zero values are taken as "not given".
func (c *Config) FillDefaults() { c.applyDefaults(nil) }
