package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode"

	"cardflow/internal/money"
	"cardflow/processor"
	"cardflow/storage"
)

// orderBody is the JSON of POST /v1/orders. Quantity and amount stay raw so
// that a wrong JSON type (400) can be told from a wrong value (422).
type orderBody struct {
	ExternalID *string           `json:"external_id"`
	SKU        *string           `json:"sku"`
	Quantity   json.RawMessage   `json:"quantity"`
	Amount     json.RawMessage   `json:"amount"`
	Buyer      *buyerBody        `json:"buyer"`
	Account    string            `json:"account"`
	Extra      map[string]string `json:"extra"`
}

type buyerBody struct {
	ID      string `json:"id"`
	Contact string `json:"contact"`
	IP      string `json:"ip"`
}

func badRequest(field, format string, args ...any) error {
	return &processor.InputError{Code: processor.CodeInvalidRequest, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// decodeOrder turns a request body into an engine request. Every failure is
// an *processor.InputError naming the field.
func decodeOrder(storefront string, body []byte) (processor.Request, error) {
	var b orderBody
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&b); err != nil {
		return processor.Request{}, jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return processor.Request{}, badRequest("", "body must hold exactly one JSON object")
	}
	if b.ExternalID == nil {
		return processor.Request{}, badRequest("external_id", "is required")
	}
	if b.SKU == nil || *b.SKU == "" {
		return processor.Request{}, badRequest("sku", "is required")
	}
	qty, err := decodeQuantity(b.Quantity)
	if err != nil {
		return processor.Request{}, err
	}
	amount, err := decodeAmount(b.Amount)
	if err != nil {
		return processor.Request{}, err
	}
	if err := b.checkText(); err != nil {
		return processor.Request{}, err
	}
	req := processor.Request{
		Storefront: storefront, ExternalID: *b.ExternalID, SKU: *b.SKU, Quantity: qty, Amount: amount,
		Account: b.Account, Extra: b.Extra,
	}
	if b.Buyer != nil {
		req.Buyer = storage.Buyer{ID: b.Buyer.ID, Contact: b.Buyer.Contact, IP: b.Buyer.IP}
	}
	return req, nil
}

// checkText refuses control characters and Unicode format characters
// (bidi overrides and isolates, zero-width marks, BOMs) in every string a
// storefront sends: shown to operators in chat, they can reorder or hide
// what an operator reads. external_id has its own narrower pattern.
// Every string field of orderBody must be listed here (a test checks).
func (b *orderBody) checkText() error {
	fields := [...]struct{ name, value string }{{"sku", *b.SKU}, {"account", b.Account}}
	for _, f := range fields {
		if err := plainText(f.name, f.value); err != nil {
			return err
		}
	}
	if b.Buyer != nil {
		for _, f := range [...]struct{ name, value string }{
			{"buyer.id", b.Buyer.ID}, {"buyer.contact", b.Buyer.Contact}, {"buyer.ip", b.Buyer.IP},
		} {
			if err := plainText(f.name, f.value); err != nil {
				return err
			}
		}
	}
	for k, v := range b.Extra {
		if err := plainText("extra", k); err != nil {
			return err
		}
		if err := plainText("extra."+k, v); err != nil {
			return err
		}
	}
	return nil
}

// plainText names the first character of s that is a control character
// (C0, DEL, C1), a format character (Unicode category Cf: U+200B-U+200F,
// U+202A-U+202E, U+2066-U+2069, U+FEFF, ...) or a line or paragraph
// separator, by its code point.
func plainText(field, s string) error {
	for i, r := range s {
		if r >= ' ' && r < 0x7f {
			continue
		}
		if r < ' ' || r >= 0x7f && r < 0xa0 || r == '\u2028' || r == '\u2029' || unicode.Is(unicode.Cf, r) {
			return badRequest(field, "holds the control or formatting character U+%04X at byte %d; send plain text", r, i)
		}
	}
	return nil
}

func decodeQuantity(raw json.RawMessage) (int, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, badRequest("quantity", "is required")
	}
	if c := raw[0]; c != '-' && (c < '0' || c > '9') {
		return 0, badRequest("quantity", "must be a JSON number, e.g. 1")
	}
	n, err := strconv.ParseInt(string(raw), 10, 32)
	if err != nil {
		return 0, &processor.InputError{Code: processor.CodeInvalidQuantity, Field: "quantity", Msg: "must be a whole number, e.g. 1"}
	}
	if n < 1 {
		return 0, &processor.InputError{Code: processor.CodeInvalidQuantity, Field: "quantity", Msg: "must be at least 1"}
	}
	return int(n), nil
}

func decodeAmount(raw json.RawMessage) (money.Amount, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, badRequest("amount", "is required")
	}
	if raw[0] != '"' {
		return 0, badRequest("amount", `must be a decimal string, e.g. "100.00"`)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return 0, badRequest("amount", `must be a decimal string, e.g. "100.00"`)
	}
	a, err := money.Parse(s)
	if err != nil {
		return 0, &processor.InputError{Code: processor.CodeInvalidAmount, Field: "amount",
			Msg: `must be a non-negative decimal with at most two decimals, e.g. "100.00"`}
	}
	return a, nil
}

// jsonError explains a decode failure without echoing the body.
func jsonError(err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			return badRequest("", "body must be a JSON object")
		}
		return badRequest(field, "has the wrong type: want %s", jsonKind(te.Type.Kind().String()))
	case errors.As(err, &se):
		return badRequest("", "malformed JSON at byte %d", se.Offset)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("", "body is empty or cut short; send a JSON object")
	}
	return badRequest("", "malformed JSON")
}

func jsonKind(k string) string {
	switch k {
	case "ptr", "string":
		return "a string"
	case "map", "struct":
		return "an object"
	}
	return k
}
