package rules

import (
	"errors"
	"fmt"
	"reflect"
	"regexp/syntax"
	"slices"
	"strings"
	"time"

	"github.com/expr-lang/expr/ast"
)

// limits bound what one rule may cost. Rules run inside the writer's
// transaction for every new order, and /rules test runs one over thousands
// of stored orders, so a rule that could take unbounded time or memory
// would stall intake or exhaust the process.
type limits struct {
	length int // bytes of an expression
	nodes  int // syntax nodes of an expression
	regex  int // compiled instructions of all the patterns of an expression
	span   int // values a range a..b may span
	// memory is expr's VM budget per evaluation, in its units: array
	// elements, map entries, range values.
	memory uint
	eval   time.Duration // one rule on one order

	testOrders int           // newest orders one /rules test tries
	testChunk  int           // orders read per read transaction of a test
	testTime   time.Duration // one /rules test in all
}

// defaultLimits are the limits in force. The README's Rules section and
// config.toml.example state them; keep the three in step.
func defaultLimits() limits {
	return limits{
		length: 1024, nodes: 256, regex: 500, span: 1000, memory: 10_000, eval: time.Millisecond,
		testOrders: 20_000, testChunk: 500, testTime: 10 * time.Second,
	}
}

// ErrOverLimit is a rule that could cost more than a rule may: it compiles,
// but is refused.
var ErrOverLimit = errors.New("the rule is over its limits")

// LimitError says which limit an expression is over and how to stay within
// it. It matches ErrOverLimit.
type LimitError struct{ Reason string }

func (e *LimitError) Error() string { return e.Reason }

// Unwrap makes errors.Is(err, ErrOverLimit) hold.
func (e *LimitError) Unwrap() error { return ErrOverLimit }

func overLimit(format string, args ...any) error {
	return &LimitError{Reason: fmt.Sprintf(format, args...)}
}

// functions are the builtins a rule may call. Each takes time linear in its
// arguments and returns nothing larger than them, and a rule's arguments are
// order fields (intake caps them at 256 bytes) or constants written in the
// rule. Every other builtin is refused: repeat, replace and join build
// strings of any size, the loops (all, any, map, filter, reduce, ...) run
// once per element, fromJSON builds structures, now and date are not the
// shop's clock.
var functions = []string{
	"len", "lower", "upper", "trim", "trimPrefix", "trimSuffix", "hasPrefix", "hasSuffix",
	"indexOf", "lastIndexOf", "abs", "ceil", "floor", "round", "int", "float", "max", "min",
}

// operators are the binary operators a rule may use. "matches", "in" and
// ".." have further conditions (see shape.binary).
var operators = []string{
	"+", "-", "*", "/", "%", "**", "^", "==", "!=", "<", ">", "<=", ">=", "and", "&&", "or", "||",
	"in", "matches", "contains", "startsWith", "endsWith", "??",
}

// shape checks an expression's syntax tree (typed by the checker) against
// the limits: an allow-list of node kinds, functions and operators, no
// pattern built at run time, small constant ranges, no string growing with
// the number of its parts.
type shape struct {
	lim   limits
	nodes int
	regex int
	err   error
}

func (s *shape) fail(format string, args ...any) {
	if s.err == nil {
		s.err = overLimit(format, args...)
	}
}

