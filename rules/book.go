package rules

import (
	"errors"
	"fmt"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/expr-lang/expr/vm"
	"github.com/rs/zerolog"

	"cardflow/alert"
	"cardflow/config"
	"cardflow/storage"
)

// Book holds the rules in force: the config file's, with the changes
// operators made from chat on top. It is the order engine's intake screener
// (processor.Screener).
type Book struct {
	store *storage.Store
	loc   *time.Location
	now   func() time.Time
	log   zerolog.Logger
	lim   limits

	// vms are reused expr VMs (a fresh one allocates its stack on every
	// run). epoch is a monotonic origin: time.Since(epoch) reads one clock,
	// half of what time.Now costs on the screening path.
	vms   sync.Pool
	epoch time.Time

	// changing serialises changes of the rules (chat, reload, switch-off)
	// from their read of the store to the swap of the rules in force; mu
	// guards the fields below it, and is held only for the swap, so that
	// screening never waits for rules to compile.
	changing sync.Mutex
	mu       sync.RWMutex
	config   []Rule // compiled rules of the config file
	changes  []storage.RuleChange
	rules    []Rule            // in force: config with changes applied
	refused  map[string]string // stored rules now over the limits: name → why
	alerts   Alerter

	checking atomic.Bool  // an overrun is being looked into
	calm     atomic.Int64 // no overrun is looked into before this (since epoch)
	testing  atomic.Bool  // a /rules test is running
}

// New builds the book from the config file's rules and the changes stored
// in the database. A config rule that does not compile, or is over the
// limits, is an error. loc is the shop's time zone ([report] timezone): of
// now.hour, of the days rule hits are counted on, and of the times /rules
// shows.
func New(store *storage.Store, cfgRules []config.Rule, loc *time.Location, now func() time.Time, log zerolog.Logger) (*Book, error) {
	return newWithLimits(store, cfgRules, loc, now, log, defaultLimits())
}

