package acgfaka_test

import (
	"strings"
	"testing"

	"cardflow/api/acgfaka"
	"cardflow/config"
	"cardflow/internal/dockingtest"
)

// TestAShopOrItemAShopCouldNotTakeIsRefusedAtStart: a key the shop's
// admin cannot enter (empty, 65 characters, with a space) and an item its
// importer would skip (a name of 256 characters) are errors when the
// store is built, and no error shows the key.
func TestAShopOrItemAShopCouldNotTakeIsRefusedAtStart(t *testing.T) {
	for _, key := range []string{"", strings.Repeat("k", 65), "acg shop key 0123456"} {
		_, err := acgfaka.NewUpstream(acgfaka.Options{Shops: []acgfaka.Shop{{ID: "s", Key: key}}, Products: dockingtest.Catalogue()})
		if err == nil || !strings.Contains(err.Error(), "1 to 64 characters") || key != "" && strings.Contains(err.Error(), key) {
			t.Errorf("key of %d bytes: %v", len(key), err)
		}
	}
	long := append(dockingtest.Catalogue(), config.Product{SKU: "long", Name: strings.Repeat("名", 256), Kind: config.KindCard,
		MaxQuantity: 1, ID: 77, Price: 100, Sources: []config.Source{{Supplier: "own", Units: 1}}})
	_, err := acgfaka.NewUpstream(acgfaka.Options{Shops: []acgfaka.Shop{{ID: "s", Key: shopKey}}, Products: long})
	if err == nil || !strings.Contains(err.Error(), "product long: acg-faka item 77: name") {
		t.Errorf("a name of 256 characters: %v", err)
	}
	if _, err := acgfaka.NewUpstream(acgfaka.Options{Shops: []acgfaka.Shop{{ID: "s", Key: shopKey}}, Products: dockingtest.Catalogue()}); err != nil {
		t.Errorf("the test catalogue: %v", err)
	}
}
