package config

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
)

const redacted = "<redacted>"

// Secret is a configured secret. Every way of printing or encoding it gives
// "<redacted>"; only Reveal returns the value.
type Secret string

// Reveal returns the secret's value.
func (s Secret) Reveal() string { return string(s) }

// String implements fmt.Stringer.
func (Secret) String() string { return redacted }

// GoString implements fmt.GoStringer, used by %#v.
func (Secret) GoString() string { return redacted }

// Format implements fmt.Formatter so that no verb (%x, %q, ...) prints the value.
func (Secret) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, redacted) }

// LogValue implements slog.LogValuer.
func (Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalText implements encoding.TextMarshaler.
func (Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// MarshalJSON implements json.Marshaler.
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// UnmarshalText accepts a literal secret from the config file.
func (s *Secret) UnmarshalText(b []byte) error {
	*s = Secret(b)
	return nil
}

// secretRef is one secret and its three spellings: key (literal), key_env
// and key_file.
type secretRef struct {
	key   string // dotted key of the literal, e.g. "storefronts[0].secret"
	value *Secret
	env   string
	file  string
}

// secretRefs lists every secret of the config; a new section adds one line.
func (c *Config) secretRefs() []secretRef {
	refs := []secretRef{c.adminTokenRef()}
	for i := range c.Storefronts {
		refs = append(refs, c.storefrontSecretRef(i))
	}
	tg := &c.Telegram
	refs = append(refs, secretRef{"telegram.token", &tg.Token, tg.TokenEnv, tg.TokenFile},
		secretRef{"telegram.webhook_secret", &tg.WebhookSecret, tg.WebhookSecretEnv, tg.WebhookSecretFile},
		secretRef{"qq.secret", &c.QQ.Secret, c.QQ.SecretEnv, c.QQ.SecretFile},
		secretRef{"email.password", &c.Email.Password, c.Email.PasswordEnv, c.Email.PasswordFile},
		secretRef{"storage.dsn", &c.Storage.DSN, c.Storage.DSNEnv, c.Storage.DSNFile})
	for i := range c.Suppliers {
		s, key := &c.Suppliers[i], fmt.Sprintf("suppliers[%d]", i)
		refs = append(refs,
			secretRef{key + ".app_key", &s.AppKey, s.AppKeyEnv, s.AppKeyFile},
			secretRef{key + ".app_secret", &s.AppSecret, s.AppSecretEnv, s.AppSecretFile})
	}
	return refs
}

func (c *Config) adminTokenRef() secretRef {
	a := &c.Admin
	return secretRef{"admin.token", &a.Token, a.TokenEnv, a.TokenFile}
}

func (c *Config) storefrontSecretRef(i int) secretRef {
	s := &c.Storefronts[i]
	return secretRef{fmt.Sprintf("storefronts[%d].secret", i), &s.Secret, s.SecretEnv, s.SecretFile}
}

// spelling returns the keys the secret is given by, in literal, _env, _file order.
func (r secretRef) spelling() []string {
	var keys []string
	if *r.value != "" {
		keys = append(keys, r.key)
	}
	if r.env != "" {
		keys = append(keys, r.key+"_env")
	}
	if r.file != "" {
		keys = append(keys, r.key+"_file")
	}
	return keys
}

// source returns the key the value came from, also after resolution.
func (r secretRef) source() string {
	switch {
	case r.env != "":
		return r.key + "_env"
	case r.file != "":
		return r.key + "_file"
	}
	return r.key
}

// resolveSecrets reads every _env and _file secret into its Secret field.
// A secret given no way at all is left empty for Validate to judge.
func (c *Config) resolveSecrets(rep *reporter) {
	c.failed = map[string]bool{}
	for _, ref := range c.secretRefs() {
		if key, err := ref.resolve(); err != nil {
			rep.add(key, "%v", err)
			c.failed[ref.key] = true
		}
	}
}

// resolve returns the offending key with its error.
func (r secretRef) resolve() (string, error) {
	given := r.spelling()
	switch {
	case len(given) > 1:
		return given[len(given)-1], fmt.Errorf("%s is also set; give the secret one way only: keep one of %s",
			strings.Join(given[:len(given)-1], " and "), strings.Join(given, ", "))
	case r.env != "":
		v, ok := os.LookupEnv(r.env)
		if !ok {
			return r.key + "_env", fmt.Errorf("environment variable %s is not set; export it or use %s_file", r.env, r.key)
		}
		if strings.TrimSpace(v) == "" {
			return r.key + "_env", fmt.Errorf("environment variable %s is empty; export it with the secret or use %s_file", r.env, r.key)
		}
		*r.value = Secret(v)
	case r.file != "":
		b, err := os.ReadFile(r.file)
		if err != nil { // a *PathError: the path and the OS reason, never content
			return r.key + "_file", fmt.Errorf("read secret file: %w; create the file or fix the path", err)
		}
		v := strings.TrimRight(string(b), " \t\r\n")
		if v == "" {
			return r.key + "_file", fmt.Errorf("secret file %s is empty; write the secret into it", r.file)
		}
		*r.value = Secret(v)
	}
	return "", nil
}

// Secrets returns every resolved secret value, for a log redactor: the
// configured secrets and the master key (as given, and in every base64
// spelling of its bytes). The master key file's path is not a secret.
func (c *Config) Secrets() []string {
	var out []string
	seen := map[string]bool{}
	add := func(v string) {
		if v != "" && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	for _, ref := range c.secretRefs() {
		add(ref.value.Reveal())
	}
	add(dsnPassword(c.Storage.DSN.Reveal()))
	for _, v := range c.masterKeySpellings() {
		add(v)
	}
	return out
}
