package config

import (
	"strings"
	"testing"
)

// TestCheckRefusesWhatTheStorefrontListenerCannotServe: configs that `check`
// passed before and `serve` then panicked on (a webhook or notify path on
// an API route, two of them on one path, a path ServeMux reads as a
// pattern), an http:// callback to a remote host (callbacks carry card
// keys), and bad limits of the listeners. Each names its key and line.
func TestCheckRefusesWhatTheStorefrontListenerCannotServe(t *testing.T) {
	valid := readTestdata(t, "valid.toml")
	const fulu = "\n[[suppliers]]\nname = \"fulu\"\ntype = \"fulu\"\napp_key = \"k\"\napp_secret = \"0a091b3aa4324435aab703142518a8f7\"\n"
	const qq = "\n[qq]\napp_id = \"102012345\"\nsecret = \"DG5g3B4j9X2KOErG\"\n"
	const tg = "\n[telegram]\ntoken = \"123456:tg-token\"\ngroups = [-1001]\nwebhook_secret = \"0123456789abcdef-hook\"\n"
	cb := `callback_url = "https://shop.example.com/cardflow/callback"`
	cases := []struct {
		name, src, key, mark string
		msg                  []string
	}{
		{"qq webhook on the order route", valid + qq + "webhook_path = \"/v1/orders\"\n",
			"qq.webhook_path", "/v1/orders", []string{`"/v1/orders" is under /v1, which cardflow keeps for its own routes`}},
		{"qq webhook on /healthz", valid + qq + "webhook_path = \"/healthz\"\n",
			"qq.webhook_path", "/healthz", []string{"keeps for its own routes"}},
		{"qq webhook with a wildcard", valid + qq + "webhook_path = \"/qq/{id}\"\n",
			"qq.webhook_path", "{id}", []string{"only letters, digits"}},
		{"qq webhook on a fulu notify_path", valid + fulu + "notify_path = \"/hooks/in\"\n" + qq + "webhook_path = \"/hooks/in\" # qq\n",
			"qq.webhook_path", "# qq", []string{"is already served for suppliers[1].notify_path"}},
		{"fulu notify_path on the default qq path", valid + fulu + "notify_path = \"/qq/webhook\"\n" + qq,
			"qq.webhook_path", "[qq]", []string{`"/qq/webhook" is already served for suppliers[1].notify_path`}},
		{"telegram webhook on the order route", valid + tg + "webhook_url = \"https://ops.example.com/v1/orders\"\n",
			"telegram.webhook_url", "webhook_url", []string{"its path", "keeps for its own routes"}},
		{"telegram webhook without a path", valid + tg + "webhook_url = \"https://ops.example.com\"\n",
			"telegram.webhook_url", "webhook_url", []string{"its path", `starting with "/"`}},
		{"telegram and qq on one path", valid + tg + "webhook_url = \"https://ops.example.com/qq/webhook\"\n" + qq,
			"qq.webhook_path", "[qq]", []string{"already served for telegram.webhook_url"}},
		{"fulu notify_path with a trailing slash", valid + fulu + "notify_path = \"/notify/\"\n",
			"suppliers[1].notify_path", "/notify/", []string{"must not end"}},
		{"two fulu suppliers on one notify_path", valid + fulu + "notify_path = \"/notify/fulu\"\n" +
			strings.Replace(fulu, `"fulu"`+"\ntype", `"fulu2"`+"\ntype", 1) + "notify_path = \"/notify/fulu\" # second\n",
			"suppliers[2].notify_path", "# second", []string{"already served for suppliers[1].notify_path"}},
		{"http callback to a remote host", strings.Replace(valid, cb, `callback_url = "http://shop.example.com/cb"`, 1),
			"storefronts[0].callback_url", "http://shop", []string{"carry card keys", "https", "allow_insecure_callback = true"}},
		{"metrics.listen on the admin port", valid + "\n[metrics]\nlisten = \"127.0.0.1:8081\"\n",
			"metrics.listen", "8081", []string{"collides with admin.listen"}},
		{"metrics.listen without a port", valid + "\n[metrics]\nlisten = \"9100\"\n",
			"metrics.listen", "9100", []string{"is not host:port"}},
		{"api.max_connections = 0", "[api]\nmax_connections = 0\n" + valid,
			"api.max_connections", "max_connections", []string{"use 1 or more"}},
		{"api.read_timeout = 0s", "[api]\nread_timeout = \"0s\"\n" + valid,
			"api.read_timeout", "read_timeout", []string{"must be positive"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ps := loadProblems(t, writeConfig(t, tc.src, nil))
			p, ok := findProblem(ps, tc.key)
			if !ok {
				t.Fatalf("no problem for key %q; got:\n%v", tc.key, ps)
			}
			if want := lineOf(t, tc.src, tc.mark); p.Line != want {
				t.Errorf("line = %d, want %d (%q); problem: %s", p.Line, want, tc.mark, p)
			}
			for _, m := range tc.msg {
				if !strings.Contains(p.Msg, m) {
					t.Errorf("message %q does not contain %q", p.Msg, m)
				}
			}
		})
	}
}

