package config

import (
	"strings"
	"testing"
)

// TestTelegramWebhookNeedsASecretTelegramCanSend: webhook mode without a
// secret let anyone who reached the storefront listener post updates as an
// admin, and check said ok. Now a missing secret is an error on the
// [telegram] section, and a secret Telegram would refuse, or one short
// enough to guess, is an error on the key it came from, without the value.
func TestTelegramWebhookNeedsASecretTelegramCanSend(t *testing.T) {
	valid := readTestdata(t, "valid.toml")
	section := "\n[telegram] # here\ntoken = \"123:abc\"\ngroups = [-1001234567890]\nwebhook_url = \"https://ops.example.com/tg\"\n"
	for _, tc := range []struct {
		name, extra string
		env         map[string]string
		key, mark   string
		msg         []string
	}{
		{"no secret", "", nil, "telegram.webhook_secret", "# here",
			[]string{"must be set when telegram.webhook_url is set", "webhook_secret_env", "openssl rand -hex 24"}},
		{"secret of 8 characters", "webhook_secret = \"shortone\"\n", nil, "telegram.webhook_secret", "shortone",
			[]string{"8 characters and at least 16 are needed"}},
		{"secret with a colon from the environment", "webhook_secret_env = \"TG_HOOK\"\n",
			map[string]string{"TG_HOOK": "0123456789abcdef:bad"}, "telegram.webhook_secret_env", "TG_HOOK",
			[]string{"A-Z, a-z, 0-9, _ and -"}},
		{"secret of 300 characters", "webhook_secret = \"" + strings.Repeat("x", 300) + "\"\n", nil, "telegram.webhook_secret", "xxxx",
			[]string{"300 characters", "at most 256"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			setenv(t, tc.env)
			src := valid + section + tc.extra
			ps := loadProblems(t, writeConfig(t, src, nil))
			p, ok := findProblem(ps, tc.key)
			if !ok {
				t.Fatalf("no problem for %s; got:\n%v", tc.key, ps)
			}
			if want := lineOf(t, src, tc.mark); p.Line != want {
				t.Errorf("line = %d, want %d; problem: %s", p.Line, want, p)
			}
			for _, m := range tc.msg {
				if !strings.Contains(p.Msg, m) {
					t.Errorf("message %q does not contain %q", p.Msg, m)
				}
			}
			for _, secret := range []string{"shortone", "0123456789abcdef:bad", strings.Repeat("x", 300)} {
				if strings.Contains(ps.Error(), secret) {
					t.Errorf("the problems echo the secret:\n%v", ps)
				}
			}
		})
	}

	// A good secret passes, from the file or the environment.
	t.Setenv("TG_HOOK", "0123456789abcdef_ABCDEF-0123")
	if _, err := Load(writeConfig(t, valid+section+"webhook_secret_env = \"TG_HOOK\"\n", nil)); err != nil {
		t.Errorf("a good secret: %v", err)
	}
}
