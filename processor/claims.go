package processor

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"

	"cardflow/alert"
	"cardflow/card"
	"cardflow/config"
	"cardflow/internal/jsonenc"
	"cardflow/storage"
)

// After-sale claims (docs/claims.md). A storefront opens a claim on a
// delivered order; the claim changes nothing but itself and raises a prompt
// for the operators. Only an operator's resolution moves money or keys:
// a reissue or a refund through the order actions' own paths, or a
// rejection, once, checked inside the write.

// Claim reasons, as the storefront API names them.
const (
	ClaimCardInvalid = "card_invalid"
	ClaimNotReceived = "not_received"
	ClaimWrongItem   = "wrong_item"
	ClaimOther       = "other"
)

// ClaimReasons lists the reasons a claim may give.
var ClaimReasons = []string{ClaimCardInvalid, ClaimNotReceived, ClaimWrongItem, ClaimOther}

// Claim resolutions: ActionReissue, ActionRefund, or ActionReject (the
// claim is closed with the operator's note and nothing else changes).
const ActionReject = "reject"

// CallbackClaimResolved is the callback that tells a storefront how its
// claim was resolved.
const CallbackClaimResolved = "claim.resolved"

// Claim input error codes, as the storefront API names them (422).
const (
	CodeUnknownReason = "unknown_reason"
	CodeUnknownCard   = "unknown_card"
)

// Bounds of a claim's buyer text and of an operator's note, in characters,
// and of the cards one claim names.
const (
	MaxClaimMessage = 1000
	MaxClaimNote    = 500
	MaxClaimCards   = 200
)

// Claim errors the edges map to their answers.
var (
	// ErrClaimOpen: the order has a claim still open (409); one claim at a
	// time per order.
	ErrClaimOpen = errors.New("a claim on this order is still open")
	// ErrClaimIDConflict: the storefront's claim_id was used for another
	// claim (409).
	ErrClaimIDConflict = errors.New("claim_id already used with a different claim")
	// ErrNoClaims: the storefront does not take claims through cardflow's
	// API (a docking shop); treated as no such order.
	ErrNoClaims = fmt.Errorf("claims are taken from cardflow-protocol storefronts only: %w", ErrNotFound)
)

// ClaimStateError is a resolution of a claim that is resolved already: the
// second of two operators racing, or a stale button. It carries the claim,
// so the edge can say "已由 alice 处理".
type ClaimStateError struct {
	Action string
	Claim  *storage.Claim
}

func (e *ClaimStateError) Error() string {
	return fmt.Sprintf("cannot %s claim %d: it was %s by %s at %s", e.Action, e.Claim.ID, e.Claim.Status,
		e.Claim.ResolvedBy.Name, e.Claim.ResolvedAt.UTC().Format(time.RFC3339))
}

// ClaimRequest is an after-sale claim as a storefront opens it. Cards are
// the card numbers the buyer names (for a card without a number, its
// password); they are matched against the order's cards and never stored.
type ClaimRequest struct {
	ClaimID string // the storefront's own id: a repeat returns the same claim
	Reason  string
	Message string
	Cards   []string
}

var claimIDRe = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)

// check refuses a malformed claim before anything is read: 400 for its
// shape, 422 for an unknown reason.
func (r *ClaimRequest) check() error {
	if r.ClaimID != "" && !claimIDRe.MatchString(r.ClaimID) {
		return inputErr(CodeInvalidRequest, "claim_id", "must be 1-64 characters of A-Z a-z 0-9 . _ : -")
	}
	if err := boundedText("message", r.Message, MaxClaimMessage, true); err != nil {
		return err
	}
	if len(r.Cards) > MaxClaimCards {
		return inputErr(CodeInvalidRequest, "cards", "names more than %d cards", MaxClaimCards)
	}
	for i, c := range r.Cards {
		field := "cards[" + strconv.Itoa(i) + "]"
		if card.Normalize(c) == "" {
			return inputErr(CodeInvalidRequest, field, "is empty; name a card number delivered with the order")
		}
		if err := boundedText(field, c, 256, false); err != nil {
			return err
		}
	}
	if !slices.Contains(ClaimReasons, r.Reason) {
		return inputErr(CodeUnknownReason, "reason", "must be one of card_invalid, not_received, wrong_item, other")
	}
	return nil
}

