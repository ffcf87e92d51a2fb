package processor

import (
	"errors"
	"fmt"
	"sort"
	"time"

	"cardflow/alert"
	"cardflow/internal/money"
	"cardflow/report"
	"cardflow/storage"
)

// A docking shop prepays (docs/docking.md): its order is charged at the
// wholesale price in the write that accepts it, and given back in the
// write that refunds it. A refused charge stores nothing, so the shop's
// retry after a top-up goes through.

// charge takes a new order's amount from its docking shop's balance.
func (e *Engine) charge(tx *storage.Tx, c *effects, o *storage.Order) error {
	credit, docking := e.docking[o.Storefront]
	if !docking || o.Amount == 0 {
		return nil
	}
	_, err := tx.Balances().Change(&storage.LedgerEntry{Storefront: o.Storefront, At: c.now, Amount: -o.Amount,
		OrderID: o.ID, Actor: storage.Actor{Name: o.Storefront, Platform: "storefront"}, Reason: storage.LedgerOrder}, credit)
	if err != nil {
		return err
	}
	o.Charged = o.Amount
	report.CountShopCharge(tx, c.now, o.Storefront, o.Amount)
	return nil
}

// giveBack returns what a refunded order was charged. Refunded is a final
// state, so an order is given back at most once.
func (c *effects) giveBack(tx *storage.Tx, o *storage.Order) error {
	if o.Charged == 0 {
		return nil
	}
	actor := storage.System
	if n := len(o.History); n > 0 {
		actor = o.History[n-1].Actor
	}
	_, err := tx.Balances().Change(&storage.LedgerEntry{Storefront: o.Storefront, At: c.now, Amount: o.Charged,
		OrderID: o.ID, Actor: actor, Reason: storage.LedgerRefund}, 0)
	if err == nil {
		report.CountShopCharge(tx, c.now, o.Storefront, -o.Charged)
	}
	return err
}

// Balance is a docking shop's prepaid balance.
type Balance struct {
	Storefront  string
	Balance     money.Amount
	CreditLimit money.Amount
}

// ErrNotDocking: the storefront is not a docking shop, so it has no
// balance.
var ErrNotDocking = errors.New("not a docking shop")

// Balances lists every docking shop's balance, by id.
func (e *Engine) Balances() ([]Balance, error) {
	out := make([]Balance, 0, len(e.docking))
	err := e.store.View(func(tx *storage.Tx) error {
		for id, credit := range e.docking {
			out = append(out, Balance{Storefront: id, Balance: tx.Balances().Get(id), CreditLimit: credit})
		}
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Storefront < out[j].Storefront })
	return out, err
}

// AdjustBalance adds amount (negative to take) to a docking shop's balance
// for an operator: a top-up, a correction. It is written to the ledger and
// the audit log together.
func (e *Engine) AdjustBalance(actor storage.Actor, storefront string, amount money.Amount, reason string) (money.Amount, error) {
	if _, ok := e.docking[storefront]; !ok {
		return 0, ErrNotDocking
	}
	if amount == 0 || amount > money.Max || amount < -money.Max {
		return 0, inputErr(CodeInvalidAmount, "amount", "must be a non-zero amount of at most %s either way", money.Max)
	}
	if reason == "" {
		reason = "top_up"
	}
	var balance money.Amount
	err := e.commit(func(tx *storage.Tx, c *effects) error {
		var err error
		balance, err = tx.Balances().Change(&storage.LedgerEntry{Storefront: storefront, At: c.now, Amount: amount,
			Actor: actor, Reason: reason}, 0)
		if err != nil {
			return err
		}
		return tx.Audit(storage.AuditEntry{At: c.now, Actor: actor, Action: "balance.adjust", Target: storefront,
			Outcome: "ok", Detail: fmt.Sprintf("%s%s (%s), balance %s", sign(amount), abs(amount), reason, balance)})
	})
	return balance, err
}

func sign(a money.Amount) string {
	if a < 0 {
		return "-"
	}
	return "+"
}

