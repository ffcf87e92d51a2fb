package stock_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"cardflow/card"
	"cardflow/internal/testkit"
	"cardflow/internal/teststore"
	"cardflow/storage"
	"cardflow/suppliers/stock"
)

// spellings of the card KEY-0001 / PW1 as shops' exports and people's
// keyboards write it. Every one must read as that card and fingerprint the
// same, so that the second import of it, in any spelling, is a duplicate.
var spellings = []struct{ name, line string }{
	{"plain", "KEY-0001,PW1"},
	{"both fields quoted", `"KEY-0001","PW1"`},
	{"number quoted", `"KEY-0001",PW1`},
	{"password quoted", `KEY-0001,"PW1"`},
	{"spaces around fields", "  KEY-0001 ,  PW1  "},
	{"spaces around quoted fields", ` "KEY-0001" , "PW1" `},
	{"tabs around fields", "\tKEY-0001\t,\tPW1\t"},
	{"full-width comma", "KEY-0001，PW1"},
	{"full-width comma and spaces", "KEY-0001 ， PW1"},
	{"quoted with full-width comma", `"KEY-0001"，"PW1"`},
	{"CRLF", "KEY-0001,PW1\r"},
	{"BOM", "\ufeffKEY-0001,PW1"},
	{"lower case", "key-0001,PW1"},
	{"full-width letters and digits", "ＫＥＹ－０００１,PW1"},
	{"no dash", "KEY0001,PW1"},
	{"space for dash", "KEY 0001,PW1"},
	{"en dash", "KEY–0001,PW1"},
	{"em dash", "KEY—0001,PW1"},
	{"ideographic space", "KEY\u30000001,PW1"},
	{"zero-width space", "KEY-\u200b0001,PW1"},
	{"no-break space around", "\u00a0KEY-0001\u00a0,PW1"},
	{"with expiry", "KEY-0001,PW1,2027-12-31"},
	{"all quoted with expiry", `"KEY-0001","PW1","2027-12-31"`},
}

func readOne(t *testing.T, text string) card.Card {
	t.Helper()
	rd := stock.NewReader(strings.NewReader(text))
	c, err := rd.Next()
	if err != nil {
		t.Fatalf("line %q: %v", text, err)
	}
	if _, err := rd.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("line %q: a second card or error: %v", text, err)
	}
	return c
}

func TestEverySpellingOfOneCardHasOneFingerprint(t *testing.T) {
	vault, err := storage.NewVault(bytes.Repeat([]byte{5}, 32))
	if err != nil {
		t.Fatal(err)
	}
	want := vault.Fingerprint(card.Card{Number: "KEY-0001", Password: "PW1"})
	for _, sp := range spellings {
		t.Run(sp.name, func(t *testing.T) {
			c := readOne(t, sp.line+"\n")
			if got := vault.Fingerprint(c); got != want {
				t.Errorf("line %q reads as number %q password %q: another fingerprint than KEY-0001", sp.line, c.Number, c.Password)
			}
			if card.Normalize(c.Password) != "PW1" {
				t.Errorf("line %q: password %q, want PW1 (the number must not swallow it)", sp.line, c.Password)
			}
			if strings.ContainsAny(c.Number+c.Password+c.ExpiresAt, "\"\ufeff，") {
				t.Errorf("line %q: fields %q %q %q keep a quote, BOM or comma", sp.line, c.Number, c.Password, c.ExpiresAt)
			}
		})
	}
}

// TestAFileOfEverySpellingImportsOneCard: the spellings in one file, one a
// line, are one card and the rest duplicates (the store's own check).
func TestAFileOfEverySpellingImportsOneCard(t *testing.T) {
	s := testkit.NewStore(t, teststore.Open)
	var file strings.Builder
	for _, sp := range spellings {
		file.WriteString(strings.TrimPrefix(sp.line, "\ufeff") + "\r\n")
	}
	rd := stock.NewReader(strings.NewReader("\ufeff" + file.String()))
	var sealed []storage.SealedCard
	for {
		c, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		sc, err := s.Vault().Seal(c)
		if err != nil {
			t.Fatal(err)
		}
		sealed = append(sealed, sc)
	}
	if len(sealed) != len(spellings) {
		t.Fatalf("%d cards read from %d lines", len(sealed), len(spellings))
	}
	var added, dups int
	err := s.Update(func(tx *storage.Tx) (err error) {
		added, dups, err = tx.AddStock("qb-10", 0, sealed)
		return err
	})
	if err != nil || added != 1 || dups != len(spellings)-1 {
		t.Fatalf("added %d, duplicates %d, err %v; want 1 added, %d duplicates", added, dups, err, len(spellings)-1)
	}
}
