package dujiao

import (
	"cmp"
	"fmt"
	"strconv"
	"time"

	"cardflow/api/docking"
	"cardflow/config"
	"cardflow/internal/money"
	"cardflow/storage"
)

// An order as a shop sees it (docs/docking.md): cardflow's order id is the
// shop's order_id, its decimal the order_no; statuses are mapped so that
// the shop keeps asking while cardflow works, takes the keys once
// delivered, and rolls its order back when cardflow gave the money back
// without delivering.

// orderNo is the order_no of an order: its id, as operators see it.
func orderNo(o *storage.Order) string { return strconv.FormatUint(o.ID, 10) }

// statusOf maps an order's status: delivered is delivered; refunded is
// canceled when nothing was ever delivered and refunded when keys were;
// anything else is still being fulfilled.
func statusOf(o *storage.Order) string {
	switch o.Status {
	case storage.StatusDelivered:
		return StatusDelivered
	case storage.StatusRefunded:
		if _, delivered := o.Last(storage.StatusDelivered); delivered {
			return StatusRefunded
		}
		return StatusCanceled
	}
	return StatusFulfilling
}

// acceptedStatus is the status of the answer to POST /orders: paid for an
// order cardflow works on (its delivery comes by callback and poll), or
// canceled for one refused at intake.
func acceptedStatus(o *storage.Order) string {
	if s := statusOf(o); s == StatusCanceled || s == StatusRefunded {
		return s
	}
	return StatusPaid
}

// fulfillment is the delivery of card set n of o, at at: the card keys,
// one per line, or for a top-up a receipt line.
func fulfillment(o *storage.Order, n int, at time.Time, vault *storage.Vault) (*Fulfillment, error) {
	lines, err := deliveryLines(o, n, vault)
	if err != nil {
		return nil, err
	}
	return Delivered(fulfillmentType(o.Kind), lines, At(at)), nil
}

// deliveryLines are the lines of card set n of o: its card keys, or for a
// top-up a receipt line.
func deliveryLines(o *storage.Order, n int, vault *storage.Vault) ([]string, error) {
	if o.Kind == config.KindDirect {
		return []string{receipt(o)}, nil
	}
	lines, err := docking.CardLines(vault, o.SetOf(n))
	if err != nil {
		return nil, fmt.Errorf("order %d: %w", o.ID, err)
	}
	return lines, nil
}

// receipt is a delivered top-up's line for the shop's buyer.
func receipt(o *storage.Order) string {
	return fmt.Sprintf("充值成功：%s ×%d（cardflow 订单 %d）", o.Account, o.Quantity, o.ID)
}

// orderAnswer is the answer to GET /orders/{id}.
func (c *catalog) orderAnswer(o *storage.Order, vault *storage.Vault) (Order, error) {
	out := Order{OrderID: o.ID, OrderNo: orderNo(o), Status: statusOf(o), Amount: o.Amount, Currency: Currency,
		Items: Array[Item]{c.item(o)}}
	switch out.Status {
	case StatusDelivered:
		f, err := fulfillment(o, o.CardSet(), o.DeliveredAt, vault)
		if err != nil {
			return Order{}, err
		}
		out.Fulfillment = f
	case StatusCanceled, StatusRefunded:
		out.RefundedAmount = o.Charged
	}
	return out, nil
}

// item is an order's one line. A product since taken out of the catalogue
// keeps its SKU as its title and id 0.
func (c *catalog) item(o *storage.Order) Item {
	var id uint64
	title := o.SKU
	if p, ok := c.BySKU(o.SKU); ok {
		id, title = uint64(p.ID), cmp.Or(p.Name, p.SKU)
	}
	unit := o.Amount
	if o.Quantity > 0 {
		unit = o.Amount / money.Amount(o.Quantity)
	}
	return Item{ProductID: id, SKUID: id, Title: Text{"zh-CN": title}, Quantity: o.Quantity, UnitPrice: unit,
		TotalPrice: o.Amount, FulfillmentType: fulfillmentType(o.Kind)}
}
