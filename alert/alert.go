// Package alert names the kinds of alert the service raises. Each kind is
// declared here once: the raisers (processor, processor/health,
// processor/outbox, report, rules, the chat channels), the store, silences
// and the pager all use these constants. The stored value is the plain
// string, so the JSON of a stored alert does not depend on this package.
package alert

// Kind is the type of an alert, the first part of its key ("supplier_down"
// in "supplier_down:fulu").
type Kind string

// The kinds, by who raises them.
const (
	// The order engine (processor).
	OutOfStock    Kind = "out_of_stock"
	OrderFailed   Kind = "order_failed"
	Review        Kind = "review"
	DuplicateCard Kind = "duplicate_card" // said once: nothing resolves it
	LowStock      Kind = "low_stock"
	// A docking shop's balance is below what its last day of orders cost.
	ShopBalanceLow Kind = "shop_balance_low"
	// A synchronous docking shop never came back for an order: refunded,
	// its keys back in stock. Said once.
	OrderUnclaimed Kind = "order_unclaimed"
	// A buyer's after-sale claim waits for an operator's decision: the
	// prompt (one per claim), resolved when an operator resolves it.
	Claim Kind = "claim"

	// Supplier health (processor/health).
	SupplierDown      Kind = "supplier_down"
	BalanceLow        Kind = "balance_low"
	SupplierVerifying Kind = "supplier_verifying" // second verification switched on

	// The callback outbox (processor/outbox). A redirect is raised under
	// the storefront's callback_failing key, and resolved as callback_failing.
	CallbackFailing  Kind = "callback_failing"
	CallbackRedirect Kind = "callback_redirect"
	Backlog          Kind = "backlog"
	// Buyer mails (processor/outbox): the mail server failing (one alert,
	// resolved when a mail goes out again), and one mail it refused for
	// good (said once).
	MailFailing  Kind = "mail_failing"
	MailRejected Kind = "mail_rejected"

	// The reconciliation of the daily report (report).
	Reconcile Kind = "reconcile"

	// Rules (rules; config reloads by serve on SIGHUP).
	ConfigReload Kind = "config_reload"
	RuleOff      Kind = "rule_off"

	// A chat channel that set an inbound event aside (bot/qq).
	InboundParked Kind = "inbound_parked"

	// A PostgreSQL store's database did not answer for a while (processor):
	// raised, with when it was lost, once it answers again (nothing can be
	// stored before), and resolved with how long it lasted.
	StorageUnavailable Kind = "storage_unavailable"
)

// Kinds lists every kind declared above.
func Kinds() []Kind {
	return []Kind{OutOfStock, OrderFailed, Review, Claim, DuplicateCard, LowStock, ShopBalanceLow, OrderUnclaimed, SupplierDown, BalanceLow,
		SupplierVerifying, CallbackFailing, CallbackRedirect, Backlog, MailFailing, MailRejected, Reconcile, ConfigReload, RuleOff, InboundParked, StorageUnavailable}
}

// Resolves reports whether an alert of kind k is ever closed by a resolved
// alert of the same kind. A duplicate card is said once; a redirect is
// closed by its storefront's callback_failing; a refused mail is said once.
func Resolves(k Kind) bool {
	return k != DuplicateCard && k != CallbackRedirect && k != OrderUnclaimed && k != MailRejected
}
