package processor

import (
	"bytes"
	"crypto/sha256"

	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"cardflow/alert"
	"cardflow/config"
	"cardflow/internal/jsonenc"
	"cardflow/internal/money"
	"cardflow/report"
	"cardflow/rules"
	"cardflow/storage"
)

// Screener looks at a new order inside its intake transaction (so it can read
// buyer history consistently) and decides whether it goes straight to
// fulfilment, waits for a person, or is refused: the rules
// (rules.Book) do.
type Screener interface {
	Screen(tx *storage.Tx, o *storage.Order) (rules.Decision, error)
}

// Request is a paid order as a storefront submits it.
type Request struct {
	Storefront string
	ExternalID string
	SKU        string
	Quantity   int
	Amount     money.Amount
	Buyer      storage.Buyer
	Account    string
	Extra      map[string]string
}

var externalIDRe = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)

// Limits on free-text fields, so one order cannot bloat the store.
const (
	maxFieldLen = 256
	maxExtra    = 16
)

// validate checks the request against the catalogue. It returns an
// *InputError naming the field.
func (e *Engine) validate(r *Request) (config.Product, error) {
	if !externalIDRe.MatchString(r.ExternalID) {
		return config.Product{}, inputErr(CodeInvalidRequest, "external_id", "must be 1-64 characters of A-Z a-z 0-9 . _ : -")
	}
	p, ok := e.products[r.SKU]
	if !ok {
		return p, inputErr(CodeUnknownSKU, "sku", "unknown sku %q", r.SKU)
	}
	if r.Quantity < 1 || r.Quantity > p.MaxQuantity {
		return p, inputErr(CodeInvalidQuantity, "quantity", "must be between 1 and %d for %s", p.MaxQuantity, p.SKU)
	}
	if _, docking := e.docking[r.Storefront]; docking {
		if !p.Docked() {
			return p, inputErr(CodeNotDocked, "sku", "%s is not offered to docking shops", p.SKU)
		}
		// A docking shop pays the wholesale price, whatever it charged its
		// buyer: the order's amount is what its balance is charged.
		r.Amount = p.Price * money.Amount(r.Quantity)
	}
	if r.Amount < 0 || r.Amount > money.Max {
		return p, inputErr(CodeInvalidAmount, "amount", "must be between 0.00 and %s", money.Max)
	}
	if p.Kind == config.KindDirect && r.Account == "" {
		return p, inputErr(CodeAccountRequired, "account", "is required for direct top-up product %s", p.SKU)
	}
	for field, v := range map[string]string{
		"account": r.Account, "buyer.id": r.Buyer.ID, "buyer.contact": r.Buyer.Contact, "buyer.ip": r.Buyer.IP,
	} {
		if len(v) > maxFieldLen {
			return p, inputErr(CodeInvalidRequest, field, "is longer than %d bytes", maxFieldLen)
		}
	}
	if len(r.Extra) > maxExtra {
		return p, inputErr(CodeInvalidRequest, "extra", "has more than %d entries", maxExtra)
	}
	for k, v := range r.Extra {
		if len(k) > 64 || len(v) > maxFieldLen {
			return p, inputErr(CodeInvalidRequest, "extra", "keys are at most 64 bytes and values %d", maxFieldLen)
		}
	}
	return p, nil
}

// hash identifies a request's content, so a retried submit can be told from a
// different order reusing the external id. It is computed over the parsed
// fields, so whitespace or key order in the storefront's JSON do not matter.
//
// The hashed bytes are those json.Encoder wrote for
// [storefront, external_id, sku, quantity, amount, buyer id, contact, ip,
// account, [[key, value], ...] sorted by key] followed by a newline, which
// is what stored orders were hashed over; they are appended by hand here
// (the encoder was a large share of intake's CPU; docs/performance.md), and
// TestRequestHashIsTheEncodersBytes holds them to the encoder.
func (r *Request) hash() []byte {
	keys := make([]string, 0, len(r.Extra))
	for k := range r.Extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b := make([]byte, 0, 256)
	b = append(b, '[')
	for i, s := range []string{r.Storefront, r.ExternalID, r.SKU} {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonenc.AppendString(b, s)
	}
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(r.Quantity), 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(r.Amount), 10)
	for _, s := range []string{r.Buyer.ID, r.Buyer.Contact, r.Buyer.IP, r.Account} {
		b = jsonenc.AppendString(append(b, ','), s)
	}
	b = append(b, ",["...)
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonenc.AppendString(append(b, '['), k)
		b = append(jsonenc.AppendString(append(b, ','), r.Extra[k]), ']')
	}
	b = append(b, "]]\n"...)
	sum := sha256.Sum256(b)
	return sum[:]
}

