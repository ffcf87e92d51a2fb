package fulu

import (
	"bytes"
	"crypto/md5" //nolint:gosec // Fulu's protocol mandates MD5 signatures
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Fulu signs requests, responses and callbacks with one primitive:
//
//	sign = lowercase hex(md5(sortChars(text) + appSecret))
//
// where text is the compact JSON of the object without its "sign" field
// (requests, callbacks) or the raw "result" string exactly as received
// (responses). Sorting the characters makes key order irrelevant, but the
// exact characters count: Go's default HTML escaping of <, > and & changes
// the text and therefore the sign.

// CompactJSON writes v the way Fulu's SDKs do: no spaces, no trailing
// newline, and only '"', '\' and control characters escaped ('/', '<', '>',
// '&' and non-ASCII are written literally). Maps come out with sorted keys,
// which does not matter for a character-sorted signature.
func CompactJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode json: %w", err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// SignText signs a text as it is: its code points sorted, the secret
// appended, MD5, lowercase hex. Responses are signed over their raw result
// string with it.
func SignText(text, secret string) string {
	r := []rune(text)
	slices.Sort(r)
	sum := md5.Sum([]byte(string(r) + secret)) //nolint:gosec // protocol
	return hex.EncodeToString(sum[:])
}

// Sign signs an object that does not contain its "sign" field (a struct with
// `json:"sign,omitempty"` left empty, or a map without the key): the compact
// JSON of fields, signed with SignText.
func Sign(fields any, secret string) (string, error) {
	text, err := CompactJSON(fields)
	if err != nil {
		return "", fmt.Errorf("sign: %w", err)
	}
	return SignText(string(text), secret), nil
}

// SignMap signs a decoded JSON object (requests or callbacks as received),
// ignoring its "sign" key. Decode with UseNumber so that numbers keep their
// text.
func SignMap(m map[string]any, secret string) (string, error) {
	rest := make(map[string]any, len(m))
	for k, v := range m {
		if k != "sign" {
			rest[k] = v
		}
	}
	return Sign(rest, secret)
}

// SignEqual compares a received sign with the expected one in constant time,
// ignoring hex letter case.
func SignEqual(got, want string) bool {
	return subtle.ConstantTimeCompare([]byte(strings.ToLower(got)), []byte(want)) == 1
}
