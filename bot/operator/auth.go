package operator

import (
	"strconv"

	"cardflow/bot/chat"
	"cardflow/config"
)

// Operators is the operator list of the config, looked up by platform id.
// Display names are never trusted: only the platform's user id.
type Operators struct {
	telegram map[string]Operator
}

// NewOperators indexes the configured operators.
func NewOperators(ops []config.Operator) *Operators {
	o := &Operators{telegram: map[string]Operator{}}
	for _, op := range ops {
		if op.TelegramID > 0 {
			o.telegram[strconv.FormatInt(op.TelegramID, 10)] = Operator{Name: op.Name, Role: roleOf(op.Role)}
		}
	}
	return o
}

// Operator implements Authorizer.
func (o *Operators) Operator(id chat.Identity) (Operator, bool) {
	if id.Platform == "telegram" {
		op, ok := o.telegram[id.UserID]
		return op, ok
	}
	return Operator{}, false
}

func roleOf(r string) Role {
	switch r {
	case config.RoleAdmin:
		return RoleAdmin
	case config.RoleOperator:
		return RoleOperator
	case config.RoleViewer:
		return RoleViewer
	}
	return 0
}

// AnyOf asks each authorizer in turn: the console's local admin, the
// config's operators, QQ's bound identities.
type AnyOf []Authorizer

// Operator implements Authorizer.
func (a AnyOf) Operator(id chat.Identity) (Operator, bool) {
	for _, auth := range a {
		if op, ok := auth.Operator(id); ok {
			return op, true
		}
	}
	return Operator{}, false
}
