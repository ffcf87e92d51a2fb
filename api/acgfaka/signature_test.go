package acgfaka

import (
	"slices"
	"strings"
	"testing"
)

const (
	vectorAppID  = "1024"
	vectorAppKey = "8F3A2C9D1E7B6A54"
)

// vectors are the published acg-faka signature vectors A1–A4, computed by
// running acg-faka's own generateSignature; A3 and A4 come with the bodies
// an acg-faka shop puts on the wire.
var vectors = []struct {
	name      string
	fields    []Field // send order, credentials included
	canonical string
	sign      string
	wire      string // the body as sent, sign included; "" when not published
}{
	{
		name:      "A1 connect as the acg client sends it",
		fields:    []Field{{"app_id", vectorAppID}, {"app_key", vectorAppKey}},
		canonical: "app_id=1024&app_key=8F3A2C9D1E7B6A54&key=8F3A2C9D1E7B6A54",
		sign:      "07bf581b48cc04485a688ec49f481368",
	},
	{
		name:      "A2 app_id only",
		fields:    []Field{{"app_id", vectorAppID}},
		canonical: "app_id=1024&key=8F3A2C9D1E7B6A54",
		sign:      "1095131eb01a23659cff325ba248290b",
	},
	{
		name: "A3 trade with race and sku",
		fields: []Field{
			{"shared_code", "ABCDEF1234567890"}, {"contact", "buyer@example.com"}, {"num", "2"},
			{"card_id", "0"}, {"device", "0"}, {"password", ""}, {"race", "月卡"},
			{"request_no", "123456789012345678"}, {"sku[区服]", "亚服"}, {"sku[版本]", "标准"},
			{"app_id", vectorAppID}, {"app_key", vectorAppKey},
		},
		canonical: "app_id=1024&app_key=8F3A2C9D1E7B6A54&card_id=0&contact=buyer@example.com&device=0&num=2&race=月卡&request_no=123456789012345678&shared_code=ABCDEF1234567890&sku[区服]=亚服&sku[版本]=标准&key=8F3A2C9D1E7B6A54",
		sign:      "f7f8a9ce8e0ed44908af0afacb33c593",
		wire:      "shared_code=ABCDEF1234567890&contact=buyer%40example.com&num=2&card_id=0&device=0&password=&race=%E6%9C%88%E5%8D%A1&request_no=123456789012345678&sku%5B%E5%8C%BA%E6%9C%8D%5D=%E4%BA%9A%E6%9C%8D&sku%5B%E7%89%88%E6%9C%AC%5D=%E6%A0%87%E5%87%86&app_id=1024&app_key=8F3A2C9D1E7B6A54&sign=f7f8a9ce8e0ed44908af0afacb33c593",
	},
	{
		name: "A4 trade without race, empty sku, widget account",
		fields: []Field{
			{"shared_code", "1001"}, {"contact", "x"}, {"num", "1"}, {"card_id", "0"}, {"device", "0"},
			{"password", ""}, {"race", ""}, {"request_no", "583920174628301745"}, {"account", "a b+c@x"},
			{"app_id", vectorAppID}, {"app_key", vectorAppKey},
		},
		canonical: "account=a b+c@x&app_id=1024&app_key=8F3A2C9D1E7B6A54&card_id=0&contact=x&device=0&num=1&request_no=583920174628301745&shared_code=1001&key=8F3A2C9D1E7B6A54",
		sign:      "27b9ab8f512c261d6b2276fe0c9fba11",
		wire:      "shared_code=1001&contact=x&num=1&card_id=0&device=0&password=&race=&request_no=583920174628301745&account=a+b%2Bc%40x&app_id=1024&app_key=8F3A2C9D1E7B6A54&sign=27b9ab8f512c261d6b2276fe0c9fba11",
	},
	// M1–M4 are the mcy OpenApi vectors. That protocol carries the
	// signature in a header, over the same canonical form; its fields are
	// all scalar, so acg's rule and mcy's (which drops arrays) agree.
	{
		name:      "M1 mcy trade as the acg client sends it",
		fields:    []Field{{"sku_id", "17"}, {"quantity", "1"}, {"trade_no", "9efebb3d7d059bff092842bf"}, {"account", "a b+c@x"}},
		canonical: "account=a b+c@x&quantity=1&sku_id=17&trade_no=9efebb3d7d059bff092842bf&key=8F3A2C9D1E7B6A54",
		sign:      "2f3078747abcffb750084230a4d60019",
	},
	{
		name:      "M2 mcy trade from the V4 plugin",
		fields:    []Field{{"sku_id", "34"}, {"quantity", "2"}, {"trade_no", "20260101120000123456"}, {"async_url", "https://shop.example.com/plugin/mcy-shop-v4/async/order.20260101120000123456"}},
		canonical: "async_url=https://shop.example.com/plugin/mcy-shop-v4/async/order.20260101120000123456&quantity=2&sku_id=34&trade_no=20260101120000123456&key=8F3A2C9D1E7B6A54",
		sign:      "b3cc03c4ced5fe369cc99a3c297440d8",
	},
	{
		name:      "M3 mcy request without fields",
		canonical: "&key=8F3A2C9D1E7B6A54",
		sign:      "8e6f76c602c89cce4383a3277b68ecc5",
	},
	{
		name:      "M4 mcy callback with keys on two lines",
		fields:    []Field{{"item_trade_no", "20260101120000123456"}, {"status", "1"}, {"contents", "CARD-AAAA-BBBB\nCARD-CCCC-DDDD"}},
		canonical: "contents=CARD-AAAA-BBBB\nCARD-CCCC-DDDD&item_trade_no=20260101120000123456&status=1&key=8F3A2C9D1E7B6A54",
		sign:      "a106c556ad1152a1dad92aa6321fdc93",
	},
}

