package docking

import (
	"errors"
	"fmt"

	"cardflow/internal/money"
	"cardflow/processor"
	"cardflow/storage"
)

// Levels is what a listing reads once per request: stock levels and paused
// SKUs.
type Levels struct {
	Stock  map[string]int
	Paused map[string]bool
}

// Stock is the part of the engine a listing reads.
type Stock interface {
	StockLevels() (map[string]int, error)
	PausedProducts() ([]string, error)
}

// ReadLevels reads the stock levels and the paused SKUs.
func ReadLevels(e Stock) (Levels, error) {
	stock, err := e.StockLevels()
	if err != nil {
		return Levels{}, fmt.Errorf("read stock levels: %w", err)
	}
	paused, err := ReadPaused(e)
	if err != nil {
		return Levels{}, err
	}
	return Levels{Stock: stock, Paused: paused}, nil
}

// Paused is the part of the engine that knows the paused products.
type Paused interface {
	PausedProducts() ([]string, error)
}

// ReadPaused reads the set of paused SKUs.
func ReadPaused(e Paused) (map[string]bool, error) {
	skus, err := e.PausedProducts()
	if err != nil {
		return nil, fmt.Errorf("read paused products: %w", err)
	}
	paused := make(map[string]bool, len(skus))
	for _, sku := range skus {
		paused[sku] = true
	}
	return paused, nil
}

// Balances is the part of the engine that keeps the shops' balances.
type Balances interface {
	Balances() ([]processor.Balance, error)
}

// Balance is a shop's balance now, as its connection test shows it.
func Balance(e Balances, shop string) (money.Amount, error) {
	all, err := e.Balances()
	if err != nil {
		return 0, fmt.Errorf("read balances: %w", err)
	}
	for _, b := range all {
		if b.Storefront == shop {
			return b.Balance, nil
		}
	}
	return 0, nil
}

// ByNumber is the part of the engine that finds a shop's order by its
// number.
type ByNumber interface {
	OrderByExternal(storefront, externalID string) (*storage.Order, error)
}

// ByID is the part of the engine that reads an order by id.
type ByID interface {
	Order(id uint64) (*storage.Order, error)
}

// OwnOrder reads order id if it is the shop's: another shop's is
// storage.ErrNotFound, as one that does not exist, so that a shop learns
// nothing of others' orders.
func OwnOrder(e ByID, shop string, id uint64) (*storage.Order, error) {
	o, err := e.Order(id)
	switch {
	case errors.Is(err, storage.ErrNotFound) || err == nil && o.Storefront != shop:
		return nil, storage.ErrNotFound
	case err != nil:
		return nil, fmt.Errorf("read order %d: %w", id, err)
	}
	return o, nil
}

// Intake is the order a shop's order number names: the one it made before,
// whatever a repeat's body says (a shop retries with the same number, and
// is never charged twice), or else the one place submits now. A refusal
// stores nothing, so the same number may go through after a top-up.
func Intake(e ByNumber, shop, no string, place func() (*storage.Order, error)) (*storage.Order, error) {
	o, err := e.OrderByExternal(shop, no)
	if errors.Is(err, storage.ErrNotFound) {
		return place()
	}
	return o, err
}
