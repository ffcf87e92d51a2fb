package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// readTestdata returns a file from testdata/.
func readTestdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// writeConfig writes src as config.toml, and files next to it, in a new
// temporary directory and returns the config's path.
func writeConfig(t *testing.T, src string, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// lineOf returns the 1-based line of the only line of src containing marker.
func lineOf(t *testing.T, src, marker string) int {
	t.Helper()
	line := 0
	for i, text := range strings.Split(src, "\n") {
		if strings.Contains(text, marker) {
			if line != 0 {
				t.Fatalf("marker %q is on lines %d and %d", marker, line, i+1)
			}
			line = i + 1
		}
	}
	if line == 0 {
		t.Fatalf("marker %q not in config", marker)
	}
	return line
}

// unset as a value for setenv removes the variable.
const unset = "<unset>"

// setenv sets environment variables for one test; the test must not be parallel.
func setenv(t *testing.T, env map[string]string) {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v) // restores the old value after the test, also after Unsetenv
		if v == unset {
			if err := os.Unsetenv(k); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// loadProblems loads path and returns its Problems, failing if there are none.
func loadProblems(t *testing.T, path string) Problems {
	t.Helper()
	_, err := Load(path)
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("Load: want Problems, got %v", err)
	}
	return ps
}

func findProblem(ps Problems, key string) (Problem, bool) {
	for _, p := range ps {
		if p.Key == key {
			return p, true
		}
	}
	return Problem{}, false
}

func TestLoadValidConfigAppliesDefaults(t *testing.T) {
	path := writeConfig(t, readTestdata(t, "valid.toml"), nil)
	c, err := Load(path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	dir := filepath.Dir(path)
	checks := []struct {
		name      string
		got, want any
	}{
		{"data_dir is resolved against the config dir", c.DataDir, filepath.Join(dir, "data")},
		{"api.listen", c.API.Listen, "127.0.0.1:8080"},
		{"admin.listen", c.Admin.Listen, "127.0.0.1:8081"},
		{"admin token from the literal", c.Admin.Token.Reveal(), "0123456789abcdef-admin"},
		{"no default token_env next to a literal token", c.Admin.TokenEnv, ""},
		{"log.level", c.Log.Level, "info"},
		{"log.format", c.Log.Format, "json"},
		{"product max_quantity", c.Products[0].MaxQuantity, 10},
		{"product batch_size", c.Products[0].BatchSize, 5},
		{"product low_stock", c.Products[0].LowStock, 20},
		{"product kind", c.Products[0].Kind, KindCard},
		{"source units", c.Products[0].Sources[0].Units, 1},
		{"processing.workers", c.Processing.Workers, 16},
		{"processing.stock_wait", c.Processing.StockWait.Std(), 30 * time.Minute},
		{"processing.routing", c.Processing.Routing, RoutingPriority},
		{"processing.auto_refund", len(c.Processing.AutoRefund), 0},
		{"bot.language", c.Bot.Language, "zh"},
		{"bot.refund_limit", c.Bot.RefundLimit.String(), "500.00"},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %v, want %v", ch.name, ch.got, ch.want)
		}
	}
	if w := c.Warnings(); len(w) != 0 {
		t.Errorf("warnings = %q, want none", w)
	}
}

func TestDefaultUsesAdminTokenEnvWhenNoTokenKeyIsGiven(t *testing.T) {
	if got := Default().Admin.TokenEnv; got != DefaultAdminTokenEnv {
		t.Errorf("Default().Admin.TokenEnv = %q, want %q", got, DefaultAdminTokenEnv)
	}
}

func TestLoadExplicitZeroIsKeptNotDefaulted(t *testing.T) {
	src := strings.Replace(readTestdata(t, "valid.toml"), `sku = "qb-100"`, "sku = \"qb-100\"\nlow_stock = 0", 1)
	c, err := Load(writeConfig(t, src, nil))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got := c.Products[0].LowStock; got != 0 {
		t.Errorf("low_stock = %d, want the written 0 (alert off)", got)
	}
}

func TestLoadEmptyFileReportsMissingSections(t *testing.T) {
	t.Setenv(DefaultAdminTokenEnv, "0123456789abcdef-admin")
	ps := loadProblems(t, writeConfig(t, "# nothing yet\n", nil))
	for _, key := range []string{"storefronts", "suppliers", "products"} {
		p, ok := findProblem(ps, key)
		if !ok {
			t.Errorf("no problem for %s; got:\n%v", key, ps)
			continue
		}
		if p.Line != 0 || !strings.Contains(p.Msg, "at least one") {
			t.Errorf("problem = %s, want no line and 'at least one'", p)
		}
	}
}

func TestLoadMissingFileIsAnOSError(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.toml"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Load(missing) = %v, want os.ErrNotExist", err)
	}
}

func TestLoadWarnsWhenAdminListensBeyondLoopback(t *testing.T) {
	src := strings.Replace(readTestdata(t, "valid.toml"), "[admin]\n", "[admin]\nlisten = \"0.0.0.0:8081\"\n", 1)
	c, err := Load(writeConfig(t, src, nil))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	w := c.Warnings()
	if len(w) != 1 || !strings.Contains(w[0], "admin.listen: 0.0.0.0:8081 is not a loopback address") {
		t.Fatalf("warnings = %q", w)
	}
}

func TestProblemStringOmitsUnknownLineAndFile(t *testing.T) {
	cases := []struct {
		name string
		p    Problem
		want string
	}{
		{"file, line and key", Problem{"c.toml", 7, "api.listen", "bad"}, "c.toml:7: api.listen: bad"},
		{"no line", Problem{"c.toml", 0, "products", "missing"}, "c.toml: products: missing"},
		{"built in code: no file", Problem{"", 0, "log.level", "bad"}, "log.level: bad"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.p.String(); got != tc.want {
				t.Errorf("String() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestValidateConfigBuiltInCode(t *testing.T) {
	c := Default()
	c.Admin.Token = "0123456789abcdef-admin"
	c.Admin.TokenEnv = ""
	c.Storefronts = []Storefront{{ID: "demo", Secret: "0123456789abcdef-demo", CallbackURL: "http://127.0.0.1:9000/cb"}}
	c.Suppliers = []Supplier{{Name: "own", Type: SupplierStock}}
	c.Products = []Product{{SKU: "demo-10", Sources: []Source{{Supplier: "own"}}}}
	c.applyDefaults(nil)
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	c.Log.Level = "loud"
	err := c.Validate()
	if err == nil || err.Error() != `log.level: "loud" is not allowed; use one of: trace, debug, info, warn, error` {
		t.Fatalf("Validate = %v", err)
	}
}

func TestDurationUnmarshalText(t *testing.T) {
	cases := []struct {
		in      string
		want    time.Duration
		wantErr string
	}{
		{"30s", 30 * time.Second, ""},
		{"1h30m", 90 * time.Minute, ""},
		{"30", 0, `invalid duration "30": write a Go duration such as "30s"`},
		{"", 0, `invalid duration ""`},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			var d Duration
			err := d.UnmarshalText([]byte(tc.in))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || d.Std() != tc.want {
				t.Fatalf("got %v, %v; want %v", d, err, tc.want)
			}
		})
	}
}
