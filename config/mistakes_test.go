package config

import (
	"path/filepath"
	"strings"
	"testing"
)

// mailSection is a valid [email] section, appended at the end of a config.
const mailSection = `
[email]
host = "smtp.example.com"
port = 465
security = "tls"
username = "noreply@shop.example.com"
password = "smtp-password"
from = "某某商城 <noreply@shop.example.com>"
`

// TestLoadReportsMistake tries one mistake per case on top of a valid config
// and checks the key, the line (the line holding mark) and the message.
func TestLoadReportsMistake(t *testing.T) {
	valid := readTestdata(t, "valid.toml")
	edit := func(old, new string) string {
		if !strings.Contains(valid, old) {
			t.Fatalf("valid.toml has no %q", old)
		}
		return strings.Replace(valid, old, new, 1)
	}
	const adminLiteral = `token = "0123456789abcdef-admin"`
	const shopSecret = `secret = "0123456789abcdef-shop1"`
	cases := []struct {
		name  string
		src   string
		env   map[string]string
		files map[string]string
		key   string
		mark  string // text on the line the problem must point at
		msg   []string
	}{
		{"unknown top-level table [telegarm]", valid + "\n[telegarm]\ntoken_env = \"T\"\n",
			nil, nil, "telegarm", "[telegarm]", []string{`unknown table "telegarm" at the top level`, `did you mean "telegram"`}},
		{"misspelt key levle in [log]", "[log]\nlevle = \"debug\"\n" + valid,
			nil, nil, "log.levle", "levle", []string{`unknown key "levle" in [log]`, `did you mean "level"?`}},
		{"misspelt key calback_url in the second [[storefronts]]", valid + "\n[[storefronts]]\nid = \"shop2\"\n" + shopSecret + "\ncalback_url = \"https://b.example/cb\"\n",
			nil, nil, "storefronts[1].calback_url", "calback_url", []string{`unknown key "calback_url" in [[storefronts]]`, `did you mean "callback_url"?`}},
		{"misspelt key suplier in the second [[products.sources]]", valid + "  [[products.sources]]\n  suplier = \"own\"\n",
			nil, nil, "products[0].sources[1].suplier", "suplier", []string{`did you mean "supplier"?`}},
		{"syntax error: unterminated string", "[api]\nlisten = \"127.0.0.1:8080\n" + valid,
			nil, nil, "api.listen", "listen =", []string{"TOML syntax error", "strings cannot contain newlines"}},
		{"syntax error: key defined twice", "[log]\nlevel = \"info\"\nlevel = \"debug\"\n" + valid,
			nil, nil, "log.level", `level = "debug"`, []string{"TOML syntax error", "already been defined", "remove or rename the duplicate"}},
		{"table [api] given as a string", "api = \"127.0.0.1:8080\"\n" + valid,
			nil, nil, "api", "api =", []string{"must be a table, not a value", "[api] section"}},
		{"array of tables products.sources given as a number", valid + "\n[[products]]\nsku = \"b\"\nsources = 5\n",
			nil, nil, "products[1].sources", "sources = 5", []string{"must be an array of tables", "[[products.sources]]"}},
		{"wrong type: max_quantity = \"ten\"", edit(`sku = "qb-100"`, "sku = \"qb-100\"\nmax_quantity = \"ten\""),
			nil, nil, "products[0].max_quantity", "max_quantity", []string{"must be an integer, not a string", "max_quantity = 10"}},
		{"wrong type: storefront id = 5", edit(`id = "shop1"`, "id = 5"),
			nil, nil, "storefronts[0].id", "id = 5", []string{"must be a string, not an integer"}},
		{"bad duration stock_wait = \"30\"", valid + "\n[processing]\nstock_wait = \"30\"\n",
			nil, nil, "processing.stock_wait", "stock_wait", []string{`invalid duration "30"`, `"30s"`}},
		{"duration as integer stock_wait = 30", valid + "\n[processing]\nstock_wait = 30\n",
			nil, nil, "processing.stock_wait", "stock_wait", []string{"must be a duration string, not an integer", `stock_wait = "30s"`}},
		{"amount with three decimals max_cost = \"98.505\"", valid + "  max_cost = \"98.505\"\n",
			nil, nil, "products[0].sources[0].max_cost", "max_cost", []string{"more than two decimals", `max_cost = "98.50"`}},
		{"amount as float refund_limit = 500.5", valid + "\n[bot]\nrefund_limit = 500.5\n",
			nil, nil, "bot.refund_limit", "refund_limit", []string{"must be a decimal string, not a float"}},
		{"duplicate storefront id shop1", valid + "\n[[storefronts]]\nid = \"shop1\" # second\n" + shopSecret + "\ncallback_url = \"https://b.example/cb\"\n",
			nil, nil, "storefronts[1].id", "# second", []string{`"shop1" is already the id of storefronts[0]`}},
		{"duplicate sku qb-100", valid + "\n[[products]]\nsku = \"qb-100\" # second\n  [[products.sources]]\n  supplier = \"own\"\n",
			nil, nil, "products[1].sku", "# second", []string{`"qb-100" is already the sku of products[0]`}},
		{"source names unknown supplier fulu", edit(`supplier = "own"`, `supplier = "fulu"`),
			nil, nil, "products[0].sources[0].supplier", "fulu", []string{`"fulu" is not a declared supplier`, "use one of: own"}},
		{"same supplier twice in one product", valid + "  [[products.sources]]\n  supplier = \"own\" # again\n",
			nil, nil, "products[0].sources[1].supplier", "# again", []string{"once per product"}},
		{"product without sources", valid + "\n[[products]] # lonely\nsku = \"lonely\"\n",
			nil, nil, "products[1].sources", "# lonely", []string{"at least one [[products.sources]]"}},
		{"stock source with an item", valid + "  item = \"10000587\"\n",
			nil, nil, "products[0].sources[0].item", "item =", []string{"must be empty for the stock supplier"}},
		{"stock source with units = 2", valid + "  units = 2\n",
			nil, nil, "products[0].sources[0].units", "units =", []string{"must be 1 for the stock supplier"}},
		{"explicit max_quantity = 0", edit(`sku = "qb-100"`, "sku = \"qb-100\"\nmax_quantity = 0"),
			nil, nil, "products[0].max_quantity", "max_quantity", []string{"0 is out of range; use 1 to 10000"}},
		{"both secret and secret_env on a storefront", edit(shopSecret, shopSecret+"\nsecret_env = \"SHOP1_SECRET\""),
			nil, nil, "storefronts[0].secret_env", "secret_env", []string{"storefronts[0].secret is also set", "one way only"}},
		{"admin token_env names an unset variable", edit(adminLiteral, `token_env = "CARDFLOW_TEST_TOKEN"`),
			map[string]string{"CARDFLOW_TEST_TOKEN": unset}, nil, "admin.token_env", "token_env",
			[]string{"environment variable CARDFLOW_TEST_TOKEN is not set; export it or use admin.token_file"}},
		{"admin token_env names an empty variable", edit(adminLiteral, `token_env = "CARDFLOW_TEST_TOKEN"`),
			map[string]string{"CARDFLOW_TEST_TOKEN": ""}, nil, "admin.token_env", "token_env",
			[]string{"environment variable CARDFLOW_TEST_TOKEN is empty", "admin.token_file"}},
		{"storefront secret_file that does not exist", edit(shopSecret, `secret_file = "secrets/missing"`),
			nil, nil, "storefronts[0].secret_file", "secret_file", []string{"read secret file", filepath.Join("secrets", "missing")}},
		{"admin token of 5 characters", edit(adminLiteral, `token = "short"`),
			nil, nil, "admin.token", "short", []string{"5 characters and at least 16 are needed", "openssl rand -hex 24"}},
		{"storefront secret of 8 bytes from a file", edit(shopSecret, `secret_file = "shop1.secret"`),
			nil, map[string]string{"shop1.secret": "8-bytes!\n"}, "storefronts[0].secret_file", "secret_file", []string{"8 bytes and at least 16"}},
		{"log.level = verbose", "[log]\nlevel = \"verbose\"\n" + valid,
			nil, nil, "log.level", "verbose", []string{`"verbose" is not allowed`, "trace, debug, info, warn, error"}},
		{"log.format = xml", "[log]\nformat = \"xml\"\n" + valid,
			nil, nil, "log.format", "xml", []string{"json, console"}},
		{"bot.language = fr", valid + "\n[bot]\nlanguage = \"fr\"\n",
			nil, nil, "bot.language", `"fr"`, []string{"zh, en"}},
		{"supplier type unionpay", edit(`type = "stock"`, `type = "unionpay"`),
			nil, nil, "suppliers[0].type", "unionpay", []string{`"unionpay" is not supported by this build`, "supported types: stock, fulu, sim"}},
		{"fulu supplier without app_key", valid + "\n[[suppliers]] # fulu here\nname = \"fulu\"\ntype = \"fulu\"\napp_secret = \"0a091b3aa4324435aab703142518a8f7\"\n",
			nil, nil, "suppliers[1].app_key", "# fulu here", []string{"must be set", `app_key_env = "FULU_APP_KEY"`}},
		{"fulu app_secret of 8 characters", valid + "\n[[suppliers]]\nname = \"fulu\"\ntype = \"fulu\"\napp_key = \"k\"\napp_secret = \"short-secret\"\n",
			nil, nil, "suppliers[1].app_secret", "short-secret", []string{"is 12 characters; a Fulu AppSecret has 32"}},
		{"fulu base_url not a URL", valid + "\n[[suppliers]]\nname = \"fulu\"\ntype = \"fulu\"\nbase_url = \"openapi.fulu.com\"\napp_key = \"k\"\napp_secret = \"0a091b3aa4324435aab703142518a8f7\"\n",
			nil, nil, "suppliers[1].base_url", "openapi.fulu.com", []string{"not an absolute http(s) URL"}},
		{"sim fail_rate over 1", valid + "\n[[suppliers]]\nname = \"sim\"\ntype = \"sim\"\nfail_rate = 2\n",
			nil, nil, "suppliers[1].fail_rate", "fail_rate", []string{"use a number from 0 to 1"}},
		{"base_url on a sim supplier", valid + "\n[[suppliers]]\nname = \"sim\"\ntype = \"sim\"\nbase_url = \"https://x.example\"\n",
			nil, nil, "suppliers[1].base_url", "base_url", []string{"applies only to fulu suppliers"}},
		{"latency on the stock supplier", edit(`type = "stock"`, "type = \"stock\"\nlatency = \"1s\""),
			nil, nil, "suppliers[0].latency", "latency", []string{"applies only to sim suppliers"}},
		{"fulu source without item", valid + "\n[[suppliers]]\nname = \"fulu\"\ntype = \"fulu\"\napp_key = \"k\"\napp_secret = \"0a091b3aa4324435aab703142518a8f7\"\n[[products]]\nsku = \"qb-5\"\n  [[products.sources]] # no item\n  supplier = \"fulu\"\n",
			nil, nil, "products[1].sources[0].item", "# no item", []string{`must be set: the Fulu product_id`}},
		{"daily_at not a time", valid + "\n[report]\ndaily_at = \"9am\"\n",
			nil, nil, "report.daily_at", "9am", []string{`"9am" is not a time of day`}},
		{"timezone unknown", valid + "\n[report]\ntimezone = \"Mars/Olympus\"\n",
			nil, nil, "report.timezone", "Mars/Olympus", []string{`"Mars/Olympus" is not a time zone`}},
		{"routing misspelt", valid + "\n[processing]\nrouting = \"adaptiv\"\n",
			nil, nil, "processing.routing", "adaptiv", []string{`"adaptiv" is not allowed; use "priority" or "adaptive"`}},
		{"auto_refund lists an unknown reason", valid + "\n[processing]\nauto_refund = [\"out_of_stock\", \"angry_buyer\"]\n",
			nil, nil, "processing.auto_refund[1]", "auto_refund", []string{`"angry_buyer" is not a refund reason`}},
		{"callback_url not absolute", edit(`callback_url = "https://shop.example.com/cardflow/callback"`, `callback_url = "/cardflow/callback"`),
			nil, nil, "storefronts[0].callback_url", "callback_url", []string{"not an absolute http or https URL"}},
		{"callback_url with ftp scheme", edit(`callback_url = "https://shop.example.com/cardflow/callback"`, `callback_url = "ftp://shop.example.com/cb"`),
			nil, nil, "storefronts[0].callback_url", "callback_url", []string{"not an absolute http or https URL"}},
		{"direct product from own stock", edit(`sku = "qb-100"`, "sku = \"qb-100\"\nkind = \"direct\""),
			nil, nil, "products[0].sources[0].supplier", `supplier = "own"`, []string{"a direct top-up product needs a fulu or sim source"}},
		{"storefront id with a space", edit(`id = "shop1"`, `id = "shop 1"`),
			nil, nil, "storefronts[0].id", "shop 1", []string{"1 to 32 letters"}},
		{"supplier name in upper case", edit(`name = "own"`, `name = "Own"`),
			nil, nil, "suppliers[0].name", "Own", []string{"lowercase"}},
		{"api.listen without a port", "[api]\nlisten = \"8080\"\n" + valid,
			nil, nil, "api.listen", "8080", []string{"is not host:port", `"127.0.0.1:8080"`}},
		{"admin.listen equal to api.listen", "[admin]\nlisten = \"127.0.0.1:8080\"\n" + strings.Replace(valid, "[admin]\n", "", 1),
			nil, nil, "admin.listen", "listen", []string{"collides with api.listen"}},
		{"data_dir empty", "data_dir = \"\"\n" + valid,
			nil, nil, "data_dir", "data_dir", []string{"must be set"}},
		{"processing.workers = 2000", valid + "\n[processing]\nworkers = 2000\n",
			nil, nil, "processing.workers", "workers", []string{"use 1 to 1024"}},
		{"storefront protocol misspelt", edit(`id = "shop1"`, "id = \"shop1\"\nprotocol = \"dujiao\""),
			nil, nil, "storefronts[0].protocol", `"dujiao"`, []string{`"dujiao" is not a protocol`, `"dujiao-next"`, `"acg-faka"`}},
		{"credit_limit on a cardflow storefront", edit(`id = "shop1"`, "id = \"shop1\"\ncredit_limit = \"100\""),
			nil, nil, "storefronts[0].credit_limit", "credit_limit", []string{"only a docking shop", "remove credit_limit"}},
		{"credit_limit over a million", edit(`id = "shop1"`, "id = \"shop1\"\nprotocol = \"acg-faka\"\ncredit_limit = \"2000000\""),
			nil, nil, "storefronts[0].credit_limit", "credit_limit", []string{"out of range", "1000000.00"}},
		{"credit_limit negative", edit(`id = "shop1"`, "id = \"shop1\"\nprotocol = \"acg-faka\"\ncredit_limit = \"-5\""),
			nil, nil, "storefronts[0].credit_limit", "credit_limit", []string{"not a decimal number"}},
		{"dujiao-next shop without callback_url", strings.Replace(edit(`id = "shop1"`, "id = \"shop1\"\nprotocol = \"dujiao-next\""),
			`callback_url = "https://shop.example.com/cardflow/callback"`, "# no callback", 1),
			nil, nil, "storefronts[0].callback_url", "[[storefronts]]", []string{"must be set"}},
		{"product id without a price", edit(`sku = "qb-100"`, "sku = \"qb-100\"\nid = 1001"),
			nil, nil, "products[0].price", "[[products]]", []string{"must be set with id", `price = "9.50"`}},
		{"product price without an id", edit(`sku = "qb-100"`, "sku = \"qb-100\"\nprice = \"9.50\""),
			nil, nil, "products[0].id", "[[products]]", []string{"must be set with price", "id = 1001"}},
		{"product id given twice", edit(`sku = "qb-100"`, "sku = \"qb-100\"\nid = 7\nprice = \"1\"") +
			"\n[[products]]\nsku = \"qb-5\"\nid = 7 # second\nprice = \"1\"\n  [[products.sources]]\n  supplier = \"own\"\n",
			nil, nil, "products[1].id", "# second", []string{"7 is already the id of products[0]"}},
		{"product id over 32 bits", edit(`sku = "qb-100"`, "sku = \"qb-100\"\nid = 4294967296\nprice = \"1\""),
			nil, nil, "products[0].id", "id = 4294967296", []string{"out of range"}},
		{"sync_window of 20s", edit(`id = "shop1"`, "id = \"shop1\"\nprotocol = \"acg-faka\"\nsync_window = \"20s\""),
			nil, nil, "storefronts[0].sync_window", "sync_window", []string{"out of range", "1s to 9s"}},
		{"claim_period on a cardflow storefront", edit(`id = "shop1"`, "id = \"shop1\"\nclaim_period = \"1h\""),
			nil, nil, "storefronts[0].claim_period", "claim_period", []string{"is for an acg-faka shop"}},
		{"two dujiao-webhook shops with one secret", edit(`id = "shop1"`, "id = \"shop1\"\nprotocol = \"dujiao-webhook\"") +
			"\n[[storefronts]]\nid = \"shop2\"\nprotocol = \"dujiao-webhook\"\nsecret = \"0123456789abcdef-shop1\" # same\ncallback_url = \"https://b.example/cb\"\n",
			nil, nil, "storefronts[1].secret", "# same", []string{"same secret as storefronts[0]"}},
		{"a dujiao-webhook secret with a space", strings.Replace(edit(`id = "shop1"`, "id = \"shop1\"\nprotocol = \"dujiao-webhook\""),
			shopSecret, `secret = "0123456789 abcdef-shop1"`, 1),
			nil, nil, "storefronts[0].secret", "abcdef-shop1", []string{"may not contain spaces"}},
		{"category without an id", edit(`sku = "qb-100"`, "sku = \"qb-100\"\ncategory = \"Q币\""),
			nil, nil, "products[0].id", "[[products]]", []string{"category and description are for docking shops"}},
		{"email_events without an [email] section", edit(`id = "shop1"`, "id = \"shop1\"\nemail_events = [\"order.delivered\"]"),
			nil, nil, "storefronts[0].email_events", "email_events", []string{"needs a mail server", "add an [email] section"}},
		{"email_events naming order.failed", edit(`id = "shop1"`, "id = \"shop1\"\nemail_events = [\"order.delivered\", \"order.failed\"]") + mailSection,
			nil, nil, "storefronts[0].email_events[1]", "email_events", []string{`"order.failed" is not an event mailed to buyers`, "claim.resolved"}},
		{"email_events listing an event twice", edit(`id = "shop1"`, "id = \"shop1\"\nemail_events = [\"order.refunded\", \"order.refunded\"]") + mailSection,
			nil, nil, "storefronts[0].email_events[1]", "email_events", []string{"listed twice"}},
		{"storefront language fr", edit(`id = "shop1"`, "id = \"shop1\"\nlanguage = \"fr\""),
			nil, nil, "storefronts[0].language", `"fr"`, []string{"zh, en"}},
		{"storefront name with a newline", edit(`id = "shop1"`, "id = \"shop1\"\nname = \"某某\\n商城\""),
			nil, nil, "storefronts[0].name", "某某", []string{"without control characters"}},
		{"email security none to a public host", valid + strings.Replace(mailSection, `security = "tls"`, `security = "none"`, 1),
			nil, nil, "email.security", `"none"`, []string{"only for a relay on loopback or a private network", `"smtp.example.com" is neither`}},
		{"email security misspelt", valid + strings.Replace(mailSection, `security = "tls"`, `security = "ssl"`, 1),
			nil, nil, "email.security", `"ssl"`, []string{`"ssl" is not allowed`, "starttls"}},
		{"email from not an address", valid + strings.Replace(mailSection, `from = "某某商城 <noreply@shop.example.com>"`, `from = "某某商城"`, 1),
			nil, nil, "email.from", "from =", []string{"is not a mail address", "noreply@shop.example.com"}},
		{"email host with a port", valid + strings.Replace(mailSection, `host = "smtp.example.com"`, `host = "smtp.example.com:465"`, 1),
			nil, nil, "email.host", "host =", []string{"not a host name", "the port in port"}},
		{"email port 70000", valid + strings.Replace(mailSection, `port = 465`, `port = 70000`, 1),
			nil, nil, "email.port", "port =", []string{"70000 is out of range"}},
		{"email username without a password", valid + strings.Replace(mailSection, "password = \"smtp-password\"\n", "", 1),
			nil, nil, "email.password", "[email]", []string{"must be set with username", "password_env"}},
		{"email password_env names an unset variable", valid + strings.Replace(mailSection, `password = "smtp-password"`, `password_env = "CARDFLOW_TEST_SMTP"`, 1),
			map[string]string{"CARDFLOW_TEST_SMTP": unset}, nil, "email.password_env", "password_env", []string{"CARDFLOW_TEST_SMTP is not set"}},
		{"email section without host", valid + "\n[email]\nfrom = \"noreply@shop.example.com\"\n",
			nil, nil, "email.host", "[email]", []string{"must be set for buyer mails"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			setenv(t, tc.env)
			ps := loadProblems(t, writeConfig(t, tc.src, tc.files))
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
			if !strings.HasSuffix(p.File, "config.toml") {
				t.Errorf("file = %q, want the config path", p.File)
			}
		})
	}
}

