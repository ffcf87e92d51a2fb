package rules

import (
	"errors"
	"fmt"
	"regexp"
	"sync"
	"time"

	"github.com/expr-lang/expr"
	"github.com/rs/zerolog"

	"cardflow/config"
	"cardflow/processor"
	"cardflow/storage"
)

// Engine holds the rules in force: the config file's, with the changes
// operators made from chat on top. It is the order engine's intake Screener.
type Engine struct {
	store *storage.Store
	loc   *time.Location
	now   func() time.Time
	log   zerolog.Logger

	mu      sync.RWMutex
	config  []Rule // compiled rules of the config file
	changes []storage.RuleChange
	rules   []Rule // in force: config with changes applied
}

// New builds the engine from the config file's rules and the changes stored
// in the database. A config rule that does not compile is an error.
func New(store *storage.Store, cfgRules []config.Rule, loc *time.Location, now func() time.Time, log zerolog.Logger) (*Engine, error) {
	if now == nil {
		now = time.Now
	}
	e := &Engine{store: store, loc: loc, now: now, log: log.With().Str("component", "rules").Logger()}
	compiled, errs := CompileAll(cfgRules)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	var changes []storage.RuleChange
	err := store.View(func(tx *storage.Tx) error {
		var err error
		changes, err = tx.RuleChanges()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read rule changes: %w", err)
	}
	e.config, e.changes = compiled, changes
	e.rebuild()
	return e, nil
}

// rebuild applies the chat changes to the config rules. Call with mu held
// for writing (or before the engine is shared).
func (e *Engine) rebuild() {
	rules := make([]Rule, len(e.config))
	copy(rules, e.config)
	for _, ch := range e.changes {
		r := Rule{Name: ch.Name, When: ch.When, Action: ch.Action, Off: ch.Off, By: ch.By,
			At: ch.At.In(e.loc).Format("01-02 15:04")}
		if ch.When != "" {
			prog, err := Compile(ch.When)
			if err != nil { // stored before a field was renamed, say: keep it, switched off
				e.log.Error().Err(err).Str("rule", ch.Name).Msg("stored rule does not compile; it is off")
				r.Off = true
			}
			r.prog = prog
		}
		if i := indexOf(rules, ch.Name); i >= 0 {
			if ch.When == "" { // switched off only: keep the config expression
				r.When, r.Action, r.prog = rules[i].When, rules[i].Action, rules[i].prog
			}
			rules[i] = r
		} else if r.prog != nil {
			rules = append(rules, r)
		}
	}
	e.rules = rules
}

func indexOf(rules []Rule, name string) int {
	for i, r := range rules {
		if r.Name == name {
			return i
		}
	}
	return -1
}

// Screen implements processor.Screener: it reads the buyer's history,
// records this order in it, keeps the features on the order, and lets the
// first matching rule decide.
func (e *Engine) Screen(tx *storage.Tx, o *storage.Order) (processor.Decision, error) {
	at := o.CreatedAt
	ids := storage.BuyerIdentities(o)
	f := tx.BuyerFeatures(ids, at)
	f.Hour = at.In(e.loc).Hour()
	o.Features = &f
	if err := tx.RecordBuyerOrder(ids, at, o.Amount); err != nil {
		return processor.Decision{}, err
	}
	r, ok := e.decide(envOf(o, f), o.ID)
	if !ok {
		return processor.Decision{Action: processor.DecideAllow}, nil
	}
	if err := tx.AddRuleHit(r.Name, dayOf(at, e.loc)); err != nil {
		return processor.Decision{}, err
	}
	return processor.Decision{Action: r.Action, Reason: "rule:" + r.Name}, nil
}

// decide returns the first rule in force that matches env.
func (e *Engine) decide(env Env, orderID uint64) (Rule, bool) {
	e.mu.RLock()
	rules := e.rules
	e.mu.RUnlock()
	for _, r := range rules {
		if r.Off || r.prog == nil {
			continue
		}
		out, err := expr.Run(r.prog, env)
		if err != nil { // a runtime error (say, a modulo by zero) is no match
			e.log.Warn().Err(err).Str("rule", r.Name).Uint64("order_id", orderID).Msg("rule failed to run")
			continue
		}
		if match, _ := out.(bool); match {
			return r, true
		}
	}
	return Rule{}, false
}

// Reload replaces the config file's rules (SIGHUP). If any does not compile,
// nothing changes and the error says which.
func (e *Engine) Reload(cfgRules []config.Rule) error {
	compiled, errs := CompileAll(cfgRules)
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.config = compiled
	e.rebuild()
	return nil
}

var namePattern = regexp.MustCompile(`^[a-z0-9_-]{1,32}$`)

// Errors of rule changes from chat.
var (
	ErrBadName   = errors.New("a rule name is 1-32 of a-z 0-9 _ -")
	ErrBadAction = errors.New("the action is review, refund or allow")
	ErrNoRule    = errors.New("no rule by that name")
	ErrInvalid   = errors.New("the expression does not compile")
)

// Set adds or replaces a rule from chat, after compiling it. The change is
// stored and audited in one write.
func (e *Engine) Set(actor storage.Actor, name, action, when string) error {
	if !namePattern.MatchString(name) {
		return ErrBadName
	}
	if action != config.ActionReview && action != config.ActionRefund && action != config.ActionAllow {
		return ErrBadAction
	}
	if _, err := Compile(when); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return e.change(actor, storage.RuleChange{Name: name, When: when, Action: action}, "rules.set")
}

// Off switches a rule off from chat.
func (e *Engine) Off(actor storage.Actor, name string) error {
	e.mu.RLock()
	known := indexOf(e.rules, name) >= 0
	e.mu.RUnlock()
	if !known {
		return ErrNoRule
	}
	return e.change(actor, storage.RuleChange{Name: name, Off: true}, "rules.off")
}

func (e *Engine) change(actor storage.Actor, ch storage.RuleChange, action string) error {
	ch.By, ch.At = actor.Name, e.now()
	var changes []storage.RuleChange
	err := e.store.Update(func(tx *storage.Tx) error {
		if err := tx.PutRuleChange(ch); err != nil {
			return err
		}
		var err error
		if changes, err = tx.RuleChanges(); err != nil {
			return err
		}
		detail := ch.Action + " when " + ch.When
		if ch.Off {
			detail = "off"
		}
		return tx.Audit(storage.AuditEntry{At: ch.At, Actor: actor, Action: action, Target: ch.Name, Outcome: "ok", Detail: detail})
	})
	if err != nil {
		return fmt.Errorf("store rule %s: %w", ch.Name, err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.changes = changes
	e.rebuild()
	return nil
}
