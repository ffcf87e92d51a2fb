package acgfaka

import (
	"crypto/md5"
	"crypto/subtle"
	"encoding/hex"
	"slices"
	"strings"
)

// Sign returns the signature acg-faka's clients put in the sign field: the
// fields (send order, sign itself ignored) sorted by top-level name with
// empty flat values left out, written name=value with values unescaped,
// "&key=" and the key appended, md5 in lower-case hex. See docs/acgfaka.md.
func Sign(fields []Field, appKey string) string {
	return sign(resolve(fields), appKey)
}

// Verify reports whether the form's sign field is the signature of the
// form under appKey, compared in constant time.
func Verify(f Form, appKey string) bool {
	got, ok := f.Value("sign")
	if !ok {
		return false
	}
	want := sign(f, appKey)
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

func sign(f Form, appKey string) string {
	sum := md5.Sum([]byte(canonical(f, appKey)))
	return hex.EncodeToString(sum[:])
}

// canonical returns the string the signature is the md5 of. It holds the
// key: tests compare it with the published vectors, nothing logs it.
func canonical(f Form, appKey string) string {
	kept := make([]Field, 0, len(f.fields))
	for _, fl := range f.fields {
		top, flat := topName(fl.Name)
		if top == "sign" || flat && fl.Value == "" {
			continue
		}
		kept = append(kept, fl)
	}
	// Stable: a nested array's fields keep their order, as PHP's ksort
	// moves the array as one entry.
	slices.SortStableFunc(kept, func(a, b Field) int {
		ta, _ := topName(a.Name)
		tb, _ := topName(b.Name)
		return strings.Compare(ta, tb)
	})
	var b strings.Builder
	for i, fl := range kept {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(fl.Name)
		b.WriteByte('=')
		b.WriteString(fl.Value)
	}
	b.WriteString("&key=")
	b.WriteString(appKey)
	return b.String()
}
