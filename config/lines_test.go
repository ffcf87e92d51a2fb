package config

import (
	"strings"
	"testing"
)

func TestMapLinesFindsKeysInRealisticTOML(t *testing.T) {
	src := strings.Join([]string{
		"# comment = not a key",                  // 1
		`data_dir = "./data" # trailing comment`, // 2
		"",                                       // 3
		"[api]   # the storefront API",           // 4
		`listen = "127.0.0.1:8080"`,              // 5
		`"quoted key" = 1`,                       // 6
		`note = """`,                             // 7
		`[not.a.table]`,                          // 8
		`fake = "inside a multi-line string"`,    // 9
		`"""`,                                    // 10
		"list = [",                               // 11
		`  "a", # [x]`,                           // 12
		`  "b = c",`,                             // 13
		"]",                                      // 14
		"[[products]]",                           // 15
		`sku = "a"`,                              // 16
		"  [[products.sources]]",                 // 17
		`  supplier = "own"`,                     // 18
		"  [[products.sources]]",                 // 19
		`  supplier = 'x' # 'literal'`,           // 20
		"[[ products ]]",                         // 21
		`sku = "b"`,                              // 22
		"  [[products.sources]]",                 // 23
		`  inline = { a = 1, b = "}" }`,          // 24
		`  dotted.key = 2`,                       // 25
		"[products.extra]",                       // 26
		"x = 1\r",                                // 27
		`[ "odd.table" ]`,                        // 28
		`lit = '''`,                              // 29
		`[[not.an.array]]`,                       // 30
		`'''`,                                    // 31
		`after = 1`,                              // 32
	}, "\n")
	m := mapLines(src)
	cases := []struct {
		key  string
		want int
	}{
		{"data_dir", 2},
		{"api", 4},
		{"api.listen", 5},
		{`api."quoted key"`, 6},
		{"api.note", 7},
		{"api.fake", 4}, // not a key: falls back to [api]
		{"not.a.table", 0},
		{"api.list", 11},
		{"products", 15},
		{"products[0]", 15},
		{"products[0].sku", 16},
		{"products[0].sources", 17},
		{"products[0].sources[0].supplier", 18},
		{"products[0].sources[1]", 19},
		{"products[0].sources[1].supplier", 20},
		{"products[1]", 21},
		{"products[1].sku", 22},
		{"products[1].sources[0]", 23}, // index restarts in the new product
		{"products[1].sources[0].inline", 24},
		{"products[1].sources[0].inline.a", 24}, // inside an inline table: its line
		{"products[1].sources[0].dotted.key", 25},
		{"products[1].extra.x", 27},
		{"products[1].sources[0].units", 23}, // absent: its table header
		{`"odd.table".lit`, 29},
		{`"odd.table".after`, 32},
		{"not.an.array", 0},
	}
	for _, tc := range cases {
		t.Run(tc.key, func(t *testing.T) {
			if got := m.lookup(tc.key); got != tc.want {
				t.Errorf("lookup(%q) = %d, want %d", tc.key, got, tc.want)
			}
		})
	}
	var sources []string
	for _, e := range m.byPlain("products.sources.supplier") {
		sources = append(sources, e.key)
	}
	if got := strings.Join(sources, " "); got != "products[0].sources[0].supplier products[0].sources[1].supplier" {
		t.Errorf("byPlain(products.sources.supplier) = %s", got)
	}
}

func TestParentKey(t *testing.T) {
	cases := map[string]string{
		"products[1].sources[0].units": "products[1].sources[0]",
		"products[1].sources[0]":       "products[1].sources",
		"products[1]":                  "products",
		"products":                     "",
		`a."b.c"`:                      "a",
		`a."b[0]".c`:                   `a."b[0]"`,
	}
	for in, want := range cases {
		t.Run(in, func(t *testing.T) {
			if got := parentKey(in); got != want {
				t.Errorf("parentKey(%q) = %q, want %q", in, got, want)
			}
		})
	}
}
