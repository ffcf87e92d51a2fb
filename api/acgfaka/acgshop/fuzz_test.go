package acgshop

import (
	"slices"
	"testing"

	"cardflow/api/acgfaka"
)

// FuzzWhatAPHPEncoderWritesVerifies builds a call as acg-faka's client
// does, with names of the kinds it sends (letters, digits and '_', and
// sku[...] options) and any bytes as values, and checks that the server
// side reads back the same fields and verifies the signature.
func FuzzWhatAPHPEncoderWritesVerifies(f *testing.F) {
	f.Add("account", "a b+c@x", "区服", "亚服", "", "583920174628301745")
	f.Add("w1", "&=%+\x00\n", "a.b c", "", "月卡", "")
	f.Add("app_id", "1", "", "", "", "1")
	f.Fuzz(func(t *testing.T, widget, value, group, option, race, requestNo string) {
		name := widgetish(widget)
		group = bracketless(group)
		fields := []acgfaka.Field{{Name: "shared_code", Value: "1001"}, {Name: "race", Value: race}, {Name: "request_no", Value: requestNo}}
		if group != "" {
			fields = append(fields, acgfaka.Field{Name: "sku[" + group + "]", Value: option})
		}
		if name != "" && !slices.ContainsFunc(fields, func(f acgfaka.Field) bool { return f.Name == name }) {
			fields = append(fields, acgfaka.Field{Name: name, Value: value})
		}
		c := &Client{AppID: "1024", AppKey: "8F3A2C9D1E7B6A54"}
		form := acgfaka.ParseForm([]byte(c.Body(fields)))
		if !acgfaka.Verify(form, c.AppKey) {
			t.Fatalf("body %s does not verify", c.Body(fields))
		}
		got := form.Fields()
		want := append(fields, acgfaka.Field{Name: "app_id", Value: "1024"}, acgfaka.Field{Name: "app_key", Value: c.AppKey})
		if !slices.Equal(got[:len(got)-1], want) {
			t.Fatalf("read back %q, sent %q", got, want)
		}
	})
}

// widgetish keeps the letters, digits and '_' of s, led by a letter: a
// name acg-faka accepts for a widget and does not send itself.
func widgetish(s string) string {
	b := []byte{}
	for i := 0; i < len(s) && len(b) < 32; i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
			b = append(b, c)
		case len(b) > 0 && ('0' <= c && c <= '9' || c == '_'):
			b = append(b, c)
		}
	}
	switch n := string(b); n {
	case "sign", "app_id", "app_key": // the client's own
		return ""
	default:
		return n
	}
}

// bracketless drops what an SKU group name may not hold: brackets, and the
// NUL that ends a name PHP reads.
func bracketless(s string) string {
	b := []byte{}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != '[' && c != ']' && c != 0 {
			b = append(b, c)
		}
	}
	return string(b)
}
