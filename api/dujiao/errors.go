package dujiao

import (
	"net/http"
	"slices"
)

// Error codes of the failure envelope {"ok":false,"error_code","error_message"}.
// A Dujiao-Next shop acts on the code; the message of a refusal it shows
// word for word in its buyer's order (fulfillment_error), so Refused's
// messages are written for buyers, in Chinese (docs/docking.md).
const (
	CodeMissingAuthHeaders = "missing_auth_headers"
	CodeInvalidTimestamp   = "invalid_timestamp"
	CodeTimestampExpired   = "timestamp_expired"
	CodeInvalidAPIKey      = "invalid_api_key"
	CodeUserDisabled       = "user_disabled"
	CodeInvalidSignature   = "invalid_signature"

	CodeBadRequest         = "bad_request"
	CodeInvalidCallbackURL = "invalid_callback_url"
	CodeProductNotFound    = "product_not_found"
	CodeOrderNotFound      = "order_not_found"
	CodeCancelNotAllowed   = "cancel_not_allowed"
	CodeInsufficientStock  = "insufficient_stock"
	CodeInternal           = "internal_error"

	// The codes below are the ones a Dujiao-Next shop does not retry when
	// they come with HTTP 200 (see NonRetryable).
	CodeInsufficientBalance = "insufficient_balance"
	CodePaymentFailed       = "payment_failed"
	CodeProductUnavailable  = "product_unavailable"
	CodeSKUUnavailable      = "sku_unavailable"
	CodeInvalidRequest      = "invalid_request"
	CodeUnauthorized        = "unauthorized"
	CodeForbidden           = "forbidden"
	CodeDuplicateOrder      = "duplicate_order"
	CodeProductOutOfStock   = "product_out_of_stock"
	CodeWebhookRejected     = "webhook_rejected"
)

// nonRetryable are the codes that, answered with HTTP 200 and ok:false,
// make a Dujiao-Next shop reject its procurement at once instead of retrying.
// Every other code, and every non-200 answer, is retried within seconds.
var nonRetryable = []string{
	CodeInsufficientBalance, CodePaymentFailed, CodeProductUnavailable, CodeSKUUnavailable,
	CodeInvalidRequest, CodeUnauthorized, CodeForbidden, CodeDuplicateOrder,
	CodeProductOutOfStock, CodeWebhookRejected,
}

// NonRetryable says whether a shop stops at a 200 ok:false answer with code.
// webhook_rejected is in the list of newer shops only; the others are in all.
func NonRetryable(code string) bool { return slices.Contains(nonRetryable, code) }

// Error is a failure as the protocol answers it: an HTTP status and the
// envelope's code and message. Messages never carry a secret, a card key or
// the body of the request.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// The authentication failures, with the statuses a genuine Dujiao-Next
// upstream answers them with.
var (
	ErrMissingAuthHeaders = &Error{http.StatusUnauthorized, CodeMissingAuthHeaders, "missing authentication headers"}
	ErrInvalidTimestamp   = &Error{http.StatusUnauthorized, CodeInvalidTimestamp, "timestamp is not unix seconds"}
	ErrTimestampExpired   = &Error{http.StatusUnauthorized, CodeTimestampExpired, "timestamp is more than 60 seconds from the server's clock"}
	ErrInvalidAPIKey      = &Error{http.StatusForbidden, CodeInvalidAPIKey, "unknown api key"}
	ErrInvalidSignature   = &Error{http.StatusUnauthorized, CodeInvalidSignature, "signature does not match"}
)

// BadRequest is a request cardflow cannot read: 400 bad_request.
func BadRequest(msg string) *Error {
	return &Error{http.StatusBadRequest, CodeBadRequest, msg}
}

// InvalidCallbackURL is a callback_url cardflow will not call: 400.
func InvalidCallbackURL(msg string) *Error {
	return &Error{http.StatusBadRequest, CodeInvalidCallbackURL, msg}
}

// The messages of the refusals a buyer may read in their order: they say
// the trouble is the shop's supply, not the buyer's payment or wallet, and
// whom to ask. The code tells the shop's owner the cause.
const (
	MsgInsufficientBalance = "上游货源余额不足，订单未能提交，请联系商家处理"
	MsgSKUUnavailable      = "上游货源没有该商品，请联系商家处理"
)

// Refused is a permanent refusal of an order: HTTP 200 with ok:false, so a
// shop gives up at once (with a non-retryable code) instead of hammering a
// refusal that cannot change. Use it with a code NonRetryable accepts.
func Refused(code, msg string) *Error {
	return &Error{http.StatusOK, code, msg}
}

// NotFound is 404 with a code: product_not_found or order_not_found.
func NotFound(code, msg string) *Error {
	return &Error{http.StatusNotFound, code, msg}
}

// ErrCancelNotAllowed is the answer to a cancel cardflow cannot honour: the
// order is delivered or on its way. A shop cancels on its side anyway and
// still applies a later delivered callback.
var ErrCancelNotAllowed = &Error{http.StatusConflict, CodeCancelNotAllowed, "the order can no longer be cancelled"}

// ErrInternal is 500: cardflow could not durably accept. The shop retries.
var ErrInternal = &Error{http.StatusInternalServerError, CodeInternal, "internal error, try again"}
