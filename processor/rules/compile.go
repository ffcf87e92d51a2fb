package rules

import (
	"errors"
	"fmt"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"

	"cardflow/config"
)

// Rule is one compiled rule with where it came from.
type Rule struct {
	Name   string
	When   string
	Action string
	Off    bool   // switched off from chat
	By     string // who last changed it from chat; "" for the config file's
	At     string // when, for display
	prog   *vm.Program
}

// CompileError is a rule that does not compile, by its index in the list.
type CompileError struct {
	Index int
	Name  string
	Err   error
}

func (e *CompileError) Error() string { return fmt.Sprintf("rule %q: %v", e.Name, e.Err) }

// Compile type-checks an expression against Env: unknown fields, wrong
// types and a result that is not a boolean are errors.
func Compile(when string) (*vm.Program, error) {
	if strings.TrimSpace(when) == "" {
		return nil, errors.New("the expression is empty")
	}
	prog, err := expr.Compile(when, expr.Env(Env{}), expr.AsBool())
	if err != nil {
		return nil, fmt.Errorf("%s", oneLine(err.Error()))
	}
	return prog, nil
}

// oneLine keeps expr's message and position but drops its ASCII-art caret
// lines, which do not survive a chat message or a log line.
func oneLine(msg string) string {
	msg = strings.NewReplacer("type rules.OrderEnv", "order", "type rules.BuyerEnv", "buyer",
		"type rules.NowEnv", "now", "type rules.Env", "the rule").Replace(msg)
	first, rest, _ := strings.Cut(msg, "\n")
	if i := strings.LastIndex(rest, "("); i >= 0 && strings.HasSuffix(rest, ")") {
		return first + " " + rest[i:]
	}
	return first
}

// CompileAll compiles config rules, returning every one that fails.
func CompileAll(rs []config.Rule) ([]Rule, []error) {
	out := make([]Rule, 0, len(rs))
	var errs []error
	for i, r := range rs {
		prog, err := Compile(r.When)
		if err != nil {
			errs = append(errs, &CompileError{Index: i, Name: r.Name, Err: err})
			continue
		}
		out = append(out, Rule{Name: r.Name, When: r.When, Action: r.Action, prog: prog})
	}
	return out, errs
}

// Problems turns compile errors into config problems placed on the rule's
// line, for `cardflow check` and start-up.
func Problems(cfg *config.Config, errs []error) config.Problems {
	var ps config.Problems
	for _, err := range errs {
		var ce *CompileError
		if errors.As(err, &ce) {
			ps = append(ps, cfg.ProblemAt(fmt.Sprintf("rules[%d].when", ce.Index),
				"rule %q does not compile: %v; fields are order.*, buyer.* and now.hour (see config.toml.example)", ce.Name, ce.Err))
		}
	}
	return ps
}
