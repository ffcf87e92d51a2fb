package operator

import (
	"strings"
	"testing"

	"cardflow/processor"
	"cardflow/storage"
)

// TestStockAndSuppliersShowUpheldClaims: two upheld claims (a reissue and
// a refund) and a rejected one on cards of own stock's first import: /stock
// names batch 1 with its two upheld cards under qb-10, and nothing under
// qb-100, which has none; /suppliers counts own stock's two cards of upheld
// claims. Both languages.
func TestStockAndSuppliersShowUpheldClaims(t *testing.T) {
	for _, lg := range langs {
		t.Run(lg.name, func(t *testing.T) {
			l := func(zh, en string) string { return tr(lg.lang, zh, en) }
			f := newFixture(t)
			if res := f.importCards(skuSmall, "cards-qb10.txt"); res.Batch != 1 {
				t.Fatalf("import answered batch %d, want 1", res.Batch)
			}
			carol := storage.Actor{Name: "carol", Platform: "telegram"}
			for _, action := range []string{processor.ActionReissue, processor.ActionRefund, processor.ActionReject} {
				o := f.delivered(skuSmall)
				number, err := f.engine.Vault().Open(o.Cards[0])
				if err != nil {
					t.Fatal(err)
				}
				cl, _, err := f.engine.OpenClaim(storefront, o.ID, processor.ClaimRequest{Reason: processor.ClaimCardInvalid,
					Cards: []string{number.Number}})
				if err != nil {
					t.Fatal(err)
				}
				if _, _, err := f.engine.ResolveClaim(carol, cl.ID, action, ""); err != nil {
					t.Fatal(err)
				}
				if action == processor.ActionReissue {
					f.waitStatus(o.ID, storage.StatusDelivered)
				}
			}
			b := f.bot(lg.lang)
			stock := f.send(b, viewerID, "/stock").Text
			containsAll(t, "/stock", stock, l("qb-10 Q币10元：2（低于 3）\n  售后成立：批次 #1 2 张\nqb-100", "qb-10 Q币10元: 2 (below 3)\n  upheld claims: batch #1 2 cards\nqb-100"))
			if n := strings.Count(stock, l("售后成立", "upheld claims")); n != 1 {
				t.Fatalf("/stock names upheld claims %d times:\n%s", n, stock)
			}
			containsAll(t, "/suppliers", f.send(b, viewerID, "/suppliers").Text,
				l("own（stock）：正常，售后成立 2 张", "own (stock): up, 2 cards in upheld claims"))
		})
	}
}
