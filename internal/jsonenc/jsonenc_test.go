package jsonenc

import (
	"bytes"
	"encoding/json"
	"testing"
)

// TestAppendStringIsEncodingJSONsByteForByte: quotes, backslashes, control
// bytes, HTML characters, U+2028, Chinese, emoji and invalid UTF-8 come out
// exactly as encoding/json writes them.
func TestAppendStringIsEncodingJSONsByteForByte(t *testing.T) {
	for _, s := range []string{"", "T20261125-0001", `a"b\c`, "line\nbreak\r\t\b\f\x00\x1f\x7f", "<script>&</script>",
		"\u2028\u2029", "订单 🎉", "bad \xff\xfe utf8 \xe2\x82", "\xed\xa0\x80"} {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := AppendString([]byte("x"), s); !bytes.Equal(got, append([]byte("x"), want...)) {
			t.Errorf("for %q:\n got %s\nwant x%s", s, got, want)
		}
	}
}