// Submit accepts a paid order. It returns the stored order and whether it was
// created now (false: the same request was submitted before). A different
// request with a taken external id gets ErrConflict (from a docking shop,
// the order stored first); a request that does not
// fit the catalogue gets an *InputError. The order is durable when Submit
// returns.
func (e *Engine) Submit(r Request) (*storage.Order, bool, error) {
	select {
	case <-e.stopped:
		return nil, false, ErrStopped
	default:
	}
	p, err := e.validate(&r)
	if err != nil {
		return nil, false, err
	}
	h := r.hash()
	var (
		order   *storage.Order
		created bool
		pl      plan
	)
	intake := &storage.Order{Storefront: r.Storefront, ExternalID: r.ExternalID, Buyer: r.Buyer, Account: r.Account}
	err = e.commitIntake(intake, func(tx *storage.Tx, c *effects) error {
		order, created, pl = nil, false, plan{}
		old, err := tx.OrderByExternal(r.Storefront, r.ExternalID)
		switch {
		case err == nil:
			// A docking shop's number names one order whatever the body
			// of a repeat (two sent at once, the second with another
			// trace id): the order stored first is the answer.
			if _, docking := e.docking[r.Storefront]; !docking && !bytes.Equal(old.RequestHash, h) {
				return ErrConflict
			}
			order = old
			return nil
		case !errors.Is(err, storage.ErrNotFound):
			return err
		}
		o := &storage.Order{
			ExternalID: r.ExternalID, Storefront: r.Storefront, SKU: r.SKU, Kind: p.Kind,
			Quantity: r.Quantity, Amount: r.Amount, Buyer: r.Buyer, Account: r.Account, Extra: r.Extra,
			RequestHash: h, CreatedAt: c.now,
		}
		if o.ID, err = tx.NewOrderID(); err != nil {
			return err
		}
		if err := e.charge(tx, c, o); err != nil {
			return err
		}
		c.move(o, storage.StatusPending, "", storage.Actor{Name: r.Storefront, Platform: "storefront"})
		order, created = o, true
		if err := e.screenOrder(c, tx, o); err != nil {
			return err
		}
		if o.Status == storage.StatusPending {
			// Move the order on in the intake transaction itself: own stock
			// on hand is delivered now (the order is written once, and the
			// storefront's answer already carries the cards); a supplier
			// purchase is stored now and sent after the commit.
			pl.seen = e.waits.current(o.SKU)
			if err := e.advance(tx, c, o, &pl); err != nil {
				return err
			}
		}
		return tx.CreateOrder(o)
	})
	if err != nil {
		if errors.Is(err, ErrConflict) || errors.Is(err, ErrInsufficientBalance) {
			return nil, false, err
		}
		return nil, false, fmt.Errorf("store order: %w", err)
	}
	if created {
		e.afterCommit(order.ID, &pl)
	}
	return order, created, nil
}

// screenOrder applies the intake decision to a new order (not yet written).
func (e *Engine) screenOrder(c *effects, tx *storage.Tx, o *storage.Order) error {
	if e.screen == nil {
		return nil
	}
	d, err := e.screen.Screen(tx, o)
	if err != nil {
		return fmt.Errorf("screen order: %w", err)
	}
	if rule, ok := strings.CutPrefix(d.Reason, "rule:"); ok {
		c.ruleHits = append(c.ruleHits, ruleHit{rule: rule, action: d.Action})
		report.CountRuleHit(tx, c.now, rule)
	}
	switch d.Action {
	case config.ActionReview:
		c.move(o, storage.StatusReview, d.Reason, storage.System)
		return c.alert(tx, storage.Alert{Key: fmt.Sprintf("%s:%d", alert.Review, o.ID), Type: alert.Review,
			OrderID: o.ID, SKU: o.SKU, Detail: d.Reason})
	case config.ActionRefund:
		c.move(o, storage.StatusRefunded, d.Reason, storage.System)
		if err := c.refunded(tx, o); err != nil {
			return err
		}
		return c.callback(tx, o, CallbackRefunded)
	}
	return nil
}

// Order reads an order by id.
func (e *Engine) Order(id uint64) (*storage.Order, error) {
	var o *storage.Order
	err := e.store.View(func(tx *storage.Tx) error {
		var err error
		o, err = tx.Order(id)
		return err
	})
	return o, err
}

// OrderByExternal reads an order by its storefront's external id.
func (e *Engine) OrderByExternal(storefront, externalID string) (*storage.Order, error) {
	var o *storage.Order
	err := e.store.View(func(tx *storage.Tx) error {
		var err error
		o, err = tx.OrderByExternal(storefront, externalID)
		return err
	})
	return o, err
}
