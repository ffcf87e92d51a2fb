package docking_test

import (
	"bytes"
	"hash/crc32"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"cardflow/api/docking"
	"cardflow/card"
	"cardflow/config"
	"cardflow/internal/testkit"
	"cardflow/storage"
)

func TestTheCatalogueOffersTheDockedProductsByIDAndCountsOnlyOwnStock(t *testing.T) {
	suppliers := []config.Supplier{{Name: "own", Type: config.SupplierStock}, {Name: "sim", Type: config.SupplierSim}}
	own := []config.Source{{Supplier: "own", Units: 1}}
	products := []config.Product{
		{SKU: "steam-20", ID: 1003, Kind: config.KindCard, Sources: append(slices.Clone(own), config.Source{Supplier: "sim", Units: 1})},
		{SKU: "house-only", Kind: config.KindCard, Sources: own}, // no id: not docked
		{SKU: "qb-10", ID: 1001, Kind: config.KindCard, Sources: own},
		{SKU: "mobile-100", ID: 2001, Kind: config.KindDirect, Sources: []config.Source{{Supplier: "sim", Units: 1}}},
	}
	c := docking.NewCatalogue(products, suppliers, nil)
	var skus []string
	for _, p := range c.Products {
		skus = append(skus, p.SKU)
	}
	if want := []string{"qb-10", "steam-20", "mobile-100"}; !slices.Equal(skus, want) {
		t.Fatalf("offered %v, want %v (docked, by id)", skus, want)
	}
	if p, ok := c.ByID(1003); !ok || p.SKU != "steam-20" {
		t.Errorf("ByID(1003) = %s, %v", p.SKU, ok)
	}
	if p, ok := c.BySKU("qb-10"); !ok || p.ID != 1001 {
		t.Errorf("BySKU(qb-10) = %d, %v", p.ID, ok)
	}
	for _, missing := range []uint64{0, 1002, 99999} {
		if _, ok := c.ByID(missing); ok {
			t.Errorf("ByID(%d) found a product", missing)
		}
	}
	if _, ok := c.BySKU("house-only"); ok {
		t.Error("a product without an id is offered")
	}
	if !c.Counted("qb-10") || c.Counted("steam-20") || c.Counted("mobile-100") {
		t.Errorf("counted: qb-10 %v, steam-20 %v, mobile-100 %v; want only the one on own stock alone",
			c.Counted("qb-10"), c.Counted("steam-20"), c.Counted("mobile-100"))
	}

	cards := docking.NewCatalogue(products, suppliers, func(p config.Product) bool { return p.Kind != config.KindDirect })
	if _, ok := cards.BySKU("mobile-100"); ok || len(cards.Products) != 2 {
		t.Errorf("a catalogue of card products offers %d products, the top-up among them: %v", len(cards.Products), ok)
	}
}

func TestCategoryIDsAreChecksumsOfTheirNamesAndAClashMovesOn(t *testing.T) {
	// "plumless" and "buckeroo" have the same CRC-32.
	if crc32.ChecksumIEEE([]byte("plumless")) != crc32.ChecksumIEEE([]byte("buckeroo")) {
		t.Fatal("the clashing names do not clash")
	}
	sum := uint64(crc32.ChecksumIEEE([]byte("plumless")))
	for _, names := range [][]string{{"plumless", "buckeroo", "Q币"}, {"Q币", "buckeroo", "plumless", "Q币"}} {
		ids := docking.IDs(names)
		if len(ids) != 3 || ids["buckeroo"] != sum || ids["plumless"] != sum+1 || ids["Q币"] != uint64(crc32.ChecksumIEEE([]byte("Q币"))) {
			t.Errorf("IDs(%q) = %v; want the checksum, the clash moved on in name order", names, ids)
		}
	}
	if ids := docking.IDs(nil); len(ids) != 0 {
		t.Errorf("IDs(nil) = %v", ids)
	}
}

func TestACardIsOneLineAndLinesAreJoinedOnePerLine(t *testing.T) {
	for _, tc := range []struct {
		card card.Card
		want string
	}{
		{card.Card{Number: "QB-1"}, "QB-1"},
		{card.Card{Number: "QB-1", Password: "PW"}, "QB-1----PW"},
		{card.Card{Number: "QB-1", ExpiresAt: "2027-12-31"}, "QB-1--------2027-12-31"},
		{card.Card{Number: "QB-1", Password: "PW", ExpiresAt: "2027-12-31"}, "QB-1----PW----2027-12-31"},
	} {
		if got := docking.CardLine(tc.card); got != tc.want {
			t.Errorf("CardLine(%+v) = %q, want %q", tc.card, got, tc.want)
		}
	}
	if got := docking.JoinLines([]string{"A----1", "B\r\nC", "D\nE", "F\rG"}); got != "A----1\nB C\nD E\nF G" {
		t.Errorf("JoinLines = %q", got)
	}

	vault, err := storage.NewVault(testkit.MasterKey())
	if err != nil {
		t.Fatal(err)
	}
	var sealed []storage.SealedCard
	for _, c := range []card.Card{{Number: "QB-1", Password: "PW"}, {Number: "QB-2"}} {
		s, err := vault.Seal(c)
		if err != nil {
			t.Fatal(err)
		}
		sealed = append(sealed, s)
	}
	if lines, err := docking.CardLines(vault, sealed); err != nil || !slices.Equal(lines, []string{"QB-1----PW", "QB-2"}) {
		t.Errorf("CardLines = %q, %v", lines, err)
	}
	other, err := storage.NewVault(bytes.Repeat([]byte{8}, 32))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := docking.CardLines(other, sealed); err == nil {
		t.Error("cards sealed under another key were opened")
	}
}

func TestAHandlersPanicIsAnsweredInTheProtocolsWordsAndLogged(t *testing.T) {
	var logs testkit.Buffer
	log := zerolog.New(&logs)
	internal := func(w http.ResponseWriter) { http.Error(w, `{"code":0}`, http.StatusInternalServerError) }
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer docking.Recover(w, r, log, internal)
		panic("boom")
	})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/shared/commodity/trade", nil))
	if rec.Code != 500 || !strings.HasPrefix(rec.Body.String(), `{"code":0}`) {
		t.Errorf("answered %d %q", rec.Code, rec.Body)
	}
	if l := logs.String(); !strings.Contains(l, `"panic":"boom"`) || !strings.Contains(l, `"path":"/shared/commodity/trade"`) || !strings.Contains(l, `"stack"`) {
		t.Errorf("logged %s", l)
	}

	abort := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer docking.Recover(w, r, log, internal)
		panic(http.ErrAbortHandler)
	})
	defer func() {
		if p := recover(); p != http.ErrAbortHandler {
			t.Errorf("http.ErrAbortHandler did not go on up: %v", p)
		}
	}()
	abort.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/", nil))
	t.Error("the abort was swallowed")
}
