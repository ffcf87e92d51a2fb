// Package config is cardflow's TOML configuration: one struct, its defaults,
// a strict loader and one Validate with fix-it messages.
package config

import (
	"fmt"
	"time"

	"cardflow/internal/money"
)

// Config is the whole configuration file (config.toml.example documents it).
type Config struct {
	DataDir       string `toml:"data_dir"`
	MasterKeyFile string `toml:"master_key_file"`

	API         API          `toml:"api"`
	Admin       Admin        `toml:"admin"`
	Metrics     Metrics      `toml:"metrics"`
	Log         Log          `toml:"log"`
	Storefronts []Storefront `toml:"storefronts"`
	Suppliers   []Supplier   `toml:"suppliers"`
	Products    []Product    `toml:"products"`
	Processing  Processing   `toml:"processing"`
	Rules       []Rule       `toml:"rules"`
	Bot         Bot          `toml:"bot"`
	Telegram    Telegram     `toml:"telegram"`
	Operators   []Operator   `toml:"operators"`
	Alerts      Alerts       `toml:"alerts"`
	Report      Report       `toml:"report"`
	QQ          QQ           `toml:"qq"`
	Email       Email        `toml:"email"`
	Storage     Storage      `toml:"storage"`

	// Set by Load and Validate.
	file     string          // path of the loaded file, for problems
	lines    *lineMap        // where each key is written, for problems
	failed   map[string]bool // secrets whose _env/_file could not be read
	warnings []string
}

// API is the storefront-facing HTTP server.
type API struct {
	Listen string `toml:"listen"`
	// MaxConnections caps the connections served at once; more wait to be
	// accepted. Default 1024.
	MaxConnections int `toml:"max_connections"`
	// ReadTimeout bounds reading one request, headers and body (at most
	// 64 KiB); a client slower than that is cut. Default 10s.
	ReadTimeout Duration `toml:"read_timeout"`
}

// Metrics is the opt-in listener that serves /metrics without credentials,
// for a Prometheus on a private network. The admin listener always serves
// /metrics behind its token.
type Metrics struct {
	Listen string `toml:"listen"` // empty: off
}

// Admin is the operator HTTP API, bound to loopback by default.
type Admin struct {
	Listen    string `toml:"listen"`
	Token     Secret `toml:"token"`
	TokenEnv  string `toml:"token_env"`
	TokenFile string `toml:"token_file"`
}

// Log selects the logger's level and format.
type Log struct {
	Level  string `toml:"level"`  // trace | debug | info | warn | error
	Format string `toml:"format"` // json | console
}

// Storefront is one shop front that submits orders and receives callbacks.
type Storefront struct {
	ID string `toml:"id"`
	// Protocol is how the storefront talks to cardflow: cardflow's own
	// signed API, or a docking protocol an unmodified shop already speaks
	// (docs/docking.md). For a docking shop ID is also the api_key / app_id
	// it enters.
	Protocol    string `toml:"protocol"`
	Secret      Secret `toml:"secret"`
	SecretEnv   string `toml:"secret_env"`
	SecretFile  string `toml:"secret_file"`
	CallbackURL string `toml:"callback_url"`
	// CreditLimit is how far below zero a docking shop's prepaid balance
	// may go.
	CreditLimit money.Amount `toml:"credit_limit"`
	// SyncWindow (acg-faka) is how long a trade request waits for its
	// order's keys before it is answered without them; ClaimPeriod how long
	// such an order waits for the shop to come back for it before it is
	// refunded and its keys go back to stock.
	SyncWindow  Duration `toml:"sync_window"`
	ClaimPeriod Duration `toml:"claim_period"`
	// AllowInsecureCallback lets callback_url be plain http:// to a host
	// that is not loopback. Callbacks carry card keys: only for a path that
	// is private end to end.
	AllowInsecureCallback bool `toml:"allow_insecure_callback"`
	// Name is the shop's name as its buyers read it in mails; default
	// the id.
	Name string `toml:"name"`
	// EmailEvents are the order events mailed to a buyer whose contact is
	// an email address (docs/mail.md); they need [email]. Default none.
	EmailEvents []string `toml:"email_events"`
	// Language is the language of the storefront's mails (zh | en);
	// default [bot] language.
	Language string `toml:"language"`
}

