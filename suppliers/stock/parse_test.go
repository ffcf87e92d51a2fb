package stock

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"cardflow/card"
)

func readAll(t *testing.T, r io.Reader) ([]card.Card, []LineError, error) {
	t.Helper()
	rd := NewReader(r)
	var cards []card.Card
	for {
		c, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return cards, rd.Errors, nil
		}
		if err != nil {
			return cards, rd.Errors, err
		}
		cards = append(cards, c)
	}
}

func TestReaderAcceptsWhatShopsExport(t *testing.T) {
	cases := []struct {
		name    string
		in      string
		numbers []string
		invalid []int // line numbers
	}{
		{"number only", "A1\nA2\n", []string{"A1", "A2"}, nil},
		{"number,password,expires_at", "A1,p1,2027-12-31\nA2,p2\n", []string{"A1", "A2"}, nil},
		{"CRLF and blank lines", "A1,p1\r\n\r\n\r\nA2\r\n", []string{"A1", "A2"}, nil},
		{"lone CR line ends", "A1\rA2\rA3", []string{"A1", "A2", "A3"}, nil},
		{"BOM and English header", "\ufeffnumber,password,expires_at\nA1,p1,2027-01-01\n", []string{"A1"}, nil},
		{"Chinese header", "卡号,卡密\nA1,p1\n", []string{"A1"}, nil},
		{"header only counts on line 1", "A1\nnumber\n", []string{"A1", "number"}, nil},
		{"spaces around fields", "  A1 ,  p1  \n", []string{"A1"}, nil},
		{"four fields", "A1,p,2027-01-01,x\nA2\n", []string{"A2"}, []int{1}},
		{"empty number", ",p1\nA2\n", []string{"A2"}, []int{1}},
		{"control character", "A\x01B\nA2\n", []string{"A2"}, []int{1}},
		{"bad date", "A1,p,31/12/2027\nA2\n", []string{"A2"}, []int{1}},
		{"field over 256 bytes", strings.Repeat("x", 257) + "\nA2\n", []string{"A2"}, []int{1}},
		{"line over the scan buffer", strings.Repeat("y", 200_000) + "\nA2\n", []string{"A2"}, []int{1}},
		{"binary junk without newlines", strings.Repeat("\x00\xff", 100_000), nil, []int{1}},
		{"no final newline", "A1\nA2", []string{"A1", "A2"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cards, invalid, err := readAll(t, strings.NewReader(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			var numbers []string
			for _, c := range cards {
				numbers = append(numbers, c.Number)
			}
			if strings.Join(numbers, "|") != strings.Join(tc.numbers, "|") {
				t.Errorf("cards = %q, want %q", numbers, tc.numbers)
			}
			var lines []int
			for _, e := range invalid {
				lines = append(lines, e.Line)
				if strings.Contains(e.Why, "A1") || strings.Contains(e.Why, "yyyy") {
					t.Errorf("error text repeats the line: %q", e.Why)
				}
			}
			if len(lines) != len(tc.invalid) || (len(lines) > 0 && lines[0] != tc.invalid[0]) {
				t.Errorf("invalid lines = %v, want %v", lines, tc.invalid)
			}
		})
	}
}

func TestReaderReportsABrokenUploadAfterTheGoodLines(t *testing.T) {
	r := io.MultiReader(strings.NewReader("A1\nA2\n"), iotest.ErrReader(errors.New("connection reset")))
	cards, _, err := readAll(t, r)
	if len(cards) != 2 || err == nil || !strings.Contains(err.Error(), "connection reset") {
		t.Fatalf("cards %d, err %v", len(cards), err)
	}
}

func TestReaderKeepsPasswordsAndExpiry(t *testing.T) {
	cards, _, _ := readAll(t, strings.NewReader("A1,secret pass,2027-12-31 23:59:59\n"))
	if len(cards) != 1 || cards[0].Password != "secret pass" || cards[0].ExpiresAt != "2027-12-31 23:59:59" {
		t.Fatalf("cards = %#v", cards)
	}
}
