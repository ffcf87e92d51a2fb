package acgfaka

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"sync"

	"cardflow/api/docking"
	"cardflow/processor"
	"cardflow/storage"
)

// Refusals of the trade. A shop shows them to its buyer word for word: they
// say what the buyer can do, and the detail is the operators' (alerts).
var (
	ErrSoldOut = &Error{Msg: "商品暂时缺货，请稍后再试"}     // not enough stock, or no supplier could deliver
	ErrBalance = &Error{Msg: "余额不足"}             // the shop's balance does not cover the order; nothing stored
	ErrPending = &Error{Msg: "订单处理中，请稍后重试或联系客服"} // not settled in the sync window; held for the shop to ask again
	ErrNotDone = &Error{Msg: "订单未能完成，请联系客服"}     // refunded by a rule, an operator, or for want of a claim
	ErrNoOrder = &Error{Msg: "订单不存在"}            // query: no order of this shop by that number
)

// soldOut are the refund reasons that mean nothing could be had.
var soldOut = map[string]bool{
	processor.ReasonOutOfStock: true, processor.ReasonNoSource: true, processor.ReasonSupplierUnavailable: true,
	processor.ReasonPaused: true, processor.ReasonDuplicateCard: true, processor.ReasonUnknownSKU: true,
}

// trade places an order and answers it within the shop's sync window. The
// request_no is the order's external id, taken in as docking.Intake says,
// so a shop that rolled its payment back and comes again gets the keys (or
// the refusal) cardflow settled on meanwhile.
func (a *api) trade(ctx context.Context, r *Request) (any, error) {
	in, err := r.Trade()
	if err != nil {
		return nil, err
	}
	s := a.shops[r.AppID]
	o, err := docking.Intake(a.engine, s.ID, in.RequestNo, func() (*storage.Order, error) { return a.place(s, in) })
	if err != nil {
		return nil, err
	}
	return a.settle(ctx, s, o)
}

// place submits a new order, refusing at once what stock cannot cover.
func (a *api) place(s *Shop, in TradeRequest) (*storage.Order, error) {
	p, err := a.product(in.Code, in.Num)
	if err != nil {
		return nil, err
	}
	if n, err := a.stockOf(in.Code); err != nil {
		return nil, err
	} else if n < in.Num {
		return nil, ErrSoldOut
	}
	o, _, err := a.engine.Submit(processor.Request{Storefront: s.ID, ExternalID: in.RequestNo, SKU: p.SKU,
		Quantity: in.Num, Buyer: storage.Buyer{Contact: in.Contact}})
	return o, submitError(err)
}

// submitError says an engine refusal in the protocol's words.
func submitError(err error) error {
	var in *processor.InputError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, processor.ErrInsufficientBalance):
		return ErrBalance
	case errors.As(err, &in) && in.Field == "external_id":
		return ErrBadOrderNo
	case errors.As(err, &in) && in.Code == processor.CodeInvalidQuantity:
		return ErrBadNum
	case errors.As(err, &in) && (in.Code == processor.CodeUnknownSKU || in.Code == processor.CodeNotDocked):
		return ErrNoItem
	case errors.As(err, &in):
		return ErrBadField
	case errors.Is(err, processor.ErrStopped):
		return ErrInternal // promised nothing: the shop's payment rolls back
	}
	return fmt.Errorf("submit order: %w", err)
}

// settled says whether waiting longer is of use: delivered or refunded is
// final, and a failed order waits for an operator.
func settled(o *storage.Order) bool {
	return o.Status == storage.StatusDelivered || o.Status == storage.StatusRefunded || o.Status == storage.StatusFailed
}

