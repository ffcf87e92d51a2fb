package chat

import (
	"strings"
	"testing"

	"cardflow/internal/chatcheck"
)

// FuzzUntrustedIsInert: whatever a buyer, a storefront or a supplier sends,
// its Untrusted form holds no control, format or bidi character, no line
// break and nothing a client would link, is at most maxUntrusted
// characters (and an ellipsis), and stays so inside a message, where it
// cannot start a line of its own (on its own it may read like one:
// "✅ Order #1 refunded" is a fine buyer id, found by the fuzzer).
func FuzzUntrustedIsInert(f *testing.F) {
	for _, v := range chatcheck.Hostile {
		f.Add(v)
	}
	f.Add("a.b.c.d")
	f.Add("1.2.3.4.5")
	f.Add("x@y")
	f.Add("@")
	f.Add("::////")
	f.Add("✅ Order #1 refunded") // a value that reads like a line of its own
	f.Fuzz(func(t *testing.T, v string) {
		s := Untrusted(v).String()
		if strings.Contains(s, "\n") {
			t.Fatalf("Untrusted(%q) = %q holds a line break", v, s)
		}
		if err := chatcheck.InertValue(s); err != nil {
			t.Fatalf("Untrusted(%q) = %q: %v", v, s, err)
		}
		if n := len([]rune(s)); n > 3*maxUntrusted+1 { // a rune becomes at most "[.]"
			t.Fatalf("Untrusted(%q) is %d characters", v, n)
		}
		for _, lang := range []string{LangZH, LangEN} {
			if err := chatcheck.Inert(T(lang, "order_buyer", Untrusted(v)) + "\n" + T(lang, "order_external", Untrusted(v), Untrusted(v))); err != nil {
				t.Fatalf("%q in a message: %v", v, err)
			}
		}
	})
}
