package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestEverySpellingOfOneCardImportsOnce: one card written every way shops'
// exports and keyboards write it (quoted, spaced, a full-width comma,
// full-width letters, other dashes, invisible characters, CRLF) is one
// card: the first line is added, every other a duplicate, and the card is
// delivered once, as the first line reads.
func TestEverySpellingOfOneCardImportsOnce(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	lines := []string{
		"\ufeffKEY-0001,PW1",
		`"KEY-0001","PW1"`,
		` "KEY-0001" , "PW1" `,
		"KEY-0001，PW1",
		`"KEY-0001"，PW1`,
		"key 0001,PW1",
		"ＫＥＹ－０００１,PW1",
		"KEY–0001,PW1",
		"KEY\u200b-0001,PW1",
		`"KEY-0001","PW1","2027-12-31"`,
	}
	res := f.importStock(t, skuQB, strings.Join(lines, "\r\n")+"\r\n")
	if res.Added != 1 || res.Duplicates != len(lines)-1 || res.Invalid != 0 {
		t.Fatalf("import = %+v, want 1 added and %d duplicates", res, len(lines)-1)
	}
	again := f.importStock(t, skuJD, "\"key–0001\"\n")
	if again.Added != 0 || again.Duplicates != 1 {
		t.Errorf("into another sku: %+v, want a duplicate", again)
	}
	r := f.post(t, "shop1", simpleOrder(t, "SPELLING-1", skuQB, 1, "100.00"))
	wantStatus(t, r, http.StatusCreated)
	id := r.order(t).ID
	f.waitCallback(t, id, "order.delivered")
	if o := f.getOrder(t, "shop1", id); len(o.Cards) != 1 || o.Cards[0] != (cardJSON{"KEY-0001", "PW1", ""}) {
		t.Errorf("delivered %+v, want KEY-0001 / PW1", o.Cards)
	}
}

// TestImportRefusesWhatItCannotReadWithTheLine: quoting it cannot read (a
// quoted field never closed, text after a closing quote) is an invalid line
// with its number and a reason, never a guess; a quote inside an unquoted
// password is part of it.
func TestImportRefusesWhatItCannotReadWithTheLine(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	res := f.importStock(t, skuQB, "GOOD-1,pw\n\"OPEN-1,pw\n\"AFTER-1\"x,pw\nGOOD-2，p\"w\n")
	if res.Added != 2 || res.Invalid != 2 || len(res.Errors) != 2 {
		t.Fatalf("import = %+v, want 2 added, 2 invalid", res)
	}
	for i, e := range res.Errors {
		if e.Line != i+2 || !strings.Contains(e.Why, "quot") || strings.Contains(e.Why, "1") {
			t.Errorf("error %+v: want line %d with a reason about quoting that does not repeat the line", e, i+2)
		}
	}
}

// TestImportAnswersTheFirst100ErrorsAndCountsTheRest: a file of 5,000
// invalid lines answers all 5,000 in "invalid" and lists the first 100.
func TestImportAnswersTheFirst100ErrorsAndCountsTheRest(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	var b strings.Builder
	for i := range 5000 {
		fmt.Fprintf(&b, ",no-number-%d\n", i)
	}
	b.WriteString("LAST-1,pw\n")
	res := f.importStock(t, skuQB, b.String())
	if res.Added != 1 || res.Invalid != 5000 || len(res.Errors) != 100 || res.Errors[99].Line != 100 {
		t.Fatalf("import = added %d invalid %d, %d errors listed; want 1, 5000, the first 100", res.Added, res.Invalid, len(res.Errors))
	}
}
