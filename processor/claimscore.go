package processor

import (
	"cardflow/config"
	"cardflow/report"
	"cardflow/storage"
)

// Claims steer suppliers (docs/claims.md): an upheld claim, a reissue or a
// refund, charges each card it named to where the card came from, in the
// resolution's own write. A remote supplier's card is a bad card of that
// supplier, beside the duplicates it sent: its bad-card count, and the
// counter its scorecard reads, so adaptive routing scores it lower and
// second verification switches on as it does for duplicates. An own-stock
// card counts against its import batch. A rejected claim charges nothing.

// stockBatches finds, for each named card position, the own-stock import
// batch it came in; nil when no named card came from own stock.
func (e *Engine) stockBatches(tx *storage.Tx, o *storage.Order, cl *storage.Claim) []uint64 {
	var out []uint64
	for i, p := range cl.Cards {
		if e.supplierTypes[cl.Sources[i]] != config.SupplierStock || p >= len(o.Cards) {
			continue
		}
		if _, batch, ok := tx.StockBatchOf(o.Cards[p].FP); ok && batch > 0 {
			if out == nil {
				out = make([]uint64, len(cl.Cards))
			}
			out[i] = batch
		}
	}
	return out
}

// claimOpened counts a claim just opened on o.
func claimOpened(tx *storage.Tx, c *effects, o *storage.Order, cl *storage.Claim) {
	report.CountClaimOpened(tx, c.now, o.SKU, cl.Sources)
}

// claimCharged counts a claim's resolution, and charges an upheld one's
// cards to their suppliers and batches.
func (e *Engine) claimCharged(tx *storage.Tx, c *effects, o *storage.Order, cl *storage.Claim) error {
	upheld := cl.Status == storage.ClaimReissued || cl.Status == storage.ClaimRefunded
	report.CountClaimResolved(tx, c.now, o.SKU, cl, upheld)
	if !upheld {
		return nil
	}
	for i, src := range cl.Sources {
		typ := e.supplierTypes[src]
		if typ == "" {
			continue // unknown, or a supplier no longer configured
		}
		if err := tx.AddClaimCards(src, 1); err != nil {
			return err
		}
		switch typ {
		case config.SupplierStock:
			var batch uint64
			if i < len(cl.Batches) {
				batch = cl.Batches[i]
			}
			if err := tx.AddBatchClaim(o.SKU, batch); err != nil {
				return err
			}
		default:
			if err := tx.AddBadCards(src, 1); err != nil {
				return err
			}
			report.CountBadCard(tx, c.now, src)
		}
	}
	return nil
}

// BatchClaims lists the import batches of a SKU's own stock that upheld
// claims were charged to, newest batch first (batch 0: cards stocked before
// batches).
func (e *Engine) BatchClaims(sku string) ([]storage.BatchClaims, error) {
	var out []storage.BatchClaims
	err := e.store.View(func(tx *storage.Tx) error {
		out = tx.BatchClaims(sku)
		return nil
	})
	return out, err
}