func (s *shape) check(node ast.Node) {
	if s.err != nil || node == nil {
		return
	}
	if s.nodes++; s.nodes > s.lim.nodes {
		s.fail("it has more than %d parts (names, values, operators); split it into several rules", s.lim.nodes)
		return
	}
	switch n := node.(type) {
	case *ast.NilNode, *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.StringNode:
	case *ast.IdentifierNode:
		if strings.HasPrefix(n.Value, "$") {
			s.fail("%s is not available in a rule; use order.*, buyer.* and now.hour", n.Value)
		}
	case *ast.MemberNode:
		s.check(n.Node)
		s.check(n.Property)
	case *ast.ChainNode:
		s.check(n.Node)
	case *ast.SliceNode:
		s.check(n.Node)
		s.check(n.From)
		s.check(n.To)
	case *ast.UnaryNode:
		s.check(n.Node)
	case *ast.ConditionalNode:
		s.check(n.Cond)
		s.check(n.Exp1)
		s.check(n.Exp2)
	case *ast.ArrayNode:
		for _, e := range n.Nodes {
			s.check(e)
		}
	case *ast.BinaryNode:
		s.binary(n)
	case *ast.BuiltinNode:
		if !slices.Contains(functions, n.Name) {
			s.fail("%s() is not available in a rule (its cost grows with its input; for a list of values use in [...], for alternatives ||); a rule may call %s",
				n.Name, strings.Join(functions, ", "))
			return
		}
		for _, a := range n.Arguments {
			s.check(a)
		}
	case *ast.VariableDeclaratorNode, *ast.SequenceNode:
		s.fail("let and ; are not available in a rule; write one expression")
	default:
		s.fail("%q is not available in a rule", node.String())
	}
}

func (s *shape) binary(n *ast.BinaryNode) {
	switch {
	case n.Operator == "..":
		s.fail("a range is only allowed after in, like now.hour in 0..5")
	case !slices.Contains(operators, n.Operator):
		s.fail("the operator %s is not available in a rule", n.Operator)
	case n.Operator == "matches":
		s.check(n.Left)
		s.pattern(n.Right)
	case n.Operator == "in" && isRange(n.Right):
		s.check(n.Left)
		s.rangeOf(n.Right.(*ast.BinaryNode))
	case n.Operator == "+" && n.Type().Kind() == reflect.String:
		s.fail("joining strings with + is not available in a rule; compare each field on its own")
	default:
		s.check(n.Left)
		s.check(n.Right)
	}
}

// pattern allows only a pattern written in the rule, compiled once with the
// rule, and bounds the instructions of all of them: matching costs up to
// the input's length times the pattern's instructions.
func (s *shape) pattern(node ast.Node) {
	p, ok := node.(*ast.StringNode)
	if !ok {
		s.fail(`matches needs a constant pattern in quotes, like buyer.contact matches "^[0-9]+@qq\\.com$"`)
		return
	}
	s.nodes++
	re, err := syntax.Parse(p.Value, syntax.Perl)
	if err != nil {
		return // expr reports the bad pattern with its position
	}
	prog, err := syntax.Compile(re.Simplify())
	if err != nil {
		return
	}
	if s.regex += len(prog.Inst); s.regex > s.lim.regex {
		s.fail("its patterns compile to %d regular-expression steps; a rule may have at most %d: shorten the pattern, drop counted repeats like {1,400}, or split the rule",
			s.regex, s.lim.regex)
	}
}

func isRange(node ast.Node) bool {
	b, ok := node.(*ast.BinaryNode)
	return ok && b.Operator == ".."
}

// rangeOf allows a..b of whole numbers written in the rule, spanning at
// most lim.span values (the VM builds the list when the left side is not
// a whole number).
func (s *shape) rangeOf(r *ast.BinaryNode) {
	s.nodes += 3
	from, ok1 := constInt(r.Left)
	to, ok2 := constInt(r.Right)
	if !ok1 || !ok2 {
		s.fail("a range needs whole numbers written in the rule, like now.hour in 0..5")
		return
	}
	if n := to - from + 1; n > s.lim.span {
		s.fail("the range %d..%d spans %d values; a range may span at most %d: compare with >= and <= instead", from, to, n, s.lim.span)
	}
}

func constInt(node ast.Node) (int, bool) {
	switch n := node.(type) {
	case *ast.IntegerNode:
		return n.Value, true
	case *ast.UnaryNode:
		if v, ok := constInt(n.Node); ok && n.Operator == "-" {
			return -v, true
		}
	}
	return 0, false
}
