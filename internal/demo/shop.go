package demo

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"cardflow/internal/money"
	"cardflow/internal/storefront"
)

// Shop places the demo's orders through the signed storefront API, and
// now and then a buyer complains about one that was delivered: an
// after-sale claim, which waits for a person at the console (the demo
// resolves nothing by itself, as it approves nothing).
type Shop struct {
	Client *storefront.Client
	RunID  string           // makes external ids unique across runs
	Log    func(msg string) // where the shop reports problems
	n      int
	// placed are the cardflow ids of recent orders of own-stock card
	// products, oldest first: the orders a buyer may complain about.
	placed []string
	claims int
}

// claimable are the products a demo buyer complains about: card keys from
// own stock, delivered at once.
var claimable = map[string]bool{"qb-10": true, "steam-50": true, "netease-30": true}

// maxPlaced bounds the orders kept as candidates for a claim.
const maxPlaced = 50

// demoClaims are what the demo's buyers say, in turn.
var demoClaims = []storefront.NewClaim{
	{Reason: "card_invalid", Message: "充值时提示卡密已被使用"},
	{Reason: "not_received", Message: "充值成功但余额没有到账"},
}

// Run places orders until ctx ends: a steady trickle of small orders, now and
// then a large one, a burst from one buyer, and orders for the SKUs that are
// out of stock.
func (s *Shop) Run(ctx context.Context) {
	// An early order for the SKU that is restocked later, and one for the SKU
	// that never is, so the operator sees both endings.
	s.place(ctx, RestockSKU, 1, "u-1001")
	s.place(ctx, "psn-200", 1, "u-1002")
	tick := time.NewTicker(700 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		switch {
		case i == 8 || i == 40 || i%150 == 100: // a buyer complains about a delivered order
			s.claim(ctx)
		case i%40 == 25: // a burst: one buyer, eight orders in a row
			for range 8 {
				s.place(ctx, "qb-10", 1, "u-burst")
			}
		case i%20 == 10: // a large order: ¥600
			s.place(ctx, "steam-50", 12, fmt.Sprintf("u-%d", 3000+rand.IntN(50)))
		case i%30 == 15:
			s.place(ctx, RestockSKU, 1+rand.IntN(2), fmt.Sprintf("u-%d", 4000+rand.IntN(50)))
		case i%7 == 3: // bought from the simulated supplier
			s.place(ctx, "game-100", 1+rand.IntN(3), fmt.Sprintf("u-%d", 5000+rand.IntN(50)))
		case i%11 == 5: // a direct top-up
			s.placeDirect(ctx, "qb-direct", 1+rand.IntN(5), fmt.Sprintf("u-%d", 6000+rand.IntN(50)))
		default:
			skus := []string{"qb-10", "qb-10", "steam-50", "netease-30"}
			s.place(ctx, skus[rand.IntN(len(skus))], 1+rand.IntN(3), fmt.Sprintf("u-%d", 1000+rand.IntN(200)))
		}
	}
}

func (s *Shop) place(ctx context.Context, sku string, qty int, buyer string) {
	s.send(ctx, sku, qty, buyer, "")
}

// placeDirect tops a QQ number up; one in ten numbers is refused by the
// supplier, as a mistyped account would be.
func (s *Shop) placeDirect(ctx context.Context, sku string, qty int, buyer string) {
	account := fmt.Sprintf("%d", 10000000+rand.IntN(90000000))
	if rand.IntN(10) == 0 {
		account = "bad-" + account
	}
	s.send(ctx, sku, qty, buyer, account)
}

func (s *Shop) send(ctx context.Context, sku string, qty int, buyer, account string) {
	s.n++
	o := storefront.NewOrder{
		Account:    account,
		ExternalID: fmt.Sprintf("DEMO-%s-%04d", s.RunID, s.n),
		SKU:        sku,
		Quantity:   qty,
		Amount:     (prices[sku] * money.Amount(qty)).String(),
		Buyer:      storefront.Buyer{ID: buyer, Contact: buyer + "@example.com", IP: fmt.Sprintf("203.0.113.%d", rand.IntN(250)+1)},
	}
	placed, _, err := s.Client.Create(ctx, o)
	if err != nil && !errors.Is(err, context.Canceled) && s.Log != nil {
		s.Log(fmt.Sprintf("storefront: order %s refused: %v", o.ExternalID, err))
	}
	if err == nil && claimable[sku] {
		s.placed = append(s.placed, placed.ID)
		if len(s.placed) > maxPlaced {
			s.placed = s.placed[1:]
		}
	}
}

// claim posts an after-sale claim on the oldest order kept that is
// delivered, naming its first card for a card that does not work. An order
// not delivered (held for review, say) is passed over; one claimed is
// dropped from the candidates.
func (s *Shop) claim(ctx context.Context) {
	for len(s.placed) > 0 {
		id := s.placed[0]
		s.placed = s.placed[1:]
		o, _, err := s.Client.Get(ctx, id)
		if err != nil || o.Status != "delivered" || len(o.Cards) == 0 {
			continue
		}
		req := demoClaims[s.claims%len(demoClaims)]
		if req.Reason == "card_invalid" {
			req.Cards = []string{o.Cards[0].Number}
		}
		req.ClaimID = fmt.Sprintf("DEMO-%s-C%d", s.RunID, s.claims+1)
		if _, _, err := s.Client.Claim(ctx, id, req); err != nil {
			if !errors.Is(err, context.Canceled) && s.Log != nil {
				s.Log(fmt.Sprintf("storefront: claim on order %s refused: %v", o.ExternalID, err))
			}
			return
		}
		s.claims++
		return
	}
}
