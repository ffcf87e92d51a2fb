package cardline

import (
	"bytes"
	"encoding/csv"
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseReadsQuotedAndPlainFields(t *testing.T) {
	cases := []struct {
		line string
		want Card
	}{
		{"A1", Card{Number: "A1"}},
		{"A1,p1,2027-12-31", Card{"A1", "p1", "2027-12-31"}},
		{`"A1","p1","2027-12-31"`, Card{"A1", "p1", "2027-12-31"}},
		{`  "A1" ,	"p1"  `, Card{Number: "A1", Password: "p1"}},
		{`"A,1","p""1"`, Card{Number: "A,1", Password: `p"1`}},
		{`A1,""`, Card{Number: "A1"}},
		{"A1，p1", Card{Number: "A1", Password: "p1"}},
		{`"A1"，"p1"`, Card{Number: "A1", Password: "p1"}},
		{`"A1，x"`, Card{Number: "A1，x"}},
		{"\ufeffA1\u200b,p1", Card{Number: "A1", Password: "p1"}},
		{"A1,", Card{Number: "A1"}},
		{"A1,,2027/12/31", Card{Number: "A1", ExpiresAt: "2027/12/31"}},
		{"A 1 , p 1", Card{Number: "A 1", Password: "p 1"}},
		{`A1,p"w"1`, Card{Number: "A1", Password: `p"w"1`}},
		{`A"1,pw`, Card{Number: `A"1`, Password: "pw"}},
	}
	for _, tc := range cases {
		got, err := Parse(tc.line)
		if err != nil || got != tc.want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", tc.line, got, err, tc.want)
		}
	}
}

// TestParseRefusesWhatItCannotRead: each refusal has its own reason, and
// no reason repeats the line.
func TestParseRefusesWhatItCannotRead(t *testing.T) {
	cases := []struct {
		line string
		want error
	}{
		{`"SECRET1,pw`, ErrOpenQuote},
		{`"SECRET1" x,pw`, ErrAfterQuote},
		{`"SECRET1"x`, ErrAfterQuote},
		{",pw", ErrEmptyNumber},
		{`"",pw`, ErrEmptyNumber},
		{"SECRET1,pw,31/12/2027", ErrExpiry},
		{"SEC\x01RET1", ErrControl},
		{"SECRET1,p\tw", ErrControl},
		{strings.Repeat("S", 257), ErrFieldLong},
		{strings.Repeat("S", 1025), ErrTooLong},
		{"SECRET1\xff", ErrNotUTF8},
	}
	for _, tc := range cases {
		_, err := Parse(tc.line)
		if !errors.Is(err, tc.want) {
			t.Errorf("Parse(%q) = %v, want %v", tc.line, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "SECRET") {
			t.Errorf("reason %q repeats the line", err)
		}
	}
	if _, err := Parse("A,p,2027-12-31,x"); err == nil || !strings.Contains(err.Error(), "4 fields") {
		t.Errorf("four fields: %v", err)
	}
}

// FuzzSplitReadsCSVAsEncodingCSVDoes: whatever one-line record
// encoding/csv reads, Split reads the same fields (less surrounding
// blanks); and whatever Split reads, written back by encoding/csv, reads
// back the same. Split is more lenient in two ways only: blanks around a
// quoted field and the full-width comma.
func FuzzSplitReadsCSVAsEncodingCSVDoes(f *testing.F) {
	for _, s := range []string{`a,b,c`, `"a","b"`, `"a""b",c`, `"a,b"`, ` "a" , b `, `a"b`, `"a`, `"a"b`, `a，b`,
		``, ` `, `,`, `"",""`, "\ufeff\"a\"", `"a""`, `""""`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		if strings.ContainsAny(line, "\r\n") || !utf8.ValidString(line) || len(line) > MaxLineLen {
			return
		}
		fields, err := Split(line)
		if !strings.ContainsRune(line, fullWidthComma) {
			r := csv.NewReader(strings.NewReader(line))
			r.FieldsPerRecord = -1
			if rec, cerr := r.Read(); cerr == nil {
				for i := range rec {
					rec[i] = strings.TrimFunc(rec[i], isBlank)
				}
				if err != nil || !slices.Equal(fields, rec) {
					t.Fatalf("line %q: encoding/csv reads %q, Split %q (%v)", line, rec, fields, err)
				}
			}
		}
		if err != nil {
			return
		}
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		if werr := w.Write(fields); werr != nil {
			t.Fatal(werr)
		}
		w.Flush()
		again, err := Split(strings.TrimSuffix(buf.String(), "\n"))
		if err != nil || !slices.Equal(again, fields) {
			t.Fatalf("line %q reads %q; written back as %q it reads %q (%v)", line, fields, buf.String(), again, err)
		}
	})
}
