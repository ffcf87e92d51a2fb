package processor

import (
	"errors"
	"fmt"
	"io"

	"cardflow/storage"
	"cardflow/suppliers/stock"
)

// importChunk is how many cards share one write transaction during an
// import: big enough to amortise the commit, small enough not to hold up
// order writes queued behind it.
const importChunk = 5000

// ImportResult answers a stock import (DESIGN §5).
type ImportResult struct {
	Added      int               `json:"added"`
	Duplicates int               `json:"duplicates"`
	Invalid    int               `json:"invalid"`
	Errors     []stock.LineError `json:"-"` // the first invalid lines, for the operator
}

// ErrNotStocked: the SKU has no own-stock source to import into.
var ErrNotStocked = errors.New("product has no own-stock source")

// ImportStock reads card lines from r, seals them and adds them to a SKU's
// stock. Cards already known (in stock, delivered, or earlier in the same
// file) are counted as duplicates. Orders waiting for the SKU wake up. The
// import is audited with its counts, never its contents.
func (e *Engine) ImportStock(actor storage.Actor, sku string, r io.Reader) (ImportResult, error) {
	var res ImportResult
	p, ok := e.products[sku]
	if !ok {
		return res, fmt.Errorf("import %s: %w", sku, ErrNotFound)
	}
	if !e.hasStockSource(p) {
		return res, fmt.Errorf("import %s: %w", sku, ErrNotStocked)
	}
	vault := e.store.Vault()
	rd := stock.NewReader(r)
	chunk := make([]storage.SealedCard, 0, importChunk)
	flush := func(last bool) error {
		var added, dups int
		err := e.commit(func(tx *storage.Tx, c *effects) error {
			var err error
			added, dups, err = tx.AddStock(sku, chunk)
			if err != nil || !last {
				return err
			}
			entry := storage.AuditEntry{
				At: c.now, Actor: actor, Action: "stock.import", Target: sku, Outcome: "ok",
				Detail: fmt.Sprintf("added=%d duplicates=%d invalid=%d", res.Added+added, res.Duplicates+dups, len(rd.Invalid)),
			}
			if err := tx.Audit(entry); err != nil {
				return err
			}
			if res.Added+added > 0 && e.waits.waiting(sku) > 0 {
				return c.alert(tx, storage.Alert{Key: AlertOutOfStock + ":" + sku, Type: AlertOutOfStock, SKU: sku,
					Resolved: true, Count: tx.StockLevel(sku)})
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("import %s: %w", sku, err)
		}
		res.Added += added
		res.Duplicates += dups
		chunk = chunk[:0]
		return nil
	}
	for {
		card, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return res, fmt.Errorf("import %s: %w", sku, err)
		}
		sealed, err := vault.Seal(card)
		if err != nil {
			return res, fmt.Errorf("import %s: %w", sku, err)
		}
		chunk = append(chunk, sealed)
		if len(chunk) == importChunk {
			if err := flush(false); err != nil {
				return res, err
			}
		}
	}
	if err := flush(true); err != nil {
		return res, err
	}
	res.Invalid = len(rd.Invalid)
	res.Errors = rd.Invalid[:min(len(rd.Invalid), 20)]
	e.log.Info().Str("sku", sku).Str("actor", actor.Name).Int("added", res.Added).
		Int("duplicates", res.Duplicates).Int("invalid", res.Invalid).Msg("stock imported")
	if res.Added > 0 {
		e.StockArrived(sku)
	}
	return res, nil
}

// StockLevels returns the level of every configured stocked SKU.
func (e *Engine) StockLevels() (map[string]int, error) {
	levels := make(map[string]int)
	err := e.store.View(func(tx *storage.Tx) error {
		for sku, p := range e.products {
			if e.hasStockSource(p) {
				levels[sku] = tx.StockLevel(sku)
			}
		}
		return nil
	})
	return levels, err
}
