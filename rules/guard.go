package rules

import (
	"fmt"
	"slices"
	"time"

	"cardflow/alert"
	"cardflow/storage"
)

func alertKey(rule string) string { return string(alert.RuleOff) + ":" + rule }

// Alerter raises alerts for the operators (the order engine does).
type Alerter interface {
	RaiseAlert(storage.Alert) error
}

// AlertTo sends the book's alerts to a. The order engine is built after
// the rules (it screens with them), so it is wired here rather than in New.
// Stored rules refused at load are raised now.
func (b *Book) AlertTo(a Alerter) {
	b.mu.Lock()
	b.alerts = a
	refused := make(map[string]string, len(b.refused))
	for name, why := range b.refused {
		refused[name] = why
	}
	b.mu.Unlock()
	for name, why := range refused {
		b.raise(storage.Alert{Key: alertKey(name), Type: alert.RuleOff, Target: name, Detail: why})
	}
}

func (b *Book) raise(a storage.Alert) {
	b.mu.RLock()
	to := b.alerts
	b.mu.RUnlock()
	if to == nil {
		b.log.Warn().Str("alert", a.Key).Bool("resolved", a.Resolved).Str("detail", a.Detail).Msg("rule alert with no one to tell")
		return
	}
	if err := to.RaiseAlert(a); err != nil {
		b.log.Error().Err(err).Str("alert", a.Key).Msg("raise rule alert")
	}
}

// overran looks into a screening that went over the budget, away from the
// writer (whose transaction screens): it runs each rule that ran again on
// the same order, and switches off those that overrun again. One look at a
// time; when no rule alone was at fault, none for a minute.
func (b *Book) overran(ran []Rule, env Env, orderID uint64) {
	if time.Since(b.epoch) < time.Duration(b.calm.Load()) || !b.checking.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer b.checking.Store(false)
		m := b.lim.newVM()
		found := false
		for _, r := range ran {
			if r.Off || r.prog == nil {
				continue
			}
			took, err := b.lim.measure(m, r.prog, &env)
			if took <= b.lim.eval && !isMemory(err) {
				continue
			}
			found = true
			b.switchOff(r, orderID, b.lim.overrun(took, err))
		}
		if !found {
			b.calm.Store(int64(time.Since(b.epoch) + time.Minute))
			b.log.Warn().Uint64("order_id", orderID).Int("rules", len(ran)).
				Msg("rules were slow on an order, but none alone is over its budget")
		}
	}()
}

// switchOff turns a rule off as an operator's /rules off would (stored,
// audited, surviving restarts and reloads), by "system", and alerts. It is
// off in memory first, so that no order waits for the write.
func (b *Book) switchOff(r Rule, orderID uint64, why string) {
	b.mu.Lock()
	i := indexOf(b.rules, r.Name)
	if i < 0 || b.rules[i].Off || b.rules[i].When != r.When { // changed meanwhile
		b.mu.Unlock()
		return
	}
	rules := slices.Clone(b.rules)
	rules[i].Off = true
	b.rules = rules
	b.mu.Unlock()
	b.log.Error().Str("rule", r.Name).Uint64("order_id", orderID).Str("why", why).Msg("rule over its limits; switched off")
	ch, ok := b.offChange(r.Name)
	if !ok {
		return
	}
	detail := fmt.Sprintf("off: %s on order #%d", why, orderID)
	if err := b.change(storage.System, ch, "rules.off", detail); err != nil {
		b.log.Error().Err(err).Str("rule", r.Name).Msg("store switched-off rule")
	}
	b.raise(storage.Alert{Key: alertKey(r.Name), Type: alert.RuleOff, Target: r.Name, OrderID: orderID, Detail: why})
}

// offForCost says whether a rule is off because of its limits: switched off
// by the system, or stored and now refused.
func (b *Book) offForCost(name string) bool {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if _, ok := b.refused[name]; ok {
		return true
	}
	for _, ch := range b.changes {
		if ch.Name == name {
			return ch.Off && ch.By == storage.System.Name
		}
	}
	return false
}
