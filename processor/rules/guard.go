package rules

import (
	"fmt"
	"slices"
	"time"

	"cardflow/processor"
	"cardflow/storage"
)

// AlertRuleOff is the alert of a rule switched off because it went over its
// limits on an order, or refused at start-up because a rule stored from
// chat is over limits that came in later. Setting the rule again resolves it.
const AlertRuleOff = processor.AlertRuleOff

func alertKey(rule string) string { return AlertRuleOff + ":" + rule }

// Alerter raises alerts for the operators (the order engine does).
type Alerter interface {
	RaiseAlert(storage.Alert) error
}

// AlertTo sends the engine's alerts to a. The order engine is built after
// the rules (it screens with them), so it is wired here rather than in New.
// Stored rules refused at load are raised now.
func (e *Engine) AlertTo(a Alerter) {
	e.mu.Lock()
	e.alerts = a
	refused := make(map[string]string, len(e.refused))
	for name, why := range e.refused {
		refused[name] = why
	}
	e.mu.Unlock()
	for name, why := range refused {
		e.raise(storage.Alert{Key: alertKey(name), Type: AlertRuleOff, Target: name, Detail: why})
	}
}

func (e *Engine) raise(a storage.Alert) {
	e.mu.RLock()
	to := e.alerts
	e.mu.RUnlock()
	if to == nil {
		e.log.Warn().Str("alert", a.Key).Bool("resolved", a.Resolved).Str("detail", a.Detail).Msg("rule alert with no one to tell")
		return
	}
	if err := to.RaiseAlert(a); err != nil {
		e.log.Error().Err(err).Str("alert", a.Key).Msg("raise rule alert")
	}
}

// overran looks into a screening that went over the budget, away from the
// writer (whose transaction screens): it runs each rule that ran again on
// the same order, and switches off those that overrun again. One look at a
// time; when no rule alone was at fault, none for a minute.
func (e *Engine) overran(ran []Rule, env Env, orderID uint64) {
	if time.Since(e.epoch) < time.Duration(e.calm.Load()) || !e.checking.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer e.checking.Store(false)
		m := e.lim.newVM()
		found := false
		for _, r := range ran {
			if r.Off || r.prog == nil {
				continue
			}
			took, err := e.lim.measure(m, r.prog, &env)
			if took <= e.lim.eval && !isMemory(err) {
				continue
			}
			found = true
			e.switchOff(r, orderID, e.lim.overrun(took, err))
		}
		if !found {
			e.calm.Store(int64(time.Since(e.epoch) + time.Minute))
			e.log.Warn().Uint64("order_id", orderID).Int("rules", len(ran)).
				Msg("rules were slow on an order, but none alone is over its budget")
		}
	}()
}

// switchOff turns a rule off as an operator's /rules off would (stored,
// audited, surviving restarts and reloads), by "system", and alerts. It is
// off in memory first, so that no order waits for the write.
func (e *Engine) switchOff(r Rule, orderID uint64, why string) {
	e.mu.Lock()
	i := indexOf(e.rules, r.Name)
	if i < 0 || e.rules[i].Off || e.rules[i].When != r.When { // changed meanwhile
		e.mu.Unlock()
		return
	}
	rules := slices.Clone(e.rules)
	rules[i].Off = true
	e.rules = rules
	e.mu.Unlock()
	e.log.Error().Str("rule", r.Name).Uint64("order_id", orderID).Str("why", why).Msg("rule over its limits; switched off")
	ch, ok := e.offChange(r.Name)
	if !ok {
		return
	}
	detail := fmt.Sprintf("off: %s on order #%d", why, orderID)
	if err := e.change(storage.System, ch, "rules.off", detail); err != nil {
		e.log.Error().Err(err).Str("rule", r.Name).Msg("store switched-off rule")
	}
	e.raise(storage.Alert{Key: alertKey(r.Name), Type: AlertRuleOff, Target: r.Name, OrderID: orderID, Detail: why})
}

// offForCost says whether a rule is off because of its limits: switched off
// by the system, or stored and now refused.
func (e *Engine) offForCost(name string) bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if _, ok := e.refused[name]; ok {
		return true
	}
	for _, ch := range e.changes {
		if ch.Name == name {
			return ch.Off && ch.By == storage.System.Name
		}
	}
	return false
}
