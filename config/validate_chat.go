package config

import (
	"net/url"
	"strings"
)

// telegram checks [telegram] and [alerts].
func (v *validator) telegram() {
	t := v.c.Telegram
	section := t.TokenEnv != "" || t.TokenFile != "" || t.Token != "" || len(t.Groups) > 0 || t.ServerURL != "" ||
		t.Proxy != "" || t.WebhookURL != ""
	if section && t.Token == "" && !v.c.failed["telegram.token"] {
		v.add("telegram.token_env", `a token is needed for the Telegram channel; write token_env = "TELEGRAM_TOKEN" (from @BotFather), or remove [telegram]`)
	}
	if t.Token != "" && len(t.Groups) == 0 {
		v.add("telegram.groups", "must list at least one chat id when telegram.token is set, like groups = [-1001234567890] (add the bot to the group and read the id from an update)")
	}
	for i, g := range t.Groups {
		if g == 0 {
			v.add("telegram.groups", "entry %d is 0; use the group's chat id, a negative number like -1001234567890", i)
		}
	}
	if t.ServerURL != "" && !httpURL(t.ServerURL, false) {
		v.add("telegram.server_url", `%q is not an absolute http(s) URL; leave it empty for Telegram's, or write server_url = "http://127.0.0.1:8081"`, t.ServerURL)
	}
	if t.Proxy != "" {
		if u, err := url.Parse(t.Proxy); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "socks5") {
			v.add("telegram.proxy", `%q is not a proxy URL; write proxy = "socks5://127.0.0.1:1080" or "http://127.0.0.1:8888"`, t.Proxy)
		}
	}
	if t.WebhookURL != "" && !httpURL(t.WebhookURL, true) {
		v.add("telegram.webhook_url", `%q is not an absolute https URL; Telegram only calls https, like webhook_url = "https://ops.example.com/telegram/hook"`, t.WebhookURL)
	}
	a := v.c.Alerts
	if a.GroupWait < 0 {
		v.add("alerts.group_wait", `must not be negative; write it like group_wait = "30s"`)
	}
	if a.RepeatInterval <= 0 {
		v.add("alerts.repeat_interval", `must be positive; write it like repeat_interval = "4h"`)
	}
	if _, err := v.c.Report.Clock(); err != nil {
		v.add("report.daily_at", `%q is not a time of day; write it like daily_at = "09:00"`, v.c.Report.DailyAt)
	}
	if _, err := v.c.Report.Location(); err != nil {
		v.add("report.timezone", `%q is not a time zone; write an IANA name like timezone = "Asia/Shanghai"`, v.c.Report.Timezone)
	}
}

func httpURL(s string, httpsOnly bool) bool {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return false
	}
	if httpsOnly {
		return u.Scheme == "https"
	}
	return u.Scheme == "http" || u.Scheme == "https" || strings.HasPrefix(u.Scheme, "http")
}
