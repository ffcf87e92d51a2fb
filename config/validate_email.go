package config

import (
	"fmt"
	"net"
	"net/mail"
	"slices"
	"strings"
	"unicode"
)

// email checks [email] and what each storefront asks to mail.
func (v *validator) email() {
	c, e := v.c, v.c.Email
	for i, s := range c.Storefronts {
		v.storefrontMail(fmt.Sprintf("storefronts[%d]", i), s, e.Enabled())
	}
	if !e.Enabled() {
		if e.From != "" || e.Username != "" || e.Port != 0 || e.Security != "" {
			v.add("email.host", `must be set for buyer mails; write it like host = "smtp.example.com", or remove [email]`)
		}
		return
	}
	if strings.ContainsAny(e.Host, " /@") || (strings.Contains(e.Host, ":") && net.ParseIP(e.Host) == nil) {
		v.add("email.host", "%q is not a host name; write the name alone, like host = \"smtp.example.com\", and the port in port", e.Host)
	}
	if e.Port < 1 || e.Port > 65535 {
		v.add("email.port", "%d is out of range; use 1 to 65535 (default %d for security = %q)", e.Port, DefaultPort(e.Security), e.Security)
	}
	switch e.Security {
	case SecurityTLS, SecurityStartTLS:
	case SecurityNone:
		if !isPrivateHost(e.Host) {
			v.add("email.security", "\"none\" sends card keys and the password unencrypted, so it is only for a relay on loopback or a private network, given by its address; %q is neither: use \"tls\" or \"starttls\"", e.Host)
		}
	default:
		v.add("email.security", "%q is not allowed; use one of: tls (default, port 465), starttls (port 587), none (a relay on loopback or a private network)", e.Security)
	}
	if e.From == "" {
		v.add("email.from", `must be set; write it like from = "某某商城 <noreply@shop.example.com>"`)
	} else if _, err := mail.ParseAddress(e.From); err != nil {
		v.add("email.from", "%q is not a mail address (%v); write it like from = \"某某商城 <noreply@shop.example.com>\"", e.From, err)
	}
	ref := secretRef{"email.password", &c.Email.Password, e.PasswordEnv, e.PasswordFile}
	switch has := e.Password != ""; {
	case c.failed[ref.key]:
	case e.Username != "" && !has:
		v.add("email.password", "must be set with username; set password_env to an environment variable holding it (or use password_file)")
	case e.Username == "" && has:
		v.add(ref.source(), "is set but username is not; set username too, or remove the password for a relay without login")
	}
}

// storefrontMail checks one storefront's name, language and email_events.
func (v *validator) storefrontMail(key string, s Storefront, enabled bool) {
	if len(s.Name) > 64 || strings.IndexFunc(s.Name, unicode.IsControl) >= 0 {
		v.add(key+".name", "%q must be at most 64 bytes without control characters, like name = \"某某商城\"", s.Name)
	}
	if s.Language != "" || len(s.EmailEvents) > 0 {
		v.oneOf(key+".language", s.Language, "zh", "en")
	}
	seen := map[string]bool{}
	for j, ev := range s.EmailEvents {
		k := fmt.Sprintf("%s.email_events[%d]", key, j)
		switch {
		case !slices.Contains(MailEvents(), ev):
			v.add(k, "%q is not an event mailed to buyers; use any of: %s", ev, strings.Join(MailEvents(), ", "))
		case seen[ev]:
			v.add(k, "%q is listed twice; list each event once", ev)
		}
		seen[ev] = true
	}
	if len(s.EmailEvents) > 0 && !enabled {
		v.add(key+".email_events", "needs a mail server to send through: add an [email] section with host and from (see config.toml.example), or remove email_events")
	}
}

// isPrivateHost reports whether host is loopback or an address of a
// private network. A name other than localhost is not: where it points is
// only known when it is looked up.
func isPrivateHost(host string) bool {
	if isLoopback(host) {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && (ip.IsPrivate() || ip.IsLinkLocalUnicast())
}