func abs(a money.Amount) money.Amount {
	if a < 0 {
		return -a
	}
	return a
}

// ActionCancel is a docking shop taking back an order it placed.
const ActionCancel = "cancel"

// Cancel refunds an order its own docking shop takes back, only while
// nothing has been bought or taken for it: held for review, or waiting
// with no purchase in flight and no goods received. Anything later is a
// *StateError (Dujiao-Next's cancel_not_allowed); the order goes on.
func (e *Engine) Cancel(storefront string, id uint64) (*storage.Order, error) {
	actor := storage.Actor{Name: storefront, Platform: "storefront"}
	o, err := e.actWhen(actor, ActionCancel, id, "", func(o *storage.Order) bool {
		return o.Storefront == storefront && cancellable(o)
	}, func(tx *storage.Tx, c *effects, o *storage.Order) error {
		o.WaitUntil = time.Time{}
		c.move(o, storage.StatusRefunded, ReasonCanceled, actor)
		if err := c.refunded(tx, o); err != nil {
			return err
		}
		if err := tx.PutOrder(o); err != nil {
			return err
		}
		return c.callback(tx, o, CallbackRefunded)
	})
	if st := (*StateError)(nil); errors.As(err, &st) && st.Order.Storefront != storefront {
		return nil, storage.ErrNotFound // another shop's order: not this shop's to see
	}
	return o, err
}

// ReasonCanceled is the reason of an order its docking shop took back.
const ReasonCanceled = "canceled"

func cancellable(o *storage.Order) bool {
	if o.Status != storage.StatusReview && o.Status != storage.StatusPending {
		return false
	}
	for _, a := range o.Attempts {
		if !a.Archived && (a.State.InFlight() || a.State == storage.AttemptSucceeded) {
			return false
		}
	}
	return true
}

// shopCheckEvery is how often docking shops' balances are compared with
// their last day of orders.
const shopCheckEvery = time.Minute

// checkShopBalances raises shop_balance_low for a docking shop whose
// balance (with its credit) no longer covers what its orders of the last
// 24 hours took, and resolves it once it does again. A shop with no orders
// in the day is not warned.
func (e *Engine) checkShopBalances() {
	if len(e.docking) == 0 {
		return
	}
	now := e.now()
	spend := map[string]money.Amount{}
	err := e.store.ScanStats(storage.Slot(now.Add(-24*time.Hour)), storage.Slot(now), func(k storage.StatKey, v int64) {
		if k.Metric == storage.MetricShopSpend {
			spend[k.Label] += money.Amount(v)
		}
	})
	if err != nil {
		e.log.Error().Err(err).Msg("read docking shops' spend")
		return
	}
	// Read first: a minute with nothing to say writes nothing.
	changed := false
	_ = e.store.View(func(tx *storage.Tx) error {
		for shop, credit := range e.docking {
			changed = changed || e.shopLow(tx, shop, credit, spend[shop]) != tx.Alerts().Open(shopAlertKey(shop))
		}
		return nil
	})
	if !changed {
		return
	}
	err = e.commit(func(tx *storage.Tx, c *effects) error {
		for shop, credit := range e.docking {
			low, key := e.shopLow(tx, shop, credit, spend[shop]), shopAlertKey(shop)
			if low == tx.Alerts().Open(key) {
				continue
			}
			detail := fmt.Sprintf("%s / %s", tx.Balances().Get(shop), spend[shop])
			if err := c.alert(tx, storage.Alert{Key: key, Type: alert.ShopBalanceLow, Target: shop, Detail: detail, Resolved: !low}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		e.log.Error().Err(err).Msg("check docking shops' balances")
	}
}

// shopLow reports whether a shop's balance with its credit is below its
// last day's spend.
func (e *Engine) shopLow(tx *storage.Tx, shop string, credit, day money.Amount) bool {
	return day > 0 && tx.Balances().Get(shop)+credit < day
}

func shopAlertKey(shop string) string { return fmt.Sprintf("%s:%s", alert.ShopBalanceLow, shop) }
