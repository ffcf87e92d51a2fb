package config

import (
	"os"
	"reflect"
	"regexp"
	"testing"

	"github.com/BurntSushi/toml"
)

const examplePath = "../config.toml.example"

func TestExampleConfigLoadsStrictlyWithoutProblems(t *testing.T) {
	t.Setenv(DefaultAdminTokenEnv, "example-admin-token-0123456789")
	t.Setenv("CARDFLOW_SHOP1_SECRET", "example-shop1-secret-0123456789")
	t.Setenv("FULU_APP_KEY", "i4esv1l+76l/7NQCL3QudG90Fq+YgVfFGJAWgT+7qO1Bm9o/adG/1iwO2qXsAXNB")
	t.Setenv("FULU_APP_SECRET", "0a091b3aa4324435aab703142518a8f7")
	t.Setenv("TELEGRAM_TOKEN", "123456:example-telegram-token")
	t.Setenv("QQ_BOT_SECRET", "DG5g3B4j9X2KOErG")

	var raw Config
	md, err := toml.DecodeFile(examplePath, &raw)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	if u := md.Undecoded(); len(u) != 0 {
		t.Fatalf("undecoded keys: %v", u)
	}

	c, err := Load(examplePath)
	if err != nil {
		t.Fatalf("Load(%s):\n%v", examplePath, err)
	}
	if w := c.Warnings(); len(w) != 0 {
		t.Errorf("warnings: %q", w)
	}
	// The example states the defaults; keep them honest.
	d := Default()
	same := []struct {
		key       string
		got, want any
	}{
		{"api.listen", c.API.Listen, d.API.Listen},
		{"admin.listen", c.Admin.Listen, d.Admin.Listen},
		{"admin.token_env", c.Admin.TokenEnv, d.Admin.TokenEnv},
		{"log", c.Log, d.Log},
		{"processing.workers", c.Processing.Workers, d.Processing.Workers},
		{"processing.stock_wait", c.Processing.StockWait, d.Processing.StockWait},
		{"processing.routing", c.Processing.Routing, d.Processing.Routing},
		{"processing.auto_refund", len(c.Processing.AutoRefund), len(d.Processing.AutoRefund)},
		{"bot", c.Bot, d.Bot},
	}
	for _, s := range same {
		if s.got != s.want {
			t.Errorf("%s = %v in the example, default is %v", s.key, s.got, s.want)
		}
	}
}

// commentedKey matches a commented-out assignment such as "# token_file = ...".
var commentedKey = regexp.MustCompile(`(?m)^([ \t]*)#[ \t]*([A-Za-z0-9_]+[ \t]*=)`)

func TestExampleDocumentsEveryKey(t *testing.T) {
	b, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	// Alternatives (token_file, secret, ...) may be shown commented out.
	lines := mapLines(commentedKey.ReplaceAllString(string(b), "$1$2"))
	written := map[string]bool{}
	for _, e := range lines.plain {
		written[e.plain] = true
	}
	var walk func(t reflect.Type, prefix string)
	walk = func(typ reflect.Type, prefix string) {
		for _, f := range tomlFields(typ) {
			key := joinKey(prefix, tagName(f))
			if !written[key] {
				t.Errorf("%s is not in %s", key, examplePath)
			}
			switch {
			case isTable(f.Type):
				walk(f.Type, key)
			case isTableArray(f.Type):
				walk(f.Type.Elem(), key)
			}
		}
	}
	walk(reflect.TypeFor[Config](), "")
}
