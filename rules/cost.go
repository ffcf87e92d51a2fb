package rules

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"

	"cardflow/internal/money"
)

// longestField is the longest buyer field intake accepts (processor's
// maxFieldLen); the cost check tries rules on strings this long.
const longestField = 256

// probes are the orders a rule is tried on before it is accepted: an empty
// one, and one with every string as long as intake allows and every number
// at its largest.
func probes() []Env {
	long := strings.Repeat("a", longestField)
	big := 1 << 20
	return []Env{{}, {
		Order: OrderEnv{SKU: long, Quantity: big, Amount: money.Max.Yuan(), Storefront: long, Kind: long},
		Buyer: BuyerEnv{ID: long, Contact: long, IP: long, Account: long, Orders1h: big, Orders24h: big,
			Amount24h: money.Max.Yuan(), Refunds30d: big, FirstSeenDays: big},
		Now: NowEnv{Hour: 23},
	}}
}

// probe refuses a program that takes longer than lim.eval, or more memory
// than lim.memory, on any of the probes.
func (lim limits) probe(prog *vm.Program) error {
	m := lim.newVM()
	for _, env := range probes() {
		took, err := lim.measure(m, prog, &env)
		switch {
		case isMemory(err):
			return overLimit("it needs more memory than a rule may use (%d of expr's units) on the longest order intake accepts", lim.memory)
		case took > lim.eval:
			return overLimit("it took %s on the longest order intake accepts; a rule may take at most %s", round(took), lim.eval)
		}
	}
	return nil
}

func (lim limits) newVM() *vm.VM { return &vm.VM{MemoryBudget: lim.memory} }

// measure times one evaluation. Over the budget it runs twice more and
// keeps the fastest, so that the process being paused (a GC, a busy
// machine) is not held against the rule.
func (lim limits) measure(m *vm.VM, prog *vm.Program, env *Env) (time.Duration, error) {
	best := time.Duration(-1)
	var err error
	for range 3 {
		start := time.Now()
		_, err = m.Run(prog, env)
		took := time.Since(start)
		if best < 0 || took < best {
			best = took
		}
		if best <= lim.eval || isMemory(err) {
			break
		}
	}
	return best, err
}

// isMemory is expr's "memory budget exceeded", raised inside the VM.
func isMemory(err error) bool {
	var fe *file.Error
	return errors.As(err, &fe) && strings.Contains(fe.Message, "memory budget exceeded")
}

// overrun says how an evaluation went over the limits, for the audit log and
// the alert.
func (lim limits) overrun(took time.Duration, err error) string {
	if isMemory(err) {
		return fmt.Sprintf("needed more than %d units of memory", lim.memory)
	}
	return fmt.Sprintf("took %s, limit %s", round(took), lim.eval)
}

func round(d time.Duration) time.Duration {
	switch {
	case d >= time.Millisecond:
		return d.Round(100 * time.Microsecond)
	case d >= time.Microsecond:
		return d.Round(time.Microsecond)
	}
	return d
}
