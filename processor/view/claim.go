package view

import (
	"strconv"

	"cardflow/card"
	"cardflow/internal/jsonenc"
	"cardflow/storage"
)

// Claim is the CLAIM object of the storefront API and the claim.resolved
// callback (docs/api.md): an after-sale claim as its storefront sees it.
type Claim struct {
	ID         string   `json:"id"`
	OrderID    string   `json:"order_id"`
	Reason     string   `json:"reason"`
	Message    string   `json:"message"`
	Cards      []string `json:"cards"`
	Status     string   `json:"status"`
	Note       string   `json:"note"`
	CreatedAt  string   `json:"created_at"`
	ResolvedAt *string  `json:"resolved_at"`
	ResolvedBy *string  `json:"resolved_by"`
}

// ClaimOf renders a claim of order o. The cards it names are read from the
// order's card set the claim was made on: the storefront sees the numbers
// its buyer named (a card without a number, by its password), which the
// order's answers already showed it.
func ClaimOf(c *storage.Claim, o *storage.Order, vault *storage.Vault) (Claim, error) {
	v := Claim{ID: strconv.FormatUint(c.ID, 10), OrderID: strconv.FormatUint(c.OrderID, 10), Reason: c.Reason,
		Message: c.Message, Cards: make([]string, 0, len(c.Cards)), Status: string(c.Status), Note: c.Note,
		CreatedAt: Stamp(c.CreatedAt)}
	if !c.ResolvedAt.IsZero() {
		at, by := Stamp(c.ResolvedAt), c.ResolvedBy.Name
		v.ResolvedAt, v.ResolvedBy = &at, &by
	}
	set := o.SetOf(c.CardSet)
	for _, i := range c.Cards {
		if i < 0 || i >= len(set) {
			continue // the record and the order disagree: show what can be shown
		}
		cd, err := vault.Open(set[i])
		if err != nil {
			return v, err
		}
		v.Cards = append(v.Cards, named(cd))
	}
	return v, nil
}

// named is how a buyer names a card: its number, else its password.
func named(c card.Card) string {
	if c.Number != "" {
		return c.Number
	}
	return c.Password
}

// ClaimsOf renders an order's claims; never nil, so that an order without
// claims says "claims": [].
func ClaimsOf(cs []*storage.Claim, o *storage.Order, vault *storage.Vault) ([]Claim, error) {
	out := make([]Claim, 0, len(cs))
	for _, c := range cs {
		v, err := ClaimOf(c, o, vault)
		if err != nil {
			return out, err
		}
		out = append(out, v)
	}
	return out, nil
}

// AppendJSON appends the claim as JSON, byte for byte what encoding/json
// writes.
func (v *Claim) AppendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = jsonenc.AppendString(b, v.ID)
	b = append(b, `,"order_id":`...)
	b = jsonenc.AppendString(b, v.OrderID)
	b = append(b, `,"reason":`...)
	b = jsonenc.AppendString(b, v.Reason)
	b = append(b, `,"message":`...)
	b = jsonenc.AppendString(b, v.Message)
	b = append(b, `,"cards":`...)
	if v.Cards == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, c := range v.Cards {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonenc.AppendString(b, c)
		}
		b = append(b, ']')
	}
	b = append(b, `,"status":`...)
	b = jsonenc.AppendString(b, v.Status)
	b = append(b, `,"note":`...)
	b = jsonenc.AppendString(b, v.Note)
	b = append(b, `,"created_at":`...)
	b = jsonenc.AppendString(b, v.CreatedAt)
	b = append(b, `,"resolved_at":`...)
	b = appendOptional(b, v.ResolvedAt)
	b = append(b, `,"resolved_by":`...)
	b = appendOptional(b, v.ResolvedBy)
	return append(b, '}')
}

// appendOptional writes a string that may be absent: null, as
// encoding/json writes a nil *string.
func appendOptional(b []byte, s *string) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	return jsonenc.AppendString(b, *s)
}
