package acgfaka

import (
	"errors"
	"testing"
)

// FuzzParseRequest feeds arbitrary bodies through everything a handler
// calls: nothing may panic, every error must be an *Error, a body must
// parse the same way twice, and its fields, signed and sent again, verify.
func FuzzParseRequest(f *testing.F) {
	for _, v := range vectors {
		if v.wire != "" {
			f.Add(v.wire)
		}
	}
	f.Add("app_id=1024&a[b][c]=1&a=2&a[]=3&%zz=%&&=&sign[x]=1")
	f.Add("app_id%5B%5D=1&sku[=1&sku]=2&+.x=3")
	paths := []string{PathConnect, PathItem, PathStock, PathValuation, PathTrade, PathInventory, PathInventoryState, PathQuery}
	anyKey := func(string) (string, bool) { return vectorAppKey, true }
	f.Fuzz(func(t *testing.T, body string) {
		form := ParseForm([]byte(body))
		_ = form.String()
		_ = form.Nested("sku")
		again := ParseForm([]byte(body))
		if form.String() != again.String() {
			t.Fatalf("two parses differ: %s / %s", form, again)
		}
		// Sign the parsed fields so that the business parsers run too,
		// leaving out a name that reading would change again.
		var fields []Field
		for _, fl := range form.Fields() {
			if normalName(fl.Name) == fl.Name {
				fields = append(fields, fl)
			}
		}
		fields = append(fields, Field{"app_id", "1024"})
		signedBody := encodeForTest(append(fields, Field{"sign", Sign(fields, vectorAppKey)}))
		if _, err := ParseRequest(PathConnect, []byte(signedBody), anyKey); err != nil {
			t.Fatalf("the parsed fields, signed and encoded again, do not verify: %v", err)
		}
		for _, p := range paths {
			for _, b := range []string{body, signedBody} {
				r, err := ParseRequest(p, []byte(b), anyKey)
				if err != nil {
					mustBeRefusal(t, err)
					continue
				}
				for _, call := range []func(*Request) error{item, stock, valuation, trade, inventory, inventoryState, query} {
					if err := call(r); err != nil {
						mustBeRefusal(t, err)
					}
				}
			}
		}
	})
}

func mustBeRefusal(t *testing.T, err error) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %T %v is not an *Error", err, err)
	}
}

// encodeForTest writes fields with every byte but letters and digits
// escaped, which any form decoder reads back.
func encodeForTest(fields []Field) string {
	const hex = "0123456789ABCDEF"
	esc := func(s string) string {
		b := make([]byte, 0, 3*len(s))
		for i := 0; i < len(s); i++ {
			c := s[i]
			if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
				b = append(b, c)
				continue
			}
			b = append(b, '%', hex[c>>4], hex[c&15])
		}
		return string(b)
	}
	var out []byte
	for i, f := range fields {
		if i > 0 {
			out = append(out, '&')
		}
		out = append(out, esc(f.Name)+"="+esc(f.Value)...)
	}
	return string(out)
}
