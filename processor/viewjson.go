package processor

import (
	"strconv"
	"unicode/utf8"
)

// Every order answer and every callback carries an OrderView, and encoding
// it through encoding/json's reflection was the largest JSON cost per
// order. These append the same JSON by hand; a test and a fuzz target hold
// them to what encoding/json makes of the same values.

// AppendJSON appends the view as JSON.
func (v *OrderView) AppendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = appendString(b, v.ID)
	b = append(b, `,"external_id":`...)
	b = appendString(b, v.ExternalID)
	b = append(b, `,"storefront":`...)
	b = appendString(b, v.Storefront)
	b = append(b, `,"sku":`...)
	b = appendString(b, v.SKU)
	b = append(b, `,"quantity":`...)
	b = strconv.AppendInt(b, int64(v.Quantity), 10)
	b = append(b, `,"amount":`...)
	b = appendString(b, v.Amount)
	b = append(b, `,"status":`...)
	b = appendString(b, v.Status)
	b = append(b, `,"reason":`...)
	b = appendString(b, v.Reason)
	b = append(b, `,"created_at":`...)
	b = appendString(b, v.CreatedAt)
	b = append(b, `,"updated_at":`...)
	b = appendString(b, v.UpdatedAt)
	b = append(b, `,"delivered_at":`...)
	if v.DeliveredAt == nil {
		b = append(b, "null"...)
	} else {
		b = appendString(b, *v.DeliveredAt)
	}
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
			b = appendString(b, c.Number)
			b = append(b, `,"password":`...)
			b = appendString(b, c.Password)
			b = append(b, `,"expires_at":`...)
			b = appendString(b, c.ExpiresAt)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// AppendJSON appends the callback body as JSON.
func (c *CallbackBody) AppendJSON(b []byte) []byte {
	b = append(b, `{"event_id":`...)
	b = appendString(b, c.EventID)
	b = append(b, `,"type":`...)
	b = appendString(b, c.Type)
	b = append(b, `,"created_at":`...)
	b = appendString(b, c.CreatedAt)
	b = append(b, `,"order":`...)
	b = c.Order.AppendJSON(b)
	return append(b, '}')
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string the way encoding/json does:
// quotes, backslashes and control characters escaped, <, > and & as
// \u003c etc., U+2028 and U+2029 escaped, invalid UTF-8 as U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
