package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

var (
	storefrontIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)
	supplierNamePattern = regexp.MustCompile(`^[a-z0-9_-]{1,32}$`)
	skuPattern          = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

	supplierTypes = []string{SupplierStock, SupplierFulu, SupplierSim}
	refundReasons = []string{RefundInvalidAccount, RefundOutOfStock}
)

const genHint = "generate one with `openssl rand -hex 24` or `cardflow keygen`"

// Validate checks the whole configuration and returns every problem as
// Problems, or nil. Load calls it. It does not read _env or _file secrets
// (Load does); a Config built in code sets the Secret fields itself.
// Warnings() holds the warnings of the latest call.
func (c *Config) Validate() error {
	if ps := c.validate(); len(ps) > 0 {
		return ps
	}
	return nil
}

// Warnings returns what Validate found risky but allowed, one
// "file:line: key: message" per entry.
func (c *Config) Warnings() []string { return c.warnings }

type validator struct {
	c   *Config
	rep *reporter
}

func (c *Config) validate() Problems {
	v := &validator{c: c, rep: &reporter{file: c.file, lines: c.lines}}
	c.warnings = nil
	v.server()
	v.listeners()
	v.oneOf("log.level", c.Log.Level, "trace", "debug", "info", "warn", "error")
	v.oneOf("log.format", c.Log.Format, "json", "console")
	v.storefronts()
	suppliers := v.suppliers()
	v.products(suppliers)
	v.processing()
	v.rules()
	v.operators()
	v.telegram()
	v.routes()
	v.oneOf("bot.language", c.Bot.Language, "zh", "en")
	v.email()
	v.storage()
	if c.Bot.RefundLimit < 0 {
		v.rep.add("bot.refund_limit", "must not be negative; write it like refund_limit = \"500.00\"")
	}
	return v.rep.list
}

func (v *validator) add(key, format string, args ...any) { v.rep.add(key, format, args...) }

func (v *validator) oneOf(key, value string, allowed ...string) {
	if !slices.Contains(allowed, value) {
		v.add(key, "%q is not allowed; use one of: %s", value, strings.Join(allowed, ", "))
	}
}

func (v *validator) server() {
	c := v.c
	if c.DataDir == "" {
		v.add("data_dir", `must be set; write it like data_dir = "./data"`)
	}
	apiHost, apiPort, apiOK := v.listen("api.listen", c.API.Listen, "127.0.0.1:8080")
	adminHost, adminPort, adminOK := v.listen("admin.listen", c.Admin.Listen, "127.0.0.1:8081")
	if apiOK && adminOK && apiPort == adminPort && apiPort != "0" && (apiHost == adminHost || apiHost == "" || adminHost == "") {
		v.add("admin.listen", "%s collides with api.listen %s; give the admin API its own port, like \"127.0.0.1:8081\"", c.Admin.Listen, c.API.Listen)
	}
	if adminOK && !isLoopback(adminHost) {
		w := Problem{File: c.file, Line: c.lines.lookup("admin.listen"), Key: "admin.listen",
			Msg: fmt.Sprintf("%s is not a loopback address, so the admin API is reachable from the network; prefer \"127.0.0.1:8081\" or keep it behind a firewall", c.Admin.Listen)}
		c.warnings = append(c.warnings, w.String())
	}

	ref := c.adminTokenRef()
	if c.failed[ref.key] {
		return // already reported by resolveSecrets
	}
	switch n := utf8.RuneCountInString(c.Admin.Token.Reveal()); {
	case n == 0:
		v.add(ref.source(), "no admin token; export %s (or set admin.token_file) with a random value: %s", DefaultAdminTokenEnv, genHint)
	case n < 16:
		v.add(ref.source(), "the admin token has %d characters and at least 16 are needed; %s", n, genHint)
	}
}

// listen checks a host:port address.
func (v *validator) listen(key, addr, example string) (host, port string, ok bool) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		reason := err.Error()
		if ae := (*net.AddrError)(nil); errors.As(err, &ae) {
			reason = ae.Err
		}
		v.add(key, "%q is not host:port (%s); write it like %q", addr, reason, example)
		return "", "", false
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		v.add(key, "port %q must be a number from 0 to 65535; write it like %q", port, example)
		return "", "", false
	}
	return host, port, true
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (v *validator) storefronts() {
	c := v.c
	if len(c.Storefronts) == 0 {
		v.add("storefronts", "at least one [[storefronts]] is required; add one with id, secret_env and callback_url (see config.toml.example)")
	}
	ids, tokens := map[string]int{}, map[string]int{}
	for i, s := range c.Storefronts {
		key := fmt.Sprintf("storefronts[%d]", i)
		switch j, dup := ids[s.ID]; {
		case s.ID == "":
			v.add(key+".id", `must be set; write it like id = "shop1"`)
		case !storefrontIDPattern.MatchString(s.ID):
			v.add(key+".id", "%q must be 1 to 32 letters, digits, '_' or '-'", s.ID)
		case dup:
			v.add(key+".id", "%q is already the id of storefronts[%d]; give every storefront its own id", s.ID, j)
		default:
			ids[s.ID] = i
		}
		if ref := c.storefrontSecretRef(i); !c.failed[ref.key] {
			n := len(s.Secret.Reveal())
			switch {
			case n == 0:
				v.add(ref.source(), "no secret; set secret_env to an environment variable holding a random value (or use secret_file): %s", genHint)
			case n < 16:
				v.add(ref.source(), "the secret has %d bytes and at least 16 are needed; %s", n, genHint)
			}
		}
		v.protocol(key, s)
		v.bearer(key, i, s, tokens)
		if s.Protocol == ProtocolAcgFaka {
			continue // answered in the request itself: no callback_url
		}
		if u, err := url.Parse(s.CallbackURL); s.CallbackURL == "" {
			v.add(key+".callback_url", `must be set; write it like callback_url = "https://shop.example.com/cardflow/callback"`)
		} else if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			v.add(key+".callback_url", "%q is not an absolute http or https URL; write it like \"https://shop.example.com/cardflow/callback\"", s.CallbackURL)
		} else {
			v.callbackScheme(key, s)
		}
	}
}

// suppliers checks [[suppliers]] and returns the declared names.
func (v *validator) suppliers() map[string]string {
	c := v.c
	if len(c.Suppliers) == 0 {
		v.add("suppliers", `at least one [[suppliers]] is required; for own card-key stock add name = "own" and type = "stock"`)
	}
	types := map[string]string{}
	index := map[string]int{}
	for i, s := range c.Suppliers {
		key := fmt.Sprintf("suppliers[%d]", i)
		switch j, dup := index[s.Name]; {
		case s.Name == "":
			v.add(key+".name", `must be set; write it like name = "own"`)
		case !supplierNamePattern.MatchString(s.Name):
			v.add(key+".name", "%q must be 1 to 32 lowercase letters, digits, '_' or '-'", s.Name)
		case dup:
			v.add(key+".name", "%q is already the name of suppliers[%d]; give every supplier its own name", s.Name, j)
		default:
			index[s.Name] = i
		}
		if !slices.Contains(supplierTypes, s.Type) {
			what := fmt.Sprintf("%q is not supported by this build", s.Type)
			if s.Type == "" {
				what = "must be set"
			}
			v.add(key+".type", "%s; supported types: %s", what, strings.Join(supplierTypes, ", "))
		}
		v.supplierKeys(key, s)
		if s.Name != "" {
			types[s.Name] = s.Type
		}
	}
	return types
}