func TestSignMatchesEveryPublishedVector(t *testing.T) {
	for _, v := range vectors {
		t.Run(v.name, func(t *testing.T) {
			if got := canonical(resolve(v.fields), vectorAppKey); got != v.canonical {
				t.Errorf("canonical string\n got %q\nwant %q", got, v.canonical)
			}
			if got := Sign(v.fields, vectorAppKey); got != v.sign {
				t.Errorf("Sign = %s, want %s", got, v.sign)
			}
		})
	}
}

func TestTheWireBodiesOfTheVectorsVerify(t *testing.T) {
	for _, v := range vectors {
		if v.wire == "" {
			continue
		}
		t.Run(v.name, func(t *testing.T) {
			f := ParseForm([]byte(v.wire))
			if got := canonical(f, vectorAppKey); got != v.canonical {
				t.Errorf("canonical string from the wire\n got %q\nwant %q", got, v.canonical)
			}
			if !Verify(f, vectorAppKey) {
				t.Error("the published wire body does not verify")
			}
			if Verify(f, "8F3A2C9D1E7B6A55") {
				t.Error("the wire body verifies under another key")
			}
		})
	}
}

// TestATamperedBodyFailsItsSignature changes the A3 wire body one way at a
// time: a value, a nested value, a dropped field, an added field, a
// changed sign, a sign sent as an array, no sign at all.
func TestATamperedBodyFailsItsSignature(t *testing.T) {
	a3 := vectors[2].wire
	cases := map[string]string{
		"num changed":            strings.Replace(a3, "num=2", "num=3", 1),
		"sku value changed":      strings.Replace(a3, "=%E4%BA%9A%E6%9C%8D", "=%E6%AC%A7%E6%9C%8D", 1),
		"race dropped":           strings.Replace(a3, "race=%E6%9C%88%E5%8D%A1&", "", 1),
		"field added":            a3 + "&account=evil",
		"sign changed":           strings.Replace(a3, "sign=f7f8", "sign=f7f9", 1),
		"sign upper-case":        strings.Replace(a3, "sign=f7f8a9ce8e0ed44908af0afacb33c593", "sign=F7F8A9CE8E0ED44908AF0AFACB33C593", 1),
		"sign sent as an array":  strings.Replace(a3, "sign=", "sign%5B0%5D=", 1),
		"sign missing":           a3[:strings.Index(a3, "&sign=")],
		"app_key field replaced": strings.Replace(a3, "app_key=8F3A2C9D1E7B6A54", "app_key=0000000000000000", 1),
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			if Verify(ParseForm([]byte(body)), vectorAppKey) {
				t.Errorf("verified: %s", body)
			}
		})
	}
}

