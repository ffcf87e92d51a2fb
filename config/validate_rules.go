package config

import (
	"fmt"
	"regexp"
)

var ruleNamePattern = regexp.MustCompile(`^[a-z0-9_-]{1,32}$`)

// rules checks [[rules]] as far as this package can: names, actions and
// that there is an expression. Whether the expression compiles and stays
// within a rule's limits is checked by the rules engine at load, in the one
// check every way in shares (cmd/cardflow reports it through ProblemAt).
func (v *validator) rules() {
	names := map[string]int{}
	for i, r := range v.c.Rules {
		key := fmt.Sprintf("rules[%d]", i)
		switch j, dup := names[r.Name]; {
		case !ruleNamePattern.MatchString(r.Name):
			v.add(key+".name", "%q must be 1 to 32 lowercase letters, digits, '_' or '-', like name = \"large-order\"", r.Name)
		case dup:
			v.add(key+".name", "%q is already the name of rules[%d]; give every rule its own name", r.Name, j)
		default:
			names[r.Name] = i
		}
		if r.When == "" {
			v.add(key+".when", `must be set: an expression such as when = "order.amount > 500"`)
		}
		v.oneOf(key+".action", r.Action, ActionReview, ActionRefund, ActionAllow)
	}
}

// operators checks [[operators]].
func (v *validator) operators() {
	names, telegram := map[string]int{}, map[int64]int{}
	for i, o := range v.c.Operators {
		key := fmt.Sprintf("operators[%d]", i)
		switch j, dup := names[o.Name]; {
		case !ruleNamePattern.MatchString(o.Name):
			v.add(key+".name", "%q must be 1 to 32 lowercase letters, digits, '_' or '-', like name = \"alice\"", o.Name)
		case dup:
			v.add(key+".name", "%q is already the name of operators[%d]", o.Name, j)
		default:
			names[o.Name] = i
		}
		v.oneOf(key+".role", o.Role, RoleViewer, RoleOperator, RoleAdmin)
		if o.TelegramID != 0 {
			if j, dup := telegram[o.TelegramID]; dup {
				v.add(key+".telegram_id", "%d is already the telegram_id of operators[%d]", o.TelegramID, j)
			}
			telegram[o.TelegramID] = i
			if o.TelegramID < 0 {
				v.add(key+".telegram_id", "%d is a group id; use the person's user id (a positive number, e.g. from @userinfobot)", o.TelegramID)
			}
		}
	}
}
