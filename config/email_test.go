package config

import (
	"slices"
	"strings"
	"testing"
)

func TestMailIsOffWithoutAnEmailSectionAndStorefrontsDefaultTheirNameAndLanguage(t *testing.T) {
	c, err := Load(writeConfig(t, readTestdata(t, "valid.toml")+"\n[bot]\nlanguage = \"en\"\n", nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Email.Enabled() {
		t.Errorf("mail is on without [email]: %+v", c.Email)
	}
	s := c.Storefronts[0]
	if s.Name != "shop1" || s.Language != "en" || len(s.EmailEvents) != 0 {
		t.Errorf("storefront defaults: name %q, language %q, email_events %v; want the id, [bot] language, none", s.Name, s.Language, s.EmailEvents)
	}
}

// TestMailPortDefaultsBySecurity tries each security mode without a port.
func TestMailPortDefaultsBySecurity(t *testing.T) {
	for _, tc := range []struct {
		security string
		port     int
	}{{"", 465}, {`security = "tls"`, 465}, {`security = "starttls"`, 587}, {`security = "none"`, 25}} {
		t.Run(tc.security, func(t *testing.T) {
			src := readTestdata(t, "valid.toml") + "\n[email]\nhost = \"127.0.0.1\"\nfrom = \"noreply@shop.example.com\"\n" + tc.security + "\n"
			c, err := Load(writeConfig(t, src, nil))
			if err != nil {
				t.Fatal(err)
			}
			if c.Email.Port != tc.port || c.Email.Security == "" {
				t.Errorf("port %d security %q, want %d", c.Email.Port, c.Email.Security, tc.port)
			}
		})
	}
}

func TestMailConfigReadsItsPasswordLikeEverySecret(t *testing.T) {
	t.Setenv("CARDFLOW_TEST_SMTP_PASSWORD", "smtp-secret-value")
	src := strings.Replace(readTestdata(t, "valid.toml"), `id = "shop1"`,
		"id = \"shop1\"\nname = \"某某商城\"\nlanguage = \"zh\"\nemail_events = [\"order.delivered\", \"order.delayed\", \"order.refunded\", \"claim.resolved\"]", 1) +
		strings.Replace(mailSection, `password = "smtp-password"`, `password_env = "CARDFLOW_TEST_SMTP_PASSWORD"`, 1)
	c, err := Load(writeConfig(t, src, nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Email.Password.Reveal() != "smtp-secret-value" {
		t.Errorf("password not read from the environment")
	}
	if !slices.Contains(c.Secrets(), "smtp-secret-value") {
		t.Errorf("the SMTP password is not among the secrets the log redacts")
	}
	s := c.Storefronts[0]
	if s.Name != "某某商城" || len(s.EmailEvents) != 4 {
		t.Errorf("storefront %q events %v", s.Name, s.EmailEvents)
	}
}

// TestSecurityNoneIsAllowedToLoopbackAndPrivateAddresses tries the hosts a
// plain relay may have, and one it may not.
func TestSecurityNoneIsAllowedToLoopbackAndPrivateAddresses(t *testing.T) {
	for host, ok := range map[string]bool{"127.0.0.1": true, "localhost": true, "::1": true, "10.0.0.25": true,
		"192.168.1.2": true, "172.16.0.9": true, "fd00::25": true, "8.8.8.8": false, "relay.internal": false} {
		src := readTestdata(t, "valid.toml") + "\n[email]\nhost = \"" + host + "\"\nsecurity = \"none\"\nfrom = \"noreply@shop.example.com\"\n"
		_, err := Load(writeConfig(t, src, nil))
		if (err == nil) != ok {
			t.Errorf("host %s with security none: err = %v, want allowed=%v", host, err, ok)
		}
	}
}