// The events a storefront may mail to its buyers (email_events).
const (
	MailDelivered     = "order.delivered" // with the keys in full
	MailDelayed       = "order.delayed"
	MailRefunded      = "order.refunded"
	MailClaimResolved = "claim.resolved"
)

// MailEvents lists the events email_events may name.
func MailEvents() []string {
	return []string{MailDelivered, MailDelayed, MailRefunded, MailClaimResolved}
}

// Storefront protocols.
const (
	ProtocolCardflow      = "cardflow"       // cardflow's own signed API (docs/api.md)
	ProtocolDujiaoNext    = "dujiao-next"    // Dujiao-Next's site-to-site upstream API
	ProtocolDujiaoWebhook = "dujiao-webhook" // Dujiao-Next's generic webhook
	ProtocolAcgFaka       = "acg-faka"       // 异次元 acg-faka's shared store
)

// Docking reports whether the storefront is a shop that buys from cardflow
// over a docking protocol, paying from a prepaid balance.
func (s Storefront) Docking() bool { return s.Protocol != "" && s.Protocol != ProtocolCardflow }

// Supplier types.
const (
	SupplierStock = "stock" // own card-key inventory
	SupplierFulu  = "fulu"  // 福禄开放平台 2.0
	SupplierSim   = "sim"   // simulator for the demo and benchmarks
)

// Supplier is one source of goods. Which keys apply depends on Type.
type Supplier struct {
	Name string `toml:"name"`
	Type string `toml:"type"`

	// Remote suppliers (fulu, sim).
	Timeout Duration `toml:"timeout"` // one request; default 10s
	Grace   Duration `toml:"grace"`   // unknown outcome: "not found" is final after this; default 10m
	// Circuit breaker: after BreakerFailures requests in a row without an
	// answer the supplier is marked down; after BreakerProbe one request
	// probes it. Defaults 5 and 30s.
	BreakerFailures int      `toml:"breaker_failures"`
	BreakerProbe    Duration `toml:"breaker_probe"`
	// BalanceLow raises an alert when our prepaid balance at the supplier
	// falls below it (checked every few minutes); "0" turns it off.
	BalanceLow money.Amount `toml:"balance_low"`

	// fulu
	BaseURL       string `toml:"base_url"`
	AppKey        Secret `toml:"app_key"`
	AppKeyEnv     string `toml:"app_key_env"`
	AppKeyFile    string `toml:"app_key_file"`
	AppSecret     Secret `toml:"app_secret"`
	AppSecretEnv  string `toml:"app_secret_env"`
	AppSecretFile string `toml:"app_secret_file"`
	NotifyPath    string `toml:"notify_path"` // Fulu's callbacks arrive here on [api] listen

	// sim
	Latency        Duration     `toml:"latency"`         // mean answer time; default 200ms
	FailRate       float64      `toml:"fail_rate"`       // share of orders definitely failed
	UnknownRate    float64      `toml:"unknown_rate"`    // share of answers lost (the order may exist)
	DuplicateRate  float64      `toml:"duplicate_rate"`  // share of orders that return an already issued card
	OutageRate     float64      `toml:"outage_rate"`     // chance per minute that an outage starts
	OutageDuration Duration     `toml:"outage_duration"` // how long an outage lasts; default 1m
	UnitCost       money.Amount `toml:"unit_cost"`       // what one supplier unit costs; default "0"
}

// Product kinds.
const (
	KindCard   = "card"
	KindDirect = "direct"
)

// Product is one sellable SKU and where its goods come from, in priority order.
type Product struct {
	SKU         string   `toml:"sku"`
	Name        string   `toml:"name"`
	Kind        string   `toml:"kind"`
	MaxQuantity int      `toml:"max_quantity"`
	BatchSize   int      `toml:"batch_size"`
	LowStock    int      `toml:"low_stock"`
	Sources     []Source `toml:"sources"`

	// What docking shops see and pay (docs/docking.md): a stable numeric
	// id (their product, SKU and item id), the wholesale unit price
	// charged to their balance, and optional catalogue text. A product
	// without an id is not offered to docking shops.
	ID          uint32       `toml:"id"`
	Price       money.Amount `toml:"price"`
	Category    string       `toml:"category"`
	Description string       `toml:"description"`
	// AccountLabel names the buyer's account field of a direct top-up
	// offered to docking shops (a Dujiao-Next form field, an acg-faka
	// widget); what the buyer types becomes the order's account.
	AccountLabel string `toml:"account_label"`
}