func TestLoadReportsEveryProblemAtOnceInLineOrder(t *testing.T) {
	src := readTestdata(t, "many_problems.toml")
	ps := loadProblems(t, writeConfig(t, src, nil))
	want := []struct{ key, mark string }{
		{"api.listne", "listne"},
		{"log.level", "verbose"},
		{"storefronts[0].callback_url", "/cardflow/callback"},
		{"products[0].max_quantity", `"ten"`},
		{"products[0].sources[0].max_cost", "98.505"},
		{"products[1].sku", "qb-100"}, // the second one; checked by index below
		{"products[1].sources[0].supplier", "fulu"},
		{"processing.stock_wait", "soon"},
		{"telegarm", "[telegarm]"},
	}
	if len(ps) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%v", len(ps), len(want), ps)
	}
	for i, w := range want {
		if ps[i].Key != w.key {
			t.Errorf("problem %d key = %q, want %q", i, ps[i].Key, w.key)
		}
		if w.key == "products[1].sku" {
			continue
		}
		if line := lineOf(t, src, w.mark); ps[i].Line != line {
			t.Errorf("problem %d (%s) line = %d, want %d", i, w.key, ps[i].Line, line)
		}
	}
	// Error() prints one "file:line: key: message" per problem.
	lines := strings.Split(ps.Error(), "\n")
	if len(lines) != len(want) {
		t.Fatalf("Error() has %d lines, want %d", len(lines), len(want))
	}
	if !strings.HasSuffix(lines[0], "config.toml:4: api.listne: unknown key \"listne\" in [api]; did you mean \"listen\"?") {
		t.Errorf("first line = %q", lines[0])
	}
}
