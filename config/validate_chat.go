package config

import (
	"fmt"
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
	v.webhookSecret(t)
	v.qq()
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

// Telegram sends the secret it was given with setWebhook in a header on
// every webhook call; it takes 1–256 of A-Z a-z 0-9 _ -. cardflow asks for
// at least 16, like every other secret of its own, so that it cannot be
// guessed.
const (
	minWebhookSecret = 16
	maxWebhookSecret = 256
	// webhookHint leaves out cardflow keygen: base64 holds + / =.
	webhookHint = "generate one with `openssl rand -hex 24`"
)

// CheckWebhookSecret says what is wrong with a Telegram webhook secret that
// is set, or returns nil. The error never repeats the secret.
func CheckWebhookSecret(s string) error {
	switch n := len(s); {
	case n < minWebhookSecret:
		return fmt.Errorf("the secret has %d characters and at least %d are needed; %s", n, minWebhookSecret, webhookHint)
	case n > maxWebhookSecret:
		return fmt.Errorf("the secret has %d characters and Telegram takes at most %d; %s", n, maxWebhookSecret, webhookHint)
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return fmt.Errorf("the secret may hold only A-Z, a-z, 0-9, _ and - (what Telegram sends back); %s", webhookHint)
		}
	}
	return nil
}

// webhookSecret checks telegram.webhook_secret: required in webhook mode,
// which without it takes updates from anyone who reaches [api] listen.
func (v *validator) webhookSecret(t Telegram) {
	ref := secretRef{key: "telegram.webhook_secret", value: &t.WebhookSecret, env: t.WebhookSecretEnv, file: t.WebhookSecretFile}
	if v.c.failed[ref.key] {
		return // already reported by resolveSecrets
	}
	secret := t.WebhookSecret.Reveal()
	switch {
	case secret == "" && t.WebhookURL != "":
		v.add(ref.key, `must be set when telegram.webhook_url is set, or anyone who reaches [api] listen can post updates as an operator; write webhook_secret_env = "TELEGRAM_WEBHOOK_SECRET" and export it with a random value; %s`, webhookHint)
	case secret != "":
		if err := CheckWebhookSecret(secret); err != nil {
			v.add(ref.source(), "%v", err)
		}
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

// qq checks [qq].
func (v *validator) qq() {
	q := v.c.QQ
	section := q.SecretEnv != "" || q.SecretFile != "" || q.Secret != "" || len(q.Groups) > 0 || q.APIURL != "" || q.TokenURL != ""
	if section && q.AppID == "" {
		v.add("qq.app_id", `the QQ channel needs the bot's app_id (QQ 开放平台 → 开发设置), like app_id = "102012345", or remove [qq]`)
	}
	if q.AppID != "" && q.Secret == "" && !v.c.failed["qq.secret"] {
		v.add("qq.secret_env", `the QQ channel needs the bot's AppSecret; write secret_env = "QQ_BOT_SECRET"`)
	}
	if q.AppID != "" && !strings.HasPrefix(q.WebhookPath, "/") {
		v.add("qq.webhook_path", `%q must be a path on [api] listen starting with /, like webhook_path = "/qq/webhook"`, q.WebhookPath)
	}
	for key, u := range map[string]string{"qq.api_url": q.APIURL, "qq.token_url": q.TokenURL} {
		if u != "" && !httpURL(u, false) {
			v.add(key, `%q is not an absolute http(s) URL; leave it empty for QQ's own`, u)
		}
	}
	for i, g := range q.Groups {
		if strings.TrimSpace(g) == "" {
			v.add("qq.groups", "entry %d is empty; use the group_openid QQ sends in the group's events", i)
		}
	}
}