func newWithLimits(store *storage.Store, cfgRules []config.Rule, loc *time.Location, now func() time.Time, log zerolog.Logger, lim limits) (*Book, error) {
	if now == nil {
		now = time.Now
	}
	b := &Book{store: store, loc: loc, now: now, log: log.With().Str("component", "rules").Logger(), lim: lim, epoch: time.Now()}
	b.vms.New = func() any { return lim.newVM() }
	compiled, errs := lim.compileAll(cfgRules)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	var changes []storage.RuleChange
	err := store.View(func(tx *storage.Tx) error {
		var err error
		changes, err = tx.Rules().Changes()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read rule changes: %w", err)
	}
	b.apply(compiled, changes)
	return b, nil
}

// apply puts config with the chat changes on top in force. It compiles the
// stored rules before it takes mu. Call with changing held (or before the
// book is shared).
func (b *Book) apply(config []Rule, changes []storage.RuleChange) {
	rules, refused := b.build(config, changes)
	b.mu.Lock()
	b.config, b.changes, b.rules, b.refused = config, changes, rules, refused
	b.mu.Unlock()
}

// build applies the chat changes to the config rules.
func (b *Book) build(config []Rule, changes []storage.RuleChange) ([]Rule, map[string]string) {
	rules := make([]Rule, len(config))
	copy(rules, config)
	refused := map[string]string{}
	for _, ch := range changes {
		r := Rule{Name: ch.Name, When: ch.When, Action: ch.Action, Off: ch.Off, By: ch.By,
			At: ch.At.In(b.loc).Format("01-02 15:04")}
		if ch.When != "" {
			prog, err := b.lim.compile(ch.When)
			if err != nil { // stored before a field was renamed or a limit came in: keep it, switched off
				b.log.Error().Err(err).Str("rule", ch.Name).Msg("stored rule does not compile or is over its limits; it is off")
				r.Off = true
				if errors.Is(err, ErrOverLimit) && !ch.Off {
					refused[ch.Name] = err.Error()
				}
			}
			r.prog = prog
		}
		if i := indexOf(rules, ch.Name); i >= 0 {
			if ch.When == "" { // switched off only: keep the config expression
				r.When, r.Action, r.prog = rules[i].When, rules[i].Action, rules[i].prog
			}
			rules[i] = r
		} else if ch.When != "" { // set from chat: listed even when refused, switched off
			rules = append(rules, r)
		}
	}
	return rules, refused
}

func indexOf(rules []Rule, name string) int {
	for i, r := range rules {
		if r.Name == name {
			return i
		}
	}
	return -1
}

// Decision is the verdict on a new order: the action of the first rule
// that matched (config.ActionReview, ActionRefund or ActionAllow) and a
// Reason naming it, "rule:large-order". An order no rule matches is
// allowed, with no reason.
type Decision struct {
	Action string
	Reason string
}

// Screen is the order engine's intake screening: it reads the buyer's history,
// records this order in it, keeps the features on the order, and lets the
// first matching rule decide.
func (b *Book) Screen(tx *storage.Tx, o *storage.Order) (Decision, error) {
	at := o.CreatedAt
	ids := storage.BuyerIdentities(o)
	f := tx.BuyerFeatures(ids, at)
	f.Hour = at.In(b.loc).Hour()
	o.Features = &f
	if err := tx.RecordBuyerOrder(ids, at, o.Amount); err != nil {
		return Decision{}, err
	}
	r, ok := b.decide(envOf(o, f), o.ID)
	if !ok {
		return Decision{Action: config.ActionAllow}, nil
	}
	if err := tx.Rules().AddHit(r.Name, dayOf(at, b.loc)); err != nil {
		return Decision{}, err
	}
	return Decision{Action: r.Action, Reason: "rule:" + r.Name}, nil
}

// decide returns the first rule in force that matches env. It times the
// rules together (two clock reads per order, whatever the number of rules);
// over the budget, overran finds and switches off the rule at fault.
func (b *Book) decide(env Env, orderID uint64) (Rule, bool) {
	b.mu.RLock()
	rules := b.rules
	b.mu.RUnlock()
	m := b.vms.Get().(*vm.VM)
	start := time.Since(b.epoch)
	hit, ran, memory := -1, len(rules), false
	for i, r := range rules {
		if r.Off || r.prog == nil {
			continue
		}
		out, err := m.Run(r.prog, &env)
		if err != nil { // a runtime error (say, a modulo by zero) is no match
			memory = memory || isMemory(err)
			b.log.Warn().Err(err).Str("rule", r.Name).Uint64("order_id", orderID).Msg("rule failed to run")
			continue
		}
		if match, _ := out.(bool); match {
			hit, ran = i, i+1
			break
		}
	}
	took := time.Since(b.epoch) - start
	b.vms.Put(m)
	if took > b.lim.eval || memory {
		b.overran(rules[:ran], env, orderID)
	}
	if hit < 0 {
		return Rule{}, false
	}
	return rules[hit], true
}

// Reload replaces the config file's rules (SIGHUP). If any does not compile
// or is over the limits, nothing changes and the error says which.
func (b *Book) Reload(cfgRules []config.Rule) error {
	compiled, errs := b.lim.compileAll(cfgRules)
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	b.changing.Lock()
	defer b.changing.Unlock()
	b.apply(compiled, b.changes)
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
func (b *Book) Set(actor storage.Actor, name, action, when string) error {
	if !namePattern.MatchString(name) {
		return ErrBadName
	}
	if action != config.ActionReview && action != config.ActionRefund && action != config.ActionAllow {
		return ErrBadAction
	}
	if _, err := b.lim.compile(when); err != nil {
		if errors.Is(err, ErrOverLimit) {
			return fmt.Errorf("rule %s is over its limits: %w", name, err)
		}
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	wasOff := b.offForCost(name)
	err := b.change(actor, storage.RuleChange{Name: name, When: when, Action: action}, "rules.set", action+" when "+when)
	if err == nil && wasOff {
		b.raise(storage.Alert{Key: alertKey(name), Type: alert.RuleOff, Target: name, Resolved: true})
	}
	return err
}

// Off switches a rule off from chat.
func (b *Book) Off(actor storage.Actor, name string) error {
	ch, ok := b.offChange(name)
	if !ok {
		return ErrNoRule
	}
	return b.change(actor, ch, "rules.off", "off")
}

// offChange is the stored change that switches a rule off. A rule of the
// config file keeps its expression there (a reload may change it); one set
// from chat keeps it in the change, so that it is listed and can be set again.
func (b *Book) offChange(name string) (storage.RuleChange, bool) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	i := indexOf(b.rules, name)
	if i < 0 {
		return storage.RuleChange{}, false
	}
	ch := storage.RuleChange{Name: name, Off: true}
	if indexOf(b.config, name) < 0 {
		ch.When, ch.Action = b.rules[i].When, b.rules[i].Action
	}
	return ch, true
}

// change stores a rule change and its audit entry in one write, then puts
// the rules in force in step.
func (b *Book) change(actor storage.Actor, ch storage.RuleChange, action, detail string) error {
	b.changing.Lock()
	defer b.changing.Unlock()
	ch.By, ch.At = actor.Name, b.now()
	var changes []storage.RuleChange
	err := b.store.Update(func(tx *storage.Tx) error {
		if err := tx.Rules().PutChange(ch); err != nil {
			return err
		}
		var err error
		if changes, err = tx.Rules().Changes(); err != nil {
			return err
		}
		return tx.Audit(storage.AuditEntry{At: ch.At, Actor: actor, Action: action, Target: ch.Name, Outcome: "ok", Detail: detail})
	})
	if err != nil {
		return fmt.Errorf("store rule %s: %w", ch.Name, err)
	}
	b.apply(b.config, changes)
	return nil
}
