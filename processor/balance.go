package processor

import (
	"context"
	"sync"
	"time"

	"cardflow/internal/money"
	"cardflow/report"
	"cardflow/storage"
	"cardflow/suppliers"
)

// balanceEvery is how often prepaid balances at suppliers are checked.
const balanceEvery = 5 * time.Minute

// balances remembers the last balance each supplier reported.
type balances struct {
	mu   sync.Mutex
	last map[string]money.Amount
}

// balanceLoop checks every supplier that reports a balance, now and then
// every balanceEvery, and raises (or resolves) the low-balance alert of
// those with a balance_low. Running out of money upstream would otherwise
// first show up as failed purchases.
func (e *Engine) balanceLoop(ctx context.Context) {
	e.CheckBalances(ctx)
	every(ctx, balanceEvery, func() { e.CheckBalances(ctx) })
}

// CheckBalances asks each supplier for its balance once.
func (e *Engine) CheckBalances(ctx context.Context) {
	for _, name := range e.supplierNames {
		b, ok := e.sources[name].(suppliers.Balancer)
		if !ok {
			continue
		}
		rctx, cancel := context.WithTimeout(ctx, e.timeouts[name])
		amount, err := b.Balance(rctx)
		cancel()
		if err != nil {
			e.log.Warn().Err(err).Str("supplier", name).Msg("balance check failed")
			continue
		}
		e.balances.mu.Lock()
		e.balances.last[name] = amount
		e.balances.mu.Unlock()
		low := e.balanceLow[name]
		err = e.commit(func(tx *storage.Tx, c *effects) error {
			report.CountBalance(tx, c.now, name, amount)
			if low <= 0 {
				return nil
			}
			return c.alert(tx, storage.Alert{Key: AlertBalanceLow + ":" + name, Type: AlertBalanceLow, Target: name,
				Resolved: amount >= low, Detail: amount.String()})
		})
		if err != nil {
			e.log.Error().Err(err).Str("supplier", name).Msg("record balance")
		}
	}
}

// Balance is a supplier's last reported balance, if it reports one.
func (e *Engine) Balance(supplier string) (money.Amount, bool) {
	e.balances.mu.Lock()
	defer e.balances.mu.Unlock()
	a, ok := e.balances.last[supplier]
	return a, ok
}