// boundedText refuses text over max characters, not valid UTF-8, or holding
// a control character (line breaks only where lines are allowed), a
// format character or a line separator: an operator reads it in chat. The
// message never quotes the text (a card number may be in it).
func boundedText(field, s string, max int, lines bool) error {
	if !utf8.ValidString(s) {
		return inputErr(CodeInvalidRequest, field, "is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(s); n > max {
		return inputErr(CodeInvalidRequest, field, "is %d characters; at most %d", n, max)
	}
	for i, r := range s {
		if lines && r == '\n' {
			continue
		}
		if r < ' ' || r >= 0x7f && r < 0xa0 || r == '\u2028' || r == '\u2029' || unicode.Is(unicode.Cf, r) {
			return inputErr(CodeInvalidRequest, field, "holds the control or formatting character U+%04X at byte %d; send plain text", r, i)
		}
	}
	return nil
}

// OpenClaim opens an after-sale claim on a storefront's delivered order and
// raises its operator prompt, in one write. It answers the claim and
// whether it is new: a repeat of a claim_id with the same claim answers the
// stored claim (created false), whatever it has become. Errors:
// ErrNotFound (no such order, or another storefront's), *InputError (400
// shape, 422 CodeUnknownReason or CodeUnknownCard), *StateError (the order
// is not delivered), ErrClaimOpen, ErrClaimIDConflict.
func (e *Engine) OpenClaim(storefront string, orderID uint64, req ClaimRequest) (*storage.Claim, bool, error) {
	if err := req.check(); err != nil {
		return nil, false, err
	}
	if _, native := e.storefronts[storefront]; !native {
		return nil, false, ErrNoClaims
	}
	vault := e.store.Vault()
	prints := make([]storage.Fingerprint, len(req.Cards))
	for i, n := range req.Cards {
		prints[i] = vault.Fingerprint(card.Card{Number: n})
	}
	hash := claimHash(orderID, &req, prints)
	var (
		claim   *storage.Claim
		created bool
	)
	err := e.commit(func(tx *storage.Tx, c *effects) error {
		claim, created = nil, false
		if req.ClaimID != "" {
			prev, err := tx.Claims().ByExternal(storefront, req.ClaimID)
			switch {
			case err == nil && prev.OrderID == orderID && bytes.Equal(prev.RequestHash, hash):
				claim = prev
				return nil
			case err == nil:
				return ErrClaimIDConflict
			case !errors.Is(err, storage.ErrNotFound):
				return err
			}
		}
		o, err := tx.Order(orderID)
		if err != nil {
			return err
		}
		if o.Storefront != storefront {
			return fmt.Errorf("order %d: %w", orderID, ErrNotFound)
		}
		if o.Status != storage.StatusDelivered {
			return &StateError{Action: "claim", Order: o, Last: lastHuman(o)}
		}
		claims, err := tx.Claims().OfOrder(o.ID)
		if err != nil {
			return err
		}
		for _, prev := range claims {
			if !prev.Resolved() {
				return fmt.Errorf("claim %d: %w", prev.ID, ErrClaimOpen)
			}
		}
		positions, err := cardPositions(vault, o.Cards, req.Cards, prints)
		if err != nil {
			return err
		}
		sources := cardSources(o, e.products[o.SKU])
		cl := &storage.Claim{OrderID: o.ID, Storefront: storefront, ClaimID: req.ClaimID, RequestHash: hash,
			Reason: req.Reason, Message: req.Message, CardSet: o.CardSet(), Cards: positions, Status: storage.ClaimOpen,
			CreatedAt: c.now}
		for _, p := range positions {
			cl.Sources = append(cl.Sources, sources[p])
		}
		cl.Batches = e.stockBatches(tx, o, cl)
		buyer := storage.ClaimBuyer(o)
		history := tx.Claims().BuyerCount(buyer)
		if err := tx.Claims().Create(cl, buyer); err != nil {
			return err
		}
		claim, created = cl, true
		claimOpened(tx, c, o, cl)
		shown := slices.Clone(cl.Sources)
		for i, b := range cl.Batches {
			if b > 0 {
				shown[i] += " #" + strconv.FormatUint(b, 10) // own stock: the import batch, to find a bad one
			}
		}
		if len(positions) == 0 {
			shown = sources // no card named: where the order's cards came from
		}
		return c.alert(tx, storage.Alert{Key: claimAlertKey(cl.ID), Type: alert.Claim, OrderID: o.ID, SKU: o.SKU,
			Target: storefront, Count: len(positions), Detail: cl.Reason,
			Claim: &storage.ClaimPrompt{ID: cl.ID, Reason: cl.Reason, Quantity: o.Quantity, Cards: len(positions),
				Message: cl.Message, Sources: shown, History: history}})
	})
	if err != nil {
		return nil, false, fmt.Errorf("claim on order %d: %w", orderID, err)
	}
	if created {
		e.log.Info().Uint64("claim_id", claim.ID).Uint64("order_id", orderID).Str("storefront", storefront).
			Str("reason", claim.Reason).Int("cards", len(claim.Cards)).Msg("claim opened")
	}
	return claim, created, nil
}

// claimHash identifies a claim's content, so that a repeated claim_id can
// be told from another claim reusing it. Cards enter as their keyed
// fingerprints: the stored hash must not let anyone test a guessed number.
func claimHash(orderID uint64, r *ClaimRequest, prints []storage.Fingerprint) []byte {
	b := strconv.AppendUint(nil, orderID, 10)
	b = jsonenc.AppendString(append(b, ','), r.Reason)
	b = jsonenc.AppendString(append(b, ','), r.Message)
	for _, fp := range prints {
		b = append(append(b, ','), fp[:]...)
	}
	sum := sha256.Sum256(b)
	return sum[:]
}

// cardPositions finds each named card in the order's current card set, by
// fingerprint: its number, or (for a card without one) its password. A
// card named twice counts once. A card the set does not hold is a 422
// naming its place in the request, never its value.
func cardPositions(vault *storage.Vault, cards []storage.SealedCard, named []string, prints []storage.Fingerprint) ([]int, error) {
	var out []int
	for i, fp := range prints {
		at := slices.IndexFunc(cards, func(c storage.SealedCard) bool { return c.FP == fp })
		if at < 0 {
			pwd := vault.Fingerprint(card.Card{Password: named[i]})
			at = slices.IndexFunc(cards, func(c storage.SealedCard) bool { return c.FP == pwd })
		}
		if at < 0 {
			return nil, inputErr(CodeUnknownCard, "cards["+strconv.Itoa(i)+"]", "is not a card delivered with this order (of its current cards)")
		}
		if !slices.Contains(out, at) {
			out = append(out, at)
		}
	}
	return out, nil
}

// cardSources names the supplier each card of an order's current set came
// from: the set is the goods of its batches in batch order, each batch's
// from the purchase that succeeded (docs/claims.md). A card the attempts
// do not account for has "".
func cardSources(o *storage.Order, p config.Product) []string {
	out := make([]string, len(o.Cards))
	at := 0
	for _, b := range batchesOf(o, p) {
		for _, a := range batchAttempts(o, b.index) {
			if a.State != storage.AttemptSucceeded {
				continue
			}
			for range a.Units {
				if at < len(out) {
					out[at] = a.Supplier
				}
				at++
			}
			break
		}
	}
	if at != len(o.Cards) {
		return make([]string, len(o.Cards)) // the attempts do not add up to the set: claim nothing
	}
	return out
}

func claimAlertKey(id uint64) string { return string(alert.Claim) + ":" + strconv.FormatUint(id, 10) }

// ResolveClaim resolves an open claim for an operator: "reissue" replaces
// the order's cards through the reissue path (the claim records the card
// set that replaces the claimed one), "refund" refunds it through the refund
// path, "reject" only closes the claim with the note. Claim, order, audit
// entry, prompt and the claim.resolved callback change in one write, after
// the checks made inside it: a claim resolved already answers
// *ClaimStateError (who, when), an order whose state does not allow the
// action *StateError, and either refusal is audited. Roles and refund
// limits are the caller's (the operator layer's) to check.
func (e *Engine) ResolveClaim(actor storage.Actor, claimID uint64, action, note string) (*storage.Claim, *storage.Order, error) {
	if action != ActionReissue && action != ActionRefund && action != ActionReject {
		return nil, nil, inputErr(CodeInvalidRequest, "action", "must be reissue, refund or reject")
	}
	if err := boundedText("note", note, MaxClaimNote, false); err != nil {
		return nil, nil, err
	}
	var (
		claim   *storage.Claim
		order   *storage.Order
		refused error
	)
	err := e.commit(func(tx *storage.Tx, c *effects) error {
		claim, order, refused = nil, nil, nil
		cl, err := tx.Claims().Get(claimID)
		if err != nil {
			return err
		}
		o, err := tx.Order(cl.OrderID)
		if err != nil {
			return err
		}
		claim, order = cl, o
		entry := storage.AuditEntry{At: c.now, Actor: actor, Action: "claim." + action, Target: strconv.FormatUint(o.ID, 10),
			Outcome: "ok", Detail: fmt.Sprintf("claim %d", cl.ID)}
		if note != "" {
			entry.Detail += ": " + note
		}
		refused = claimRefusal(action, cl, o)
		if refused != nil {
			entry.Outcome, entry.Detail = "refused", fmt.Sprintf("claim %d is %s, order is %s", cl.ID, cl.Status, o.Status)
			return tx.Audit(entry)
		}
		switch action {
		case ActionReissue:
			if err := reissueOrder(actor)(tx, c, o); err != nil {
				return err
			}
			cl.Status, cl.ReplacedBy = storage.ClaimReissued, cl.CardSet+1
		case ActionRefund:
			if err := refundOrder(actor)(tx, c, o); err != nil {
				return err
			}
			cl.Status = storage.ClaimRefunded
		default:
			cl.Status = storage.ClaimRejected
		}
		cl.Note, cl.ResolvedAt, cl.ResolvedBy = note, c.now, actor
		if err := tx.Claims().Put(cl); err != nil {
			return err
		}
		if err := e.claimCharged(tx, c, o, cl); err != nil {
			return err
		}
		if err := c.alert(tx, storage.Alert{Key: claimAlertKey(cl.ID), Type: alert.Claim, Resolved: true, OrderID: o.ID,
			SKU: o.SKU, Target: actor.Name, Detail: action, Claim: &storage.ClaimPrompt{ID: cl.ID, Reason: cl.Reason}}); err != nil {
			return err
		}
		if err := c.claimResolved(tx, o, cl); err != nil {
			return err
		}
		return tx.Audit(entry)
	})
	if err != nil {
		return nil, nil, fmt.Errorf("%s claim %d: %w", action, claimID, err)
	}
	if refused != nil {
		return claim, order, refused
	}
	e.log.Info().Str("action", action).Str("actor", actor.Name).Str("platform", actor.Platform).Uint64("claim_id", claimID).
		Object("order", order).Msg("claim resolved")
	if order.Status == storage.StatusPending {
		e.queue.push(order.ID)
	} else {
		e.waits.forget(order.SKU, order.ID)
	}
	return claim, order, nil
}

// claimRefusal says why an action cannot resolve a claim now, or nil: the
// claim is resolved already, or the order is not where the action can
// start. A reissue replaces the cards the claim named, so it needs the
// order delivered with that very set still (an operator may have reissued
// it by hand meanwhile); a refund takes any state a refund may.
func claimRefusal(action string, cl *storage.Claim, o *storage.Order) error {
	switch {
	case cl.Resolved():
		return &ClaimStateError{Action: action, Claim: cl}
	case action == ActionReissue && (o.Status != storage.StatusDelivered || o.CardSet() != cl.CardSet):
		return &StateError{Action: action, Order: o, Last: lastHuman(o)}
	case action == ActionRefund && !slices.Contains(refundable, o.Status):
		return &StateError{Action: action, Order: o, Last: lastHuman(o)}
	}
	return nil
}

// claimResolved queues the claim.resolved callback: the order as the
// resolution left it, and the claim (read when it is sent: a resolved claim
// does not change).
func (c *effects) claimResolved(tx *storage.Tx, o *storage.Order, cl *storage.Claim) error {
	return c.notify(tx, o, CallbackClaimResolved, cl.ID)
}

// ClaimByID reads one claim.
func (e *Engine) ClaimByID(id uint64) (*storage.Claim, error) {
	var cl *storage.Claim
	err := e.store.View(func(tx *storage.Tx) error {
		var err error
		cl, err = tx.Claims().Get(id)
		return err
	})
	return cl, err
}

// ClaimsOf lists an order's claims, oldest first.
func (e *Engine) ClaimsOf(orderID uint64) ([]*storage.Claim, error) {
	var out []*storage.Claim
	err := e.store.View(func(tx *storage.Tx) error {
		var err error
		out, err = tx.Claims().OfOrder(orderID)
		return err
	})
	return out, err
}

// claimsScanned bounds how many claims one listing by a resolved status
// reads.
const claimsScanned = 10_000

// Claims lists up to limit claims in a status and counts the open ones:
// open claims oldest first (the work queue, with total the number open),
// resolved ones ("reissued", "refunded", "rejected", or "" for every
// claim) newest first among the newest claimsScanned (total is then how
// many were listed). An unknown status is an *InputError.
func (e *Engine) Claims(status storage.ClaimStatus, limit int) (claims []*storage.Claim, total int, err error) {
	switch status {
	case storage.ClaimOpen, storage.ClaimReissued, storage.ClaimRefunded, storage.ClaimRejected, "":
	default:
		return nil, 0, inputErr(CodeInvalidRequest, "status", "must be open, reissued, refunded or rejected")
	}
	err = e.store.View(func(tx *storage.Tx) error {
		if status == storage.ClaimOpen {
			claims, total, err = tx.Claims().Open(limit)
			return err
		}
		claims, err = tx.Claims().Recent(status, limit, claimsScanned)
		total = len(claims)
		return err
	})
	return claims, total, err
}
