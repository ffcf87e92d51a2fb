package demo

import (
	"cardflow/internal/money"
	"cardflow/processor"
	"cardflow/storage"
)

// LargeOrders holds orders above Limit for a person, the classic manual
// safety net. It is the demo's intake screen.
type LargeOrders struct{ Limit money.Amount }

// Screen implements processor.Screener.
func (l LargeOrders) Screen(_ *storage.Tx, o *storage.Order) (processor.Decision, error) {
	if o.Amount > l.Limit {
		return processor.Decision{Action: processor.DecideReview, Reason: "rule:large-order"}, nil
	}
	return processor.Decision{Action: processor.DecideAllow}, nil
}