// DefaultAccountLabel is how a direct top-up's account field is labelled
// for docking shops' buyers when the config does not say.
const DefaultAccountLabel = "充值账号"

// Docked reports whether docking shops may buy the product.
func (p Product) Docked() bool { return p.ID != 0 }

// Source is one supplier a product can be bought from.
type Source struct {
	Supplier string       `toml:"supplier"`
	Item     string       `toml:"item"`
	Units    int          `toml:"units"`    // supplier units per product unit
	MaxCost  money.Amount `toml:"max_cost"` // per product unit; 0 means no limit
}

// Routing modes.
const (
	RoutingPriority = "priority"
	RoutingAdaptive = "adaptive" // reordered by the suppliers' scorecards
)

// Reasons that processing.auto_refund may list.
const (
	RefundInvalidAccount = "invalid_account"
	RefundOutOfStock     = "out_of_stock"
)

// Processing tunes the order engine.
type Processing struct {
	Workers    int      `toml:"workers"`
	StockWait  Duration `toml:"stock_wait"`
	Routing    string   `toml:"routing"`     // priority | adaptive
	AutoRefund []string `toml:"auto_refund"` // reasons refunded without a person
	// VerifyHold sends orders whose cards passed second verification to
	// review instead of delivering them.
	VerifyHold bool `toml:"verify_hold"`
}

// Bot is the platform-neutral operator layer.
type Bot struct {
	Language    string       `toml:"language"` // zh | en
	RefundLimit money.Amount `toml:"refund_limit"`
}

// Duration is a time.Duration written as a Go duration string ("30s").
type Duration time.Duration

// Std returns the standard library value.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// String formats the duration like time.Duration ("30m0s").
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalText writes the Go duration string.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads a Go duration string such as "30s" or "1h30m".
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		// time's own message only repeats the input; say what to write instead.
		return fmt.Errorf("invalid duration %q: write a Go duration such as \"30s\", \"5m\" or \"1h30m\"", b)
	}
	*d = Duration(v)
	return nil
}

// Rule actions.
const (
	ActionReview = "review" // hold for a person
	ActionRefund = "refund" // refuse: refund at once
	ActionAllow  = "allow"  // let it through, skipping later rules
)

// Rule is one intake rule: an expression over the order and the buyer's
// history, evaluated in order; the first match decides.
type Rule struct {
	Name   string `toml:"name"`
	When   string `toml:"when"`
	Action string `toml:"action"`
}

// DefaultRules mirror the classic manual thresholds of a 卡盟 shop. They
// apply when the file has no rules key at all; `rules = []` turns rules off.
func DefaultRules() []Rule {
	return []Rule{
		{Name: "large-order", When: "order.amount > 500", Action: ActionReview},
		{Name: "buyer-velocity", When: "buyer.orders_1h >= 5", Action: ActionReview},
	}
}

// Operator roles.
const (
	RoleViewer   = "viewer"
	RoleOperator = "operator"
	RoleAdmin    = "admin"
)

// Operator is a person allowed to act from chat.
type Operator struct {
	Name       string `toml:"name"`
	Role       string `toml:"role"`
	TelegramID int64  `toml:"telegram_id"` // 0: not on Telegram
	// QQ has no stable user ids to write here: an operator binds their QQ
	// identity by typing /bind CODE (a one-time code from an admin).
}

// Telegram is the Telegram operator channel; it is on when a token is set.
type Telegram struct {
	Token     Secret  `toml:"token"`
	TokenEnv  string  `toml:"token_env"`
	TokenFile string  `toml:"token_file"`
	ServerURL string  `toml:"server_url"` // empty: Telegram's; or a self-hosted Bot API server
	Proxy     string  `toml:"proxy"`      // http://, https:// or socks5:// URL
	Groups    []int64 `toml:"groups"`     // operator group chat ids (negative numbers)
	// WebhookURL switches from long polling to a webhook: Telegram posts
	// updates to this public https URL, whose path is served on [api] listen.
	WebhookURL        string `toml:"webhook_url"`
	WebhookSecret     Secret `toml:"webhook_secret"`
	WebhookSecretEnv  string `toml:"webhook_secret_env"`
	WebhookSecretFile string `toml:"webhook_secret_file"`
}

