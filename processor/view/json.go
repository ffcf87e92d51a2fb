package view

import (
	"strconv"

	"cardflow/internal/jsonenc"
)

// Every order answer and every callback carries an Order, and encoding
// it through encoding/json's reflection was the largest JSON cost per
// order. These append the same JSON by hand; a test and a fuzz target hold
// them to what encoding/json makes of the same values.

// AppendJSON appends the view as JSON.
func (v *Order) AppendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = jsonenc.AppendString(b, v.ID)
	b = append(b, `,"external_id":`...)
	b = jsonenc.AppendString(b, v.ExternalID)
	b = append(b, `,"storefront":`...)
	b = jsonenc.AppendString(b, v.Storefront)
	b = append(b, `,"sku":`...)
	b = jsonenc.AppendString(b, v.SKU)
	b = append(b, `,"quantity":`...)
	b = strconv.AppendInt(b, int64(v.Quantity), 10)
	b = append(b, `,"amount":`...)
	b = jsonenc.AppendString(b, v.Amount)
	b = append(b, `,"status":`...)
	b = jsonenc.AppendString(b, v.Status)
	b = append(b, `,"reason":`...)
	b = jsonenc.AppendString(b, v.Reason)
	b = append(b, `,"created_at":`...)
	b = jsonenc.AppendString(b, v.CreatedAt)
	b = append(b, `,"updated_at":`...)
	b = jsonenc.AppendString(b, v.UpdatedAt)
	b = append(b, `,"delivered_at":`...)
	b = appendOptional(b, v.DeliveredAt)
	b = append(b, `,"cards":`...)
	if v.Cards == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, c := range v.Cards {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"number":`...)
			b = jsonenc.AppendString(b, c.Number)
			b = append(b, `,"password":`...)
			b = jsonenc.AppendString(b, c.Password)
			b = append(b, `,"expires_at":`...)
			b = jsonenc.AppendString(b, c.ExpiresAt)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if v.Claims != nil {
		b = append(b, `,"claims":[`...)
		for i := range v.Claims {
			if i > 0 {
				b = append(b, ',')
			}
			b = v.Claims[i].AppendJSON(b)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// AppendJSON appends the callback body as JSON.
func (c *Callback) AppendJSON(b []byte) []byte {
	b = append(b, `{"event_id":`...)
	b = jsonenc.AppendString(b, c.EventID)
	b = append(b, `,"type":`...)
	b = jsonenc.AppendString(b, c.Type)
	b = append(b, `,"created_at":`...)
	b = jsonenc.AppendString(b, c.CreatedAt)
	b = append(b, `,"order":`...)
	b = c.Order.AppendJSON(b)
	if c.Claim != nil {
		b = append(b, `,"claim":`...)
		b = c.Claim.AppendJSON(b)
	}
	return append(b, '}')
}
