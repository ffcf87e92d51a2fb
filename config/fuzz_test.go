package config

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/BurntSushi/toml"

	"cardflow/internal/money"
)

// FuzzLoad loads arbitrary files. Properties: no panic; either a config or
// Problems, never both, each problem naming its file and a key or a line;
// a config that loads passes Validate again, has only shares from 0 to 1,
// and, written back as TOML with every key explicit and secrets in the
// spelling they were given, loads again into the same config.
func FuzzLoad(f *testing.F) {
	dir := f.TempDir()
	secretFile := filepath.Join(dir, "shop2.secret")
	if err := os.WriteFile(secretFile, []byte("0123456789abcdef-shop2-file\n"), 0o600); err != nil {
		f.Fatal(err)
	}
	// The variables the seeds (and config.toml.example) name.
	for k, v := range map[string]string{
		DefaultAdminTokenEnv:    "example-admin-token-0123456789",
		"CARDFLOW_SHOP1_SECRET": "example-shop1-secret-0123456789",
		"FULU_APP_KEY":          "i4esv1l+76l/7NQCL3QudG90Fq+YgVfFGJAWgT+7qO1Bm9o/adG/1iwO2qXsAXNB",
		"FULU_APP_SECRET":       "0a091b3aa4324435aab703142518a8f7",
		"TELEGRAM_TOKEN":        "123456:example-telegram-token",
		"QQ_BOT_SECRET":         "DG5g3B4j9X2KOErG",
		"FUZZ_EMPTY":            "",
	} {
		f.Setenv(k, v)
	}
	for _, name := range []string{"testdata/valid.toml", "testdata/many_problems.toml", examplePath} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	valid, err := os.ReadFile("testdata/valid.toml")
	if err != nil {
		f.Fatal(err)
	}
	for _, extra := range []string{
		"\n[[storefronts]]\nid = \"shop2\"\nsecret_file = \"shop2.secret\"\ncallback_url = \"http://127.0.0.1:9/cb\"\n",
		"\n[[suppliers]]\nname = \"sim\"\ntype = \"sim\"\nfail_rate = 0.5\nlatency = \"1ms\"\nunit_cost = \"9.80\"\n",
		"\n[[suppliers]]\nname = \"sim\"\ntype = \"sim\"\nfail_rate = nan\n",
		"\n[[suppliers]]\nname = \"fulu\"\ntype = \"fulu\"\napp_key_env = \"FULU_APP_KEY\"\napp_secret_env = \"FULU_APP_SECRET\"\n",
		"\nrules = []\n",
		"\n[[rules]]\nname = \"big\"\nwhen = \"order.amount > 100\"\naction = \"refund\"\n",
		"\n[telegram]\ntoken_env = \"TELEGRAM_TOKEN\"\ngroups = [-1001234567890]\n[[operators]]\nname = \"alice\"\nrole = \"admin\"\ntelegram_id = 1\n",
		"\n[telegram]\ntoken_env = \"FUZZ_EMPTY\"\n",
		"\n[processing]\nworkers = 0\nauto_refund = [\"invalid_account\"]\n[bot]\nrefund_limit = \"-1\"\n",
		"\n[[products]]\nsku = \"qb-100\"\nmax_quantity = 9223372036854775807\nlow_stock = 0\n",
		"\n[api]\nlisten = 8080\n",
		"\n[[products.sources.x]]\n",
		"\napi = 5\n",
	} {
		f.Add(append(bytes.Clone(valid), extra...))
	}

	path := filepath.Join(dir, "config.toml")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := Load(path)
		if err != nil {
			if c != nil {
				t.Fatalf("Load returned a config and an error: %v", err)
			}
			var ps Problems
			if !errors.As(err, &ps) || len(ps) == 0 {
				t.Fatalf("Load error is %T %v, want Problems", err, err)
			}
			for _, p := range ps {
				if p.File != path || p.Msg == "" || (p.Key == "" && p.Line == 0) {
					t.Fatalf("problem %+v does not name the file and a key or a line", p)
				}
			}
			_ = ps.Error()
			return
		}
		if c == nil {
			t.Fatal("Load returned neither a config nor an error")
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("a loaded config fails Validate:\n%v", err)
		}
		for i, s := range c.Suppliers {
			for _, r := range []float64{s.FailRate, s.UnknownRate, s.DuplicateRate, s.OutageRate} {
				if !(r >= 0 && r <= 1) {
					t.Fatalf("suppliers[%d] loaded with a share of %v", i, r)
				}
			}
		}
		_ = c.Secrets()
		Default().FillDefaults()

		first, err := render(c)
		if err != nil {
			t.Fatalf("render: %v", err)
		}
		if err := os.WriteFile(path, first, 0o600); err != nil {
			t.Fatal(err)
		}
		again, err := Load(path)
		if err != nil {
			t.Fatalf("the loaded config, written back, does not load:\n%v\n%s", err, first)
		}
		second, err := render(again)
		if err != nil {
			t.Fatalf("render: %v", err)
		}
		if !bytes.Equal(first, second) {
			t.Fatalf("config changed on a reload:\n%s\nbecame\n%s", first, second)
		}
	})
}

// render writes c as TOML with every key explicit. A secret read from an
// _env or _file key is left to that key; a literal one is written as is.
func render(c *Config) ([]byte, error) {
	var b bytes.Buffer
	if err := toml.NewEncoder(&b).Encode(tableOf(reflect.ValueOf(c).Elem())); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func tableOf(v reflect.Value) map[string]any {
	fields := tomlFields(v.Type())
	byName := map[string]reflect.Value{}
	for _, f := range fields {
		byName[tagName(f)] = v.FieldByIndex(f.Index)
	}
	m := map[string]any{}
	for _, f := range fields {
		name, fv := tagName(f), byName[tagName(f)]
		switch {
		case f.Type == secretType:
			if byName[name+"_env"].String() == "" && byName[name+"_file"].String() == "" {
				m[name] = fv.Interface().(Secret).Reveal()
			}
		case f.Type == durationType:
			m[name] = fv.Interface().(Duration).String()
		case f.Type == amountType:
			m[name] = fv.Interface().(money.Amount).String()
		case isTable(f.Type):
			m[name] = tableOf(fv)
		case isTableArray(f.Type):
			if fv.IsNil() {
				continue // absent: the defaults apply again
			}
			if fv.Len() == 0 {
				m[name] = []any{} // `rules = []`, not absent
				continue
			}
			list := make([]map[string]any, fv.Len())
			for i := range list {
				list[i] = tableOf(fv.Index(i))
			}
			m[name] = list
		case f.Type.Kind() == reflect.Slice && fv.IsNil():
		default:
			m[name] = fv.Interface()
		}
	}
	return m
}
