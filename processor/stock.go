package processor

import (
	"errors"
	"fmt"
	"io"

	"cardflow/alert"
	"cardflow/storage"
	"cardflow/suppliers/stock"
)

// importChunk is how many cards share one write transaction during an
// import: big enough to amortise the commit, small enough not to hold up
// order writes queued behind it.
const importChunk = 5000

// ImportResult answers a stock import (docs/api.md).
type ImportResult struct {
	// Batch is the import batch its cards belong to, from one sequence
	// (0 for an empty file): an upheld claim on one of them names it
	// (docs/claims.md).
	Batch      uint64            `json:"batch"`
	Added      int               `json:"added"`
	Duplicates int               `json:"duplicates"`
	Invalid    int               `json:"invalid"`
	Errors     []stock.LineError `json:"-"` // the first stock.MaxErrors invalid lines, for the operator
}

// Import errors.
var (
	// ErrNotStocked: the SKU has no own-stock source to import into.
	ErrNotStocked = errors.New("product has no own-stock source")
	// ErrImportRead: the upload broke off; the cards before the break are in.
	ErrImportRead = errors.New("reading the import failed")
)

// ImportStock reads card lines from r, seals them and adds them to a SKU's
// stock, in transactions of importChunk cards. Cards already known (in
// stock, delivered, or earlier in the same file) are counted as duplicates.
// Orders waiting for the SKU wake up. The import is audited with its counts,
// never its contents — also when it stops half-way (a broken upload), since
// the chunks before the break are in stock.
func (e *Engine) ImportStock(actor storage.Actor, sku string, r io.Reader) (ImportResult, error) {
	var res ImportResult
	p, ok := e.products[sku]
	if !ok {
		return res, fmt.Errorf("import %s: %w", sku, ErrNotFound)
	}
	if !e.hasStockSource(p) {
		return res, fmt.Errorf("import %s: %w", sku, ErrNotStocked)
	}
	rd := stock.NewReader(r)
	readErr := e.importCards(sku, rd, &res)
	res.Invalid, res.Errors = rd.Invalid, rd.Errors

	entry := storage.AuditEntry{Actor: actor, Action: "stock.import", Target: sku, Outcome: "ok",
		Detail: fmt.Sprintf("batch=%d added=%d duplicates=%d invalid=%d", res.Batch, res.Added, res.Duplicates, res.Invalid)}
	if readErr != nil {
		entry.Outcome = "error"
		entry.Detail += "; stopped early: the upload broke off"
	}
	err := e.commit(func(tx *storage.Tx, c *effects) error {
		entry.At = c.now
		if err := tx.Audit(entry); err != nil || res.Added == 0 {
			return err
		}
		level := tx.StockLevel(sku)
		if level >= p.LowStock {
			if err := c.alert(tx, storage.Alert{Key: string(alert.LowStock) + ":" + sku, Type: alert.LowStock, SKU: sku,
				Resolved: true, Count: level}); err != nil {
				return err
			}
		}
		return c.alert(tx, storage.Alert{Key: string(alert.OutOfStock) + ":" + sku, Type: alert.OutOfStock, SKU: sku,
			Resolved: true, Count: level})
	})
	if res.Added > 0 {
		e.StockArrived(sku)
	}
	e.log.Info().Str("sku", sku).Str("actor", actor.Name).Uint64("batch", res.Batch).Int("added", res.Added).Int("duplicates", res.Duplicates).
		Int("invalid", res.Invalid).Bool("complete", readErr == nil).Msg("stock imported")
	if readErr != nil {
		return res, fmt.Errorf("import %s: %w", sku, readErr)
	}
	if err != nil {
		return res, fmt.Errorf("import %s: audit: %w", sku, err)
	}
	return res, nil
}

// importCards seals and stores cards chunk by chunk, counting into res.
// The first chunk's write gives out the import's batch id.
func (e *Engine) importCards(sku string, rd *stock.Reader, res *ImportResult) error {
	vault := e.store.Vault()
	chunk := make([]storage.SealedCard, 0, importChunk)
	flush := func() error {
		if len(chunk) == 0 {
			return nil
		}
		var added, dups int
		batch := res.Batch
		err := e.store.Update(func(tx *storage.Tx) error {
			var err error
			if batch == 0 {
				if batch, err = tx.NewStockBatch(); err != nil {
					return err
				}
			}
			added, dups, err = tx.AddStock(sku, batch, chunk)
			return err
		})
		if err != nil {
			return err
		}
		res.Batch = batch
		res.Added += added
		res.Duplicates += dups
		chunk = chunk[:0]
		return nil
	}
	for {
		card, err := rd.Next()
		if err == io.EOF { //nolint:errorlint // only the reader's own end of input; a wrapped EOF is a broken upload
			return flush()
		}
		if err != nil {
			if ferr := flush(); ferr != nil {
				return ferr
			}
			return fmt.Errorf("%w: %w", ErrImportRead, err)
		}
		sealed, err := vault.Seal(card)
		if err != nil {
			return err
		}
		if chunk = append(chunk, sealed); len(chunk) == importChunk {
			if err := flush(); err != nil {
				return err
			}
		}
	}
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

// StockLevelsOf returns the own stock level of each of skus that has own
// stock as a source, read in one transaction: a page of a docking shop's
// product sync needs its few products' levels, not the whole catalogue's.
func (e *Engine) StockLevelsOf(skus []string) (map[string]int, error) {
	levels := make(map[string]int, len(skus))
	err := e.store.View(func(tx *storage.Tx) error {
		for _, sku := range skus {
			if p, ok := e.products[sku]; ok && e.hasStockSource(p) {
				levels[sku] = tx.StockLevel(sku)
			}
		}
		return nil
	})
	return levels, err
}

// StockOf is one product's own stock level and whether it is paused, read
// together: a docking shop's trade asks for one product, and reading every
// product's level for it was most of a trade's cost with a large
// catalogue.
func (e *Engine) StockOf(sku string) (level int, paused bool, err error) {
	err = e.store.View(func(tx *storage.Tx) error {
		if p, ok := e.products[sku]; ok && e.hasStockSource(p) {
			level = tx.StockLevel(sku)
		}
		paused = tx.Paused("sku:" + sku)
		return nil
	})
	return level, paused, err
}
