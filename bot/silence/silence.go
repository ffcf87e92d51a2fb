// Package silence mutes alerts for a while: one alert by its key (an open
// or announced alert, or a known type and target such as
// supplier_down:fulu) for up to a week, or a whole alert type for up to a
// day. Review prompts and failed orders are work, not noise, and cannot be
// muted. Silences are stored (storage/alerts.go) and every one, done or
// refused, is audited; the notifier reads them when it announces an alert.
package silence

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"cardflow/alert"
	"cardflow/storage"
)

// Silence bounds. A silence of one alert may last a week; a silence of a
// whole type (every supplier's balance, every SKU's low stock) hides
// problems nobody has seen yet, so it lasts at most a day.
const (
	MaxSilence     = 7 * 24 * time.Hour
	MaxTypeSilence = 24 * time.Hour
)

// Silence refusals.
var (
	// ErrUnknownAlert: the key is neither an alert type nor the key of an
	// alert that exists or could (a known type and target).
	ErrUnknownAlert = errors.New("no such alert")
	// ErrNotSilenceable: review prompts and failed orders are work items,
	// not noise; they are dealt with, not muted.
	ErrNotSilenceable = errors.New("review prompts and failed orders cannot be silenced")
	// ErrSilenceTooLong: over MaxSilence, or MaxTypeSilence for a type.
	ErrSilenceTooLong = errors.New("silence too long")
)

// alertTargets is the fixed list of alert types, each with what its keys
// name after "type:": a sku, a supplier, a storefront, the outbox, or ""
// for keys that only exist once raised (an order, a day).
var alertTargets = map[alert.Kind]string{
	alert.OutOfStock:         "sku",
	alert.LowStock:           "sku",
	alert.SupplierDown:       "supplier",
	alert.BalanceLow:         "supplier",
	alert.ShopBalanceLow:     "storefront",
	alert.OrderUnclaimed:     "",
	alert.SupplierVerifying:  "supplier",
	alert.CallbackFailing:    "storefront",
	alert.Backlog:            "outbox",
	alert.MailFailing:        "mail",
	alert.MailRejected:       "",
	alert.DuplicateCard:      "",
	alert.Reconcile:          "",
	alert.ConfigReload:       "",
	alert.Review:             "",
	alert.OrderFailed:        "",
	alert.Claim:              "",
	alert.RuleOff:            "",
	alert.InboundParked:      "",
	alert.StorageUnavailable: "",
}

// MailTarget is what the mail server's alert key names: there is one
// server (mail_failing:smtp).
const MailTarget = "smtp"

// IsAlertType reports whether s names a type of alert: silencing it mutes
// every alert of the type.
func IsAlertType(s string) bool {
	_, ok := alertTargets[alert.Kind(s)]
	return ok
}

// Silenceable reports whether alerts of a type may be muted at all: review
// prompts, failed orders and after-sale claims may not.
func Silenceable(typ alert.Kind) bool {
	return typ != alert.Review && typ != alert.OrderFailed && typ != alert.Claim
}

// Known are the configured names an alert key may target.
type Known struct {
	SKUs, Suppliers, Storefronts []string
}

// Silencer stores silences.
type Silencer struct {
	store   *storage.Store
	now     func() time.Time
	targets map[string]map[string]bool // target kind → configured names
}

// New keeps the silences of store; known are the configured names a key
// may target, now the clock of silences and audit entries (time.Now when
// nil).
func New(store *storage.Store, known Known, now func() time.Time) *Silencer {
	if now == nil {
		now = time.Now
	}
	set := func(names []string) map[string]bool {
		m := make(map[string]bool, len(names))
		for _, n := range names {
			m[n] = true
		}
		return m
	}
	return &Silencer{store: store, now: now, targets: map[string]map[string]bool{
		"sku": set(known.SKUs), "supplier": set(known.Suppliers), "storefront": set(known.Storefronts),
	}}
}

// Silence mutes, for d, either one alert by its exact key (an open or
// announced alert, or a known type and target such as supplier_down:fulu)
// or a whole alert type (at most MaxTypeSilence; the caller checks that
// the actor is an admin). Anything else — a bare prefix, an unknown type or
// target, a review prompt — is refused with one of the errors above. Done
// or refused, it is audited.
func (s *Silencer) Silence(actor storage.Actor, key string, d time.Duration) (time.Time, error) {
	var until time.Time
	var refused error
	err := s.store.Update(func(tx *storage.Tx) error {
		now := s.now()
		refused = s.silenceable(tx, key, d)
		entry := storage.AuditEntry{At: now, Actor: actor, Action: "silence", Target: key, Outcome: "ok", Detail: d.String()}
		if refused != nil {
			entry.Outcome, entry.Detail = "refused", refused.Error()
			return tx.Audit(entry)
		}
		until = now.Add(d)
		if err := tx.Alerts().Silence(key, until, actor.Name); err != nil {
			return err
		}
		return tx.Audit(entry)
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("silence %s: %w", key, err)
	}
	if refused != nil {
		return time.Time{}, fmt.Errorf("silence %s: %w", key, refused)
	}
	return until, nil
}

func (s *Silencer) silenceable(tx *storage.Tx, key string, d time.Duration) error {
	typ, target, exact := strings.Cut(key, ":")
	kind, known := alertTargets[alert.Kind(typ)]
	switch {
	case !known:
		return ErrUnknownAlert
	case !Silenceable(alert.Kind(typ)):
		return ErrNotSilenceable
	case d <= 0 || d > MaxSilence || (!exact && d > MaxTypeSilence):
		return ErrSilenceTooLong
	case !exact:
		return nil
	}
	if tx.Alerts().Open(key) {
		return nil
	}
	if st, err := tx.Alerts().State(key); err != nil {
		return err
	} else if st.Alert.Type != "" {
		return nil
	}
	ok := s.targets[kind][target]
	switch kind {
	case "outbox":
		ok = target == "outbox"
	case "mail":
		ok = target == MailTarget
	}
	if !ok {
		return ErrUnknownAlert
	}
	return nil
}
