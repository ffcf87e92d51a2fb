package health

import (
	"context"
	"sync"
	"time"

	"cardflow/alert"
	"cardflow/internal/money"
	"cardflow/internal/periodic"
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
func (h *Health) balanceLoop(ctx context.Context) {
	h.CheckBalances(ctx)
	periodic.Every(ctx, balanceEvery, func() { h.CheckBalances(ctx) })
}

// CheckBalances asks each supplier for its balance once.
func (h *Health) CheckBalances(ctx context.Context) {
	for _, name := range h.names {
		b, ok := h.sources[name].(suppliers.Balancer)
		if !ok {
			continue
		}
		rctx, cancel := context.WithTimeout(ctx, h.timeouts[name])
		amount, err := b.Balance(rctx)
		cancel()
		if err != nil {
			h.log.Warn().Err(err).Str("supplier", name).Msg("balance check failed")
			continue
		}
		h.balances.mu.Lock()
		h.balances.last[name] = amount
		h.balances.mu.Unlock()
		low := h.balanceLow[name]
		err = h.write(func(tx *storage.Tx, now time.Time, raise func(storage.Alert) error) error {
			report.CountBalance(tx, now, name, amount)
			if low <= 0 {
				return nil
			}
			return raise(storage.Alert{Key: string(alert.BalanceLow) + ":" + name, Type: alert.BalanceLow, Target: name,
				Resolved: amount >= low, Detail: amount.String()})
		})
		if err != nil {
			h.log.Error().Err(err).Str("supplier", name).Msg("record balance")
		}
	}
}

// Balance is a supplier's last reported balance, if it reports one.
func (h *Health) Balance(supplier string) (money.Amount, bool) {
	h.balances.mu.Lock()
	defer h.balances.mu.Unlock()
	a, ok := h.balances.last[supplier]
	return a, ok
}
