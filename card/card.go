// Package card is a card key as the shop sells it: its number, password and
// expiry in plaintext, the mask that is the only way it is ever printed, and
// the normalised form two spellings of one key are compared in. Sealing and
// storing cards is the storage package's job; suppliers and importers only
// make them.
package card

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Card is one card key in plaintext. It only exists in memory, between the
// edge that receives it (import, supplier) and the edge that hands it out
// (storefront API, callback). Its String never shows the secret parts.
type Card struct {
	Number    string `json:"number"`
	Password  string `json:"password,omitempty"`
	ExpiresAt string `json:"expires_at,omitempty"`
}

// String masks the card to its last four characters so that an accidental
// %v in a log line or chat message cannot leak it.
func (c Card) String() string { return "card(" + Mask(c.Number) + ")" }

// GoString masks like String for %#v.
func (c Card) GoString() string { return c.String() }

// Mask keeps the last four characters of s: "****1234".
func Mask(s string) string {
	r := []rune(s)
	if len(r) <= 4 {
		return "****"
	}
	return "****" + string(r[len(r)-4:])
}

// Normalize is the form a card key is compared in: full-width characters
// folded to ASCII, letters upper-cased, and dropped: white space, dashes
// of every kind (hyphen, en and em dash, minus sign) and invisible format
// characters (byte order mark, zero-width space, direction marks). Those
// are how people and exports write one key differently: "abcd-efgh ijkl",
// "ＡＢＣＤ—ＥＦＧＨ" and "ABCDEFGHIJKL" are the same card. Changing it changes
// every stored fingerprint: bump storage's schemaVersion and reprint
// (storage/reprint.go).
func Normalize(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if r >= 0xFF01 && r <= 0xFF5E { // full-width ASCII, as typed on Chinese keyboards
			r -= 0xFEE0
		}
		switch {
		case r < utf8.RuneSelf:
			if r == '-' || r == ' ' || r >= '\t' && r <= '\r' {
				continue
			}
			if 'a' <= r && r <= 'z' {
				r -= 'a' - 'A'
			}
			b.WriteByte(byte(r))
			continue
		case unicode.IsSpace(r), unicode.Is(unicode.Pd, r), unicode.Is(unicode.Cf, r), r == '−':
			continue
		}
		b.WriteRune(unicode.ToUpper(r))
	}
	return b.String()
}
