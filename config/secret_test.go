package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestSecretNeverPrintsItsValue(t *testing.T) {
	const value = "hunter2-very-secret-value"
	type holder struct {
		Name  string
		Token Secret
	}
	s := Secret(value)
	h := holder{Name: "shop1", Token: s}
	jsonOf := func(v any) string { // json.Marshal, decoded again to undo HTML escaping of < and >
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var back map[string]any
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(back)
	}
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("loaded", "token", s)
	cases := []struct {
		name string
		out  string
	}{
		{"%v of Secret", fmt.Sprintf("%v", s)},
		{"%s of Secret", fmt.Sprintf("%s", s)},
		{"%q of Secret", fmt.Sprintf("%q", s)},
		{"%x of Secret", fmt.Sprintf("%x", s)},
		{"%v of struct", fmt.Sprintf("%v", h)},
		{"%+v of struct", fmt.Sprintf("%+v", h)},
		{"%#v of struct", fmt.Sprintf("%#v", h)},
		{"%v of pointer to struct", fmt.Sprintf("%v", &h)},
		{"%v of slice", fmt.Sprintf("%v", []Secret{s})},
		{"Sprint", fmt.Sprint(s)},
		{"String()", s.String()},
		{"GoString()", s.GoString()},
		{"json.Marshal of struct", jsonOf(h)},
		{"json.Marshal of map", jsonOf(map[string]Secret{"k": s})},
		{"slog text handler", logged.String()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if strings.Contains(tc.out, value) || strings.Contains(tc.out, fmt.Sprintf("%x", value)) {
				t.Fatalf("output leaks the secret: %s", tc.out)
			}
			if !strings.Contains(tc.out, "<redacted>") {
				t.Fatalf("output %q does not say <redacted>", tc.out)
			}
		})
	}
	if b, _ := s.MarshalText(); string(b) != "<redacted>" {
		t.Errorf("MarshalText = %q", b)
	}
	if s.Reveal() != value {
		t.Errorf("Reveal = %q, want the value", s.Reveal())
	}
}

func TestSecretUnmarshalTextKeepsTheLiteral(t *testing.T) {
	var s Secret
	if err := s.UnmarshalText([]byte("abc")); err != nil || s.Reveal() != "abc" {
		t.Fatalf("UnmarshalText: %v, %q", err, s.Reveal())
	}
}

// TestLoadResolvesSecrets tries each way of giving a secret.
func TestLoadResolvesSecrets(t *testing.T) {
	valid := readTestdata(t, "valid.toml")
	const adminLiteral = `token = "0123456789abcdef-admin"`
	const shopSecret = `secret = "0123456789abcdef-shop1"`
	cases := []struct {
		name      string
		admin     string // replaces the literal admin token line
		shop      string // replaces the literal storefront secret line
		env       map[string]string
		files     map[string]string
		wantAdmin string
		wantShop  string
	}{
		{"literals", adminLiteral, shopSecret, nil, nil, "0123456789abcdef-admin", "0123456789abcdef-shop1"},
		{"no admin key reads CARDFLOW_ADMIN_TOKEN", "", shopSecret,
			map[string]string{DefaultAdminTokenEnv: "from-default-env-0123"}, nil, "from-default-env-0123", "0123456789abcdef-shop1"},
		{"_env keys", `token_env = "MY_ADMIN"`, `secret_env = "MY_SHOP"`,
			map[string]string{"MY_ADMIN": "admin-from-env-0123", "MY_SHOP": "shop-from-env-01234"}, nil,
			"admin-from-env-0123", "shop-from-env-01234"},
		{"_file keys relative to the config dir, newline trimmed", `token_file = "secrets/admin"`, `secret_file = "secrets/shop1"`,
			map[string]string{DefaultAdminTokenEnv: unset},
			map[string]string{"secrets/admin": "admin-from-file-0123\n", "secrets/shop1": "shop-from-file-01234 \r\n"},
			"admin-from-file-0123", "shop-from-file-01234"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(MasterKeyEnv, "") // Secrets() would list it too
			setenv(t, tc.env)
			src := strings.Replace(strings.Replace(valid, adminLiteral, tc.admin, 1), shopSecret, tc.shop, 1)
			c, err := Load(writeConfig(t, src, tc.files))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if got := c.Admin.Token.Reveal(); got != tc.wantAdmin {
				t.Errorf("admin token = %q, want %q", got, tc.wantAdmin)
			}
			if got := c.Storefronts[0].Secret.Reveal(); got != tc.wantShop {
				t.Errorf("storefront secret = %q, want %q", got, tc.wantShop)
			}
			if got, want := c.Secrets(), []string{tc.wantAdmin, tc.wantShop}; !slices.Equal(got, want) {
				t.Errorf("Secrets() = %q, want %q", got, want)
			}
		})
	}
}

func TestLoadSecretProblemsNeverShowTheValue(t *testing.T) {
	const value = "short-secret"
	src := strings.Replace(readTestdata(t, "valid.toml"), `secret = "0123456789abcdef-shop1"`, `secret_file = "shop1.secret"`, 1)
	path := writeConfig(t, src, map[string]string{"shop1.secret": value + "\n"})
	ps := loadProblems(t, path)
	if strings.Contains(ps.Error(), value) {
		t.Fatalf("problems leak the secret: %v", ps)
	}
	if p, ok := findProblem(ps, "storefronts[0].secret_file"); !ok || !strings.Contains(p.Msg, "12 bytes") {
		t.Fatalf("want a length problem on storefronts[0].secret_file, got %v", ps)
	}
}

func TestLoadSecretFileThatIsADirectoryNamesKeyAndOSError(t *testing.T) {
	src := strings.Replace(readTestdata(t, "valid.toml"), `secret = "0123456789abcdef-shop1"`, `secret_file = "secrets"`, 1)
	path := writeConfig(t, src, map[string]string{"secrets/x": "x"})
	ps := loadProblems(t, path)
	p, ok := findProblem(ps, "storefronts[0].secret_file")
	if !ok {
		t.Fatalf("no problem for storefronts[0].secret_file: %v", ps)
	}
	if want := filepath.Join(filepath.Dir(path), "secrets"); !strings.Contains(p.Msg, want) || !strings.Contains(p.Msg, "is a directory") {
		t.Errorf("message %q should name %s and the OS error", p.Msg, want)
	}
}
