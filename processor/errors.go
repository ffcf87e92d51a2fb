package processor

import (
	"errors"
	"fmt"
	"time"

	"cardflow/storage"
)

// Sentinels the edges (API, chat) map to their own answers.
var (
	ErrNotFound = storage.ErrNotFound
	// ErrConflict: the external id is taken by an order with a different body.
	ErrConflict = errors.New("external_id already used with a different request")
	// ErrStopped: the engine is shutting down and takes no new work.
	ErrStopped = errors.New("engine is stopping")
)

// Input error codes, as the storefront API names them.
const (
	CodeInvalidRequest  = "invalid_request"
	CodeUnknownSKU      = "unknown_sku"
	CodeInvalidQuantity = "invalid_quantity"
	CodeInvalidAmount   = "invalid_amount"
	CodeAccountRequired = "account_required"
	// CodeNotDocked: a docking shop asked for a product not offered to
	// docking shops (it has no id and price).
	CodeNotDocked = "product_unavailable"
)

// ErrInsufficientBalance: a docking shop's balance (with its credit) does
// not cover the order; nothing was stored or charged.
var ErrInsufficientBalance = storage.ErrInsufficientBalance

// InputError is a request the engine refuses before storing anything.
type InputError struct {
	Code  string
	Field string
	Msg   string
}

func (e *InputError) Error() string { return e.Field + ": " + e.Msg }

func inputErr(code, field, format string, args ...any) error {
	return &InputError{Code: code, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// StateError is an operator action that does not fit the order's state: a
// second press of a stale button, or approve and refund racing. It carries the
// order and the transition that got there first, so the edge can say
// "already approved by alice at 03:12".
type StateError struct {
	Action string
	Order  *storage.Order
	Last   storage.Transition
}

func (e *StateError) Error() string {
	msg := fmt.Sprintf("cannot %s order %d: it is %s", e.Action, e.Order.ID, e.Order.Status)
	if e.Last.Actor.Name != "" {
		msg += fmt.Sprintf(" (%s by %s at %s)", pastTense[ActionOf(e.Last)], e.Last.Actor.Name, e.Last.At.UTC().Format(time.RFC3339))
	}
	return msg
}

var pastTense = map[string]string{
	"hold": "held for review", "deliver": "delivered", "fail": "failed", ActionRefund: "refunded", "process": "sent to a supplier",
	ActionApprove: "approved", ActionRetry: "retried", ActionReissue: "reissued", "accept": "accepted", "wait": "set waiting",
}

// ActionOf names what a transition was, as a person would say it: "approve"
// for review → pending, "retry" for failed → pending, and so on. Operators
// read it in "already approved by alice at 03:12".
func ActionOf(t storage.Transition) string {
	switch t.To {
	case storage.StatusReview:
		return "hold"
	case storage.StatusDelivered:
		return "deliver"
	case storage.StatusFailed:
		return "fail"
	case storage.StatusRefunded:
		return ActionRefund
	case storage.StatusProcessing:
		return "process"
	case storage.StatusPending:
		switch t.From {
		case storage.StatusReview:
			return ActionApprove
		case storage.StatusFailed:
			return ActionRetry
		case storage.StatusDelivered:
			return ActionReissue
		case "":
			return "accept"
		}
		return "wait"
	}
	return string(t.To)
}
