package config

import (
	"fmt"
	"net/url"

	"cardflow/internal/routes"
)

// Mounts lists the paths this config serves on [api] listen beside the
// storefront API, each with the key that chose it, in the order the server
// mounts them. Validate checks them with the rules the server applies.
func (c *Config) Mounts() []routes.Mount {
	var ms []routes.Mount
	for i, s := range c.Suppliers {
		if s.Type == SupplierFulu && s.NotifyPath != "" {
			ms = append(ms, routes.Mount{Owner: fmt.Sprintf("suppliers[%d].notify_path", i), Path: s.NotifyPath})
		}
	}
	if c.Telegram.Enabled() && c.Telegram.WebhookURL != "" {
		ms = append(ms, routes.Mount{Owner: "telegram.webhook_url", Path: c.Telegram.WebhookPath()})
	}
	if c.QQ.Enabled() {
		ms = append(ms, routes.Mount{Owner: "qq.webhook_path", Path: c.QQ.WebhookPath})
	}
	return ms
}

// WebhookPath is the path of webhook_url, served on [api] listen; empty
// when the URL has none or does not parse.
func (t Telegram) WebhookPath() string {
	u, err := url.Parse(t.WebhookURL)
	if err != nil {
		return ""
	}
	return u.Path
}
