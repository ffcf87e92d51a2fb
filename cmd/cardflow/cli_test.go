package main

import (
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// runBinary runs the binary to completion and returns its exit code and
// combined output.
func runBinary(t *testing.T, env []string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(cardflowBinary(t), args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode(), string(out)
		}
		t.Fatal(err)
	}
	return 0, string(out)
}

func TestKeygenPrintsAFresh32ByteKey(t *testing.T) {
	code, out1 := runBinary(t, nil, "keygen")
	_, out2 := runBinary(t, nil, "keygen")
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(out1))
	if code != 0 || err != nil || len(key) != 32 || out1 == out2 {
		t.Fatalf("keygen: code %d, %q (%v), second %q", code, out1, err, out2)
	}
}

func TestCheckReportsFileLineKeyAndFix(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.toml")
	bad := `data_dir = "d"
[api]
listen = "127.0.0.1:8080"
[telegarm]
token = "x"
[[storefronts]]
id = "shop1"
secret_env = "NOT_SET_ANYWHERE_12345"
callback_url = "not a url"
[[suppliers]]
name = "own"
type = "stock"
[[products]]
sku = "qb-10"
  [[products.sources]]
  supplier = "ghost"
`
	if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out := runBinary(t, []string{"CARDFLOW_ADMIN_TOKEN=0123456789abcdef0123"}, "check", "-config", path)
	if code == 0 {
		t.Fatalf("check passed a broken config:\n%s", out)
	}
	for _, want := range []string{
		path + `:4: telegarm`,                    // unknown table, with its line
		path + `:8: storefronts[0].secret_env`,   // env var not set
		path + `:9: storefronts[0].callback_url`, // not a URL
		path + `:16: products[0].sources[0].supplier`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestCheckAcceptsTheExampleConfig(t *testing.T) {
	env := []string{"CARDFLOW_ADMIN_TOKEN=0123456789abcdef0123", "CARDFLOW_SHOP1_SECRET=0123456789abcdef0123",
		"CARDFLOW_MASTER_KEY=" + testMasterKey, "FULU_APP_KEY=sandbox-app-key", "FULU_APP_SECRET=0a091b3aa4324435aab703142518a8f7",
		"TELEGRAM_TOKEN=123456:example-telegram-token", "QQ_BOT_SECRET=DG5g3B4j9X2KOErG"}
	code, out := runBinary(t, env, "check", "-config", "../../config.toml.example")
	if code != 0 || !strings.Contains(out, "ok") {
		t.Fatalf("check of config.toml.example: code %d\n%s", code, out)
	}
}

func TestServeRefusesToStartWithoutAGoodMasterKey(t *testing.T) {
	s := newService(t, "")
	for _, tc := range []struct {
		name, key, want string
	}{
		{"missing", "", "CARDFLOW_MASTER_KEY"},
		{"16 bytes", base64.StdEncoding.EncodeToString(make([]byte, 16)), "32"},
		{"not base64", "!!!not-base64!!!", "base64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := []string{"CARDFLOW_ADMIN_TOKEN=" + testAdminToken, "CARDFLOW_SHOP1_SECRET=" + testShopSecret, "CARDFLOW_MASTER_KEY=" + tc.key}
			code, out := runBinary(t, env, "serve", "-config", s.config)
			if code == 0 || !strings.Contains(out, tc.want) {
				t.Fatalf("code %d, output:\n%s", code, out)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(s.dir, "data", "cardflow.db")); err == nil {
		t.Error("a database was created although the key was refused")
	}
}

func TestServeRefusesAnotherMasterKeyForExistingData(t *testing.T) {
	s := newService(t, "")
	s.start(t).interrupt(t)
	other := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("z", 32)))
	env := []string{"CARDFLOW_ADMIN_TOKEN=" + testAdminToken, "CARDFLOW_SHOP1_SECRET=" + testShopSecret, "CARDFLOW_MASTER_KEY=" + other}
	code, out := runBinary(t, env, "serve", "-config", s.config)
	if code == 0 || !strings.Contains(out, "different master key") {
		t.Fatalf("code %d, output:\n%s", code, out)
	}
}

func TestStockImportCommandReportsCountsWithProgress(t *testing.T) {
	s := newService(t, "")
	p := s.start(t)
	var b strings.Builder
	for i := range 30000 { // about 1.2 MB: large enough for the progress bar
		fmt.Fprintf(&b, "IMPORT-CLI-%08d,password-%08d,2030-01-01\n", i, i)
	}
	b.WriteString("\n\nIMPORT-CLI-00000001,password-00000001\nbad,line,with,four\n")
	file := filepath.Join(t.TempDir(), "cards.csv")
	if err := os.WriteFile(file, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out := runBinary(t, s.env, "stock", "import", "-sku", "qb-10", "-admin", "http://"+s.admin, file)
	if code != 0 {
		t.Fatalf("code %d:\n%s", code, out)
	}
	if !strings.Contains(out, "added 30000, duplicates 1, invalid 1") || !strings.Contains(out, "line 30004") {
		t.Errorf("summary missing:\n%s", out)
	}
	if !regexp.MustCompile(`importing qb-10.*100%`).MatchString(out) {
		t.Errorf("no progress bar in output:\n%s", out)
	}
	// Errors are clear: unknown SKU, missing token.
	code, out = runBinary(t, s.env, "stock", "import", "-sku", "nope", "-admin", "http://"+s.admin, file)
	if code == 0 || !strings.Contains(out, "not configured") {
		t.Errorf("unknown sku: code %d\n%s", code, out)
	}
	code, out = runBinary(t, []string{"CARDFLOW_ADMIN_TOKEN="}, "stock", "import", "-sku", "qb-10", "-admin", "http://"+s.admin, file)
	if code == 0 || !strings.Contains(out, "no admin token") {
		t.Errorf("no token: code %d\n%s", code, out)
	}
	p.interrupt(t)
}

func TestUnknownCommandAndVersion(t *testing.T) {
	if code, out := runBinary(t, nil, "frobnicate"); code != 2 || !strings.Contains(out, "unknown command") {
		t.Errorf("unknown command: %d %s", code, out)
	}
	if code, out := runBinary(t, nil, "version"); code != 0 || !strings.HasPrefix(out, "cardflow ") {
		t.Errorf("version: %d %s", code, out)
	}
}