// TestCheckAcceptsLoopbackAndAllowedHTTPCallbacksAndDistinctPaths: http://
// to a loopback host (the demo's), or with allow_insecure_callback, and
// webhook, notify and metrics settings that do not collide, load.
func TestCheckAcceptsLoopbackAndAllowedHTTPCallbacksAndDistinctPaths(t *testing.T) {
	valid := readTestdata(t, "valid.toml")
	cb := `callback_url = "https://shop.example.com/cardflow/callback"`
	for _, tc := range []struct{ name, src string }{
		{"127.0.0.1", strings.Replace(valid, cb, `callback_url = "http://127.0.0.1:9000/cb"`, 1)},
		{"localhost", strings.Replace(valid, cb, `callback_url = "http://localhost/cb"`, 1)},
		{"::1", strings.Replace(valid, cb, `callback_url = "http://[::1]:9000/cb"`, 1)},
		{"allowed", strings.Replace(valid, cb, "callback_url = \"http://10.0.0.7/cb\"\nallow_insecure_callback = true", 1)},
		{"every mount on its own path", valid + "\n[[suppliers]]\nname = \"fulu\"\ntype = \"fulu\"\napp_key = \"k\"\n" +
			"app_secret = \"0a091b3aa4324435aab703142518a8f7\"\nnotify_path = \"/notify/fulu\"\n" +
			"\n[qq]\napp_id = \"102012345\"\nsecret = \"DG5g3B4j9X2KOErG\"\n" +
			"\n[telegram]\ntoken = \"123456:tg-token\"\ngroups = [-1001]\nwebhook_secret = \"0123456789abcdef-hook\"\nwebhook_url = \"https://ops.example.com/telegram/hook\"\n" +
			"\n[metrics]\nlisten = \"127.0.0.1:9100\"\n[api]\nmax_connections = 64\nread_timeout = \"3s\"\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(writeConfig(t, tc.src, nil))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if tc.name == "allowed" && !strings.Contains(strings.Join(c.Warnings(), "\n"), "allow_insecure_callback") {
				t.Errorf("no warning for an allowed plaintext callback: %q", c.Warnings())
			}
		})
	}
}

// TestMountsListsEveryPathTheConfigServes: the one list both check and
// serve use.
func TestMountsListsEveryPathTheConfigServes(t *testing.T) {
	c := Default()
	c.Suppliers = []Supplier{{Name: "own", Type: SupplierStock}, {Name: "fulu", Type: SupplierFulu, NotifyPath: "/notify/fulu"}, {Name: "quiet", Type: SupplierFulu}}
	c.Telegram = Telegram{Token: "t", WebhookURL: "https://ops.example.com/tg/hook"}
	c.QQ.AppID = "1"
	got := c.Mounts()
	want := []string{"suppliers[1].notify_path /notify/fulu", "telegram.webhook_url /tg/hook", "qq.webhook_path /qq/webhook"}
	if len(got) != len(want) {
		t.Fatalf("Mounts() = %v, want %v", got, want)
	}
	for i, m := range got {
		if m.Owner+" "+m.Path != want[i] {
			t.Errorf("mount %d = %s %s, want %s", i, m.Owner, m.Path, want[i])
		}
	}
}
