package operator

import (
	"testing"

	"cardflow/internal/money"
	"cardflow/processor"
	"cardflow/storage"
)

// TestFindListsABuyersOrdersForAViewer: /find takes a buyer id or contact,
// lists that buyer's newest orders with their storefront and external id
// and a Details button each, and says when nothing matched. Inputs tried:
// no argument, two arguments, a contact in another case, a value with a
// link in it (echoed defanged), and a buyer with no orders.
func TestFindListsABuyersOrdersForAViewer(t *testing.T) {
	f := newFixture(t)
	submit := func(ext string, b storage.Buyer) *storage.Order {
		o, _, err := f.engine.Submit(processor.Request{Storefront: storefront, ExternalID: ext, SKU: skuBig, Quantity: 1,
			Amount: money.Amount(1000), Buyer: b})
		if err != nil {
			t.Fatalf("submit %s: %v", ext, err)
		}
		return o
	}
	first := submit("F-1", storage.Buyer{ID: "u-77", Contact: "Lucky@QQ.com"})
	submit("F-2", storage.Buyer{ID: "u-88", Contact: "other@qq.com"})
	last := submit("F-3", storage.Buyer{ID: "u-99", Contact: "lucky@qq.com"})
	for _, lg := range langs {
		t.Run(lg.name, func(t *testing.T) {
			b := f.bot(lg.lang)
			r := f.send(b, viewerID, "/find LUCKY@qq.com")
			containsAll(t, "/find", r.Text,
				tr(lg.lang, "共 2 单", "2 (of the newest"), "#3 qb-100", "#1 qb-100", "shop:F-3", "shop:F-1")
			containsNone(t, "/find", r.Text, "F-2")
			if len(r.Buttons) != 2 || r.Buttons[0].Data != orderButton(btnDetails, last.ID).encode() ||
				r.Buttons[1].Data != orderButton(btnDetails, first.ID).encode() {
				t.Errorf("buttons = %q, want details of #%d then #%d", buttonData(r), last.ID, first.ID)
			}
			r = f.send(b, viewerID, "/find u-77")
			containsAll(t, "/find u-77", r.Text, "#1 qb-100")
			containsNone(t, "/find u-77", r.Text, "#3 ")
			r = f.send(b, viewerID, "/find https://evil.example")
			containsAll(t, "/find with a link", r.Text, tr(lg.lang, "没有买家", "No order of buyer"), "evil[.]example")
			containsNone(t, "/find with a link", r.Text, "https://", "evil.example")
			for _, bad := range []string{"/find", "/find a b"} {
				r = f.send(b, viewerID, bad)
				containsAll(t, bad, r.Text, "/find <buyer id|contact>")
			}
		})
	}
}