// Enabled reports whether the Telegram channel runs.
func (t Telegram) Enabled() bool { return t.Token != "" }

// QQ is the official QQ bot channel; it is on when app_id is set. QQ calls
// the webhook on [api] listen; operators bind themselves with /bind CODE.
type QQ struct {
	AppID       string   `toml:"app_id"`
	Secret      Secret   `toml:"secret"`
	SecretEnv   string   `toml:"secret_env"`
	SecretFile  string   `toml:"secret_file"`
	WebhookPath string   `toml:"webhook_path"` // default /qq/webhook
	APIURL      string   `toml:"api_url"`      // empty: https://api.sgroup.qq.com
	TokenURL    string   `toml:"token_url"`    // empty: https://bots.qq.com
	Groups      []string `toml:"groups"`       // group_openids of operator groups; empty: wherever a bound operator speaks
}

// Enabled reports whether the QQ channel runs.
func (q QQ) Enabled() bool { return q.AppID != "" }

// Email is the mail server that buyers' mails go out through
// (docs/mail.md); mail is off while Host is empty.
type Email struct {
	Host string `toml:"host"`
	// Port defaults by Security: 465 for tls, 587 for starttls, 25 for
	// none.
	Port         int    `toml:"port"`
	Security     string `toml:"security"` // tls (default) | starttls | none
	Username     string `toml:"username"` // empty: no SMTP AUTH
	Password     Secret `toml:"password"`
	PasswordEnv  string `toml:"password_env"`
	PasswordFile string `toml:"password_file"`
	From         string `toml:"from"` // "Name <address>" or an address
}

// Mail server security.
const (
	SecurityTLS      = "tls"      // TLS from the first byte (port 465)
	SecurityStartTLS = "starttls" // plain, then STARTTLS, required (port 587)
	SecurityNone     = "none"     // no TLS: only to a relay on loopback or a private network
)

// Enabled reports whether buyer mails go out.
func (e Email) Enabled() bool { return e.Host != "" }

// DefaultPort is the port of a security mode.
func DefaultPort(security string) int {
	switch security {
	case SecurityStartTLS:
		return 587
	case SecurityNone:
		return 25
	}
	return 465
}

// Alerts shape how alerts reach chats.
// Report schedules the daily report.
type Report struct {
	DailyAt  string `toml:"daily_at"` // local time of day, "HH:MM"; default 09:00
	Timezone string `toml:"timezone"` // IANA zone; default Asia/Shanghai
}

type Alerts struct {
	GroupWait      Duration `toml:"group_wait"`      // alerts within this of the last message go out together; default 30s
	RepeatInterval Duration `toml:"repeat_interval"` // an open alert is said again after this; default 4h
}

// Storage is where cardflow keeps its state (docs/storage.md): the embedded
// bbolt file in data_dir (one process), or a PostgreSQL database that
// several cardflow processes share.
type Storage struct {
	Backend string `toml:"backend"` // bbolt (default) | postgres
	// DSN is the PostgreSQL connection string, a URL
	// (postgres://user:password@host:5432/db) or key=value pairs. It holds
	// a password, so it is a secret like the others: dsn_env (default
	// CARDFLOW_DATABASE_URL), dsn_file or dsn.
	DSN     Secret `toml:"dsn"`
	DSNEnv  string `toml:"dsn_env"`
	DSNFile string `toml:"dsn_file"`
	// MaxConnections caps this process's connections to PostgreSQL.
	// Default 16.
	MaxConnections int `toml:"max_connections"`
}

// Storage backends.
const (
	BackendBolt     = "bbolt"
	BackendPostgres = "postgres"
)

// Postgres reports whether the state is kept in PostgreSQL.
func (s Storage) Postgres() bool { return s.Backend == BackendPostgres }