func TestEmptyValuesAreSentButNotSignedOnlyAtTopLevel(t *testing.T) {
	with := []Field{{"a", "1"}, {"b", ""}, {"sku[x]", ""}, {"app_id", "1"}}
	got := canonical(resolve(with), "k")
	if want := "a=1&app_id=1&sku[x]=&key=k"; got != want {
		t.Errorf("canonical %q, want %q: a flat empty value is left out, a nested one kept", got, want)
	}
	if Sign(with, "k") != Sign([]Field{{"a", "1"}, {"sku[x]", ""}, {"app_id", "1"}}, "k") {
		t.Error("an empty flat value changed the signature")
	}
}

func TestKeysSortByTopLevelNameAndAnArrayKeepsItsOrder(t *testing.T) {
	fields := []Field{{"sku[z]", "1"}, {"b", "2"}, {"sku[a]", "3"}, {"A", "4"}, {"sku_x", "5"}}
	got := canonical(resolve(fields), "k")
	// Byte order: upper case first, "sku" before "sku_x"; sku's fields as sent.
	if want := "A=4&b=2&sku[z]=1&sku[a]=3&sku_x=5&key=k"; got != want {
		t.Errorf("canonical %q, want %q", got, want)
	}
}

func TestParseFormReadsNamesAsPHPDoes(t *testing.T) {
	cases := []struct {
		body string
		want []Field
	}{
		{"a=1&a=2", []Field{{"a", "2"}}},
		{"a=1&b=2&a=", []Field{{"a", ""}, {"b", "2"}}},
		{"x.y=1&p q=2&  lead=3", []Field{{"x_y", "1"}, {"p_q", "2"}, {"lead", "3"}}},
		{"sku%5Bx.y%5D=1", []Field{{"sku[x.y]", "1"}}},
		{"a[b=1", []Field{{"a_b", "1"}}},
		{"a[b.c d[e=1&0%5B[=2&x%00y=3", []Field{{"a_b_c_d_e", "1"}, {"0__", "2"}, {"x", "3"}}},
		{"a[b]tail=1&a[c][d]=2", []Field{{"a[b]", "1"}, {"a[c][d]", "2"}}},
		{"sku[a]=1&sku[b]=2&sku[a]=3", []Field{{"sku[a]", "3"}, {"sku[b]", "2"}}},
		{"a=1&a[x]=2", []Field{{"a[x]", "2"}}},
		{"a[x]=2&a[y]=3&a=1", []Field{{"a", "1"}}},
		{"=1&&[x]=2&novalue&b=%zz%4&c=%41+%2b", []Field{{"novalue", ""}, {"b", "%zz%4"}, {"c", "A +"}}},
	}
	for _, c := range cases {
		got := ParseForm([]byte(c.body)).Fields()
		if !slices.Equal(got, c.want) {
			t.Errorf("ParseForm(%q) = %q, want %q", c.body, got, c.want)
		}
	}
}

func TestNestedReturnsOneLevelFieldsByIndex(t *testing.T) {
	f := ParseForm([]byte("sku%5B%E5%8C%BA%E6%9C%8D%5D=%E4%BA%9A%E6%9C%8D&sku[deep][x]=1&skux=2&sku[v]=3"))
	want := []Field{{"区服", "亚服"}, {"v", "3"}}
	if got := f.Nested("sku"); !slices.Equal(got, want) {
		t.Errorf("Nested(sku) = %q, want %q", got, want)
	}
}

func TestAFormPrintsItsNamesButNoValue(t *testing.T) {
	s := ParseForm([]byte(vectors[3].wire)).String()
	if strings.Contains(s, vectorAppKey) || strings.Contains(s, "583920174628301745") {
		t.Errorf("String shows values: %s", s)
	}
	if !strings.Contains(s, "app_key") {
		t.Errorf("String misses the names: %s", s)
	}
}