// settle waits up to the sync window for the order, then answers it: the
// keys, or the refusal, and the order is claimed; or ErrPending, and the
// order is held for the shop to claim within its claim period. The answer
// is decided and recorded under the order's lock on the order as read
// then, so that two trades of one number at once cannot leave an order
// held whose keys one of them handed out.
func (a *api) settle(ctx context.Context, s *Shop, o *storage.Order) (any, error) {
	if !settled(o) {
		wait, cancel := context.WithTimeout(ctx, s.SyncWindow)
		_, err := a.engine.WaitFor(wait, o.ID, settled)
		cancel()
		if err != nil && wait.Err() == nil {
			a.log.Error().Err(err).Uint64("order_id", o.ID).Msg("wait for an acg-faka order")
		}
	}
	defer a.locks.lock(s.ID, o.ExternalID)()
	now, err := a.engine.Order(o.ID)
	if err != nil {
		return nil, a.hold(s, o.ID, fmt.Errorf("read order %d: %w", o.ID, err))
	}
	switch now.Status {
	case storage.StatusDelivered:
		secret, err := a.secret(now)
		if err != nil {
			return nil, a.hold(s, o.ID, err)
		}
		if err := a.engine.Claim(now.ID); err != nil {
			return nil, fmt.Errorf("claim order %d: %w", now.ID, err)
		}
		return TradeReply{Amount: now.Amount, TradeNo: strconv.FormatUint(now.ID, 10), Secret: secret, Stock: a.stockAfter(now)}, nil
	case storage.StatusRefunded:
		return nil, a.refused(now)
	}
	return nil, a.hold(s, now.ID, ErrPending)
}

// hold records that order id was answered without its result, and
// answers why.
func (a *api) hold(s *Shop, id uint64, why error) error {
	if err := a.engine.HoldForClaim(id, s.ClaimPeriod); err != nil {
		a.log.Error().Err(err).Uint64("order_id", id).Str("storefront", s.ID).
			Msg("an acg-faka order answered without its result could not be held for its claim: it is not refunded unless an operator does it")
		return errors.Join(why, err)
	}
	return why
}

// refused claims a refunded order, whose refusal has now been told, and
// answers that refusal.
func (a *api) refused(o *storage.Order) error {
	if err := a.engine.Claim(o.ID); err != nil {
		return fmt.Errorf("claim order %d: %w", o.ID, err)
	}
	return refusal(o)
}

// refusal is what a refunded order's buyer reads.
func refusal(o *storage.Order) error {
	if soldOut[o.Reason] {
		return ErrSoldOut
	}
	return ErrNotDone
}

// secret is a delivered order's keys, one per line, as a shop shows them.
func (a *api) secret(o *storage.Order) (string, error) {
	if len(o.Cards) == 0 {
		return "", fmt.Errorf("delivered order %d holds no keys", o.ID)
	}
	lines, err := docking.CardLines(a.engine.Vault(), o.Cards)
	if err != nil {
		return "", fmt.Errorf("order %d: %w", o.ID, err)
	}
	return docking.JoinLines(lines), nil
}

// stockAfter is the item's stock as a trade's answer reports it; 0 when
// it cannot be read (the shop does not use it).
func (a *api) stockAfter(o *storage.Order) int {
	p, ok := a.catalog.BySKU(o.SKU)
	if !ok {
		return 0
	}
	n, err := a.stockOf(code(p))
	if err != nil {
		return 0
	}
	return n
}

// query answers an order by the tradeNo its trade answer gave: the keys
// once delivered (the order is then claimed), an empty secret while it is
// worked on, the refusal once refunded.
func (a *api) query(_ context.Context, r *Request) (any, error) {
	in, err := r.Query()
	if err != nil {
		return nil, err
	}
	id, err := strconv.ParseUint(in.TradeNo, 10, 64)
	if err != nil {
		return nil, ErrNoOrder
	}
	o, err := docking.OwnOrder(a.engine, r.AppID, id)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return nil, ErrNoOrder
	case err != nil:
		return nil, err
	}
	defer a.locks.lock(o.Storefront, o.ExternalID)()
	if o, err = a.engine.Order(id); err != nil {
		return nil, fmt.Errorf("read order %d: %w", id, err)
	}
	switch o.Status {
	case storage.StatusDelivered:
		secret, err := a.secret(o)
		if err == nil {
			err = a.engine.Claim(o.ID)
		}
		if err != nil {
			return nil, err
		}
		return QueryReply{Secret: secret, Status: 1}, nil
	case storage.StatusRefunded:
		return nil, a.refused(o)
	}
	return QueryReply{}, nil
}

// orderLocks serialise what the trades of one shop's order number decide;
// a fixed set of mutexes, so that nothing grows with the numbers seen.
type orderLocks [64]sync.Mutex

func (l *orderLocks) lock(shop, no string) (unlock func()) {
	h := fnv.New32a()
	_, _ = h.Write([]byte(shop))
	_, _ = h.Write([]byte{0})
	_, _ = h.Write([]byte(no))
	m := &l[h.Sum32()%uint32(len(l))]
	m.Lock()
	return m.Unlock
}
