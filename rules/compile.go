package rules

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/checker"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser"
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

func (e *CompileError) Unwrap() error { return e.Err }

// Compile type-checks an expression against Env and bounds what it may
// cost: unknown fields, wrong types and a result that is not a boolean are
// errors; an expression over the limits (see limits) is a *LimitError.
// Every rule goes through here: config load and `cardflow check`, SIGHUP
// reload, /rules set, /rules test and the rules stored from chat.
func Compile(when string) (*vm.Program, error) { return defaultLimits().compile(when) }

func (lim limits) compile(when string) (*vm.Program, error) {
	if strings.TrimSpace(when) == "" {
		return nil, errors.New("the expression is empty")
	}
	if len(when) > lim.length {
		return nil, overLimit("it is %d bytes long; a rule is at most %d: split it into several rules", len(when), lim.length)
	}
	tree, err := parser.Parse(when)
	if err != nil {
		return nil, fmt.Errorf("%s", oneLine(err.Error()))
	}
	cfg := conf.New(Env{})
	cfg.Expect = reflect.Bool
	if _, err := checker.Check(tree, cfg); err != nil {
		var fe *file.Error
		if errors.As(err, &fe) {
			err = fe.Bind(tree.Source)
		}
		return nil, fmt.Errorf("%s", oneLine(err.Error()))
	}
	s := shape{lim: lim}
	if s.check(tree.Node); s.err != nil {
		return nil, s.err
	}
	opts := []expr.Option{expr.Env(Env{}), expr.AsBool(), expr.MaxNodes(uint(lim.nodes)), expr.DisableAllBuiltins()}
	for _, f := range functions {
		opts = append(opts, expr.EnableBuiltin(f))
	}
	prog, err := expr.Compile(when, opts...)
	switch {
	case err != nil && strings.Contains(err.Error(), "exceeds maximum allowed nodes"):
		return nil, overLimit("it has more than %d parts (names, values, operators); split it into several rules", lim.nodes)
	case err != nil:
		return nil, fmt.Errorf("%s", oneLine(err.Error()))
	}
	if err := lim.probe(prog); err != nil {
		return nil, err
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
func CompileAll(rs []config.Rule) ([]Rule, []error) { return defaultLimits().compileAll(rs) }

func (lim limits) compileAll(rs []config.Rule) ([]Rule, []error) {
	out := make([]Rule, 0, len(rs))
	var errs []error
	for i, r := range rs {
		prog, err := lim.compile(r.When)
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
		switch {
		case errors.As(err, &ce) && errors.Is(ce.Err, ErrOverLimit):
			ps = append(ps, cfg.ProblemAt(fmt.Sprintf("rules[%d].when", ce.Index), "rule %q is over its limits: %v", ce.Name, ce.Err))
		case errors.As(err, &ce):
			ps = append(ps, cfg.ProblemAt(fmt.Sprintf("rules[%d].when", ce.Index),
				"rule %q does not compile: %v; fields are order.*, buyer.* and now.hour (see config.toml.example)", ce.Name, ce.Err))
		}
	}
	return ps
}
