package dujiao

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxBody is the largest request body cardflow reads; a larger one is
// refused before it is parsed.
const MaxBody = 64 << 10

// Bounds of the create-order request's strings.
const (
	maxOrderNo  = 64
	maxTraceID  = 128
	maxURL      = 2048
	maxFormText = 512
)

// formKey is the form of a manual_form_schema key, and so of a
// manual_form_data key.
var formKey = regexp.MustCompile(`^[a-z0-9_]{1,64}$`)

// CreateOrder is a decoded and checked POST /orders body. Form holds
// manual_form_data, each value as text (a number keeps the digits the shop
// sent); the product's account field, looked up in it, becomes the order's
// account.
type CreateOrder struct {
	SKUID             uint64
	Quantity          int
	Form              map[string]string
	DownstreamOrderNo string
	TraceID           string
	CallbackURL       string
}

// createOrderBody is the request as a shop marshals it, in its field order.
type createOrderBody struct {
	SKUID             json.RawMessage            `json:"sku_id"`
	Quantity          json.RawMessage            `json:"quantity"`
	ManualFormData    map[string]json.RawMessage `json:"manual_form_data"`
	DownstreamOrderNo *string                    `json:"downstream_order_no"`
	TraceID           *string                    `json:"trace_id"`
	CallbackURL       *string                    `json:"callback_url"`
}

// DecodeCreateOrder reads a POST /orders body and checks it: sku_id a whole
// number above 0, quantity 1..maxQuantity, downstream_order_no 1-64
// characters without control characters, callback_url an absolute http or
// https URL, manual_form_data an object of strings and numbers under
// schema-shaped keys. Unknown fields are ignored: a newer shop may send
// more. The error is an *Error: bad_request, or invalid_callback_url.
func DecodeCreateOrder(body []byte, maxQuantity int) (CreateOrder, error) {
	var b createOrderBody
	if err := decodeObject(body, &b); err != nil {
		return CreateOrder{}, err
	}
	var o CreateOrder
	var err error
	if o.SKUID, err = wholeNumber("sku_id", b.SKUID, 1<<53); err != nil {
		return CreateOrder{}, err
	}
	q, err := wholeNumber("quantity", b.Quantity, uint64(maxQuantity))
	if err != nil {
		return CreateOrder{}, err
	}
	o.Quantity = int(q)
	if b.DownstreamOrderNo == nil {
		return CreateOrder{}, BadRequest("downstream_order_no is required")
	}
	if err := checkText("downstream_order_no", *b.DownstreamOrderNo, 1, maxOrderNo); err != nil {
		return CreateOrder{}, err
	}
	o.DownstreamOrderNo = *b.DownstreamOrderNo
	if b.TraceID != nil {
		if err := checkText("trace_id", *b.TraceID, 0, maxTraceID); err != nil {
			return CreateOrder{}, err
		}
		o.TraceID = *b.TraceID
	}
	if b.CallbackURL == nil {
		return CreateOrder{}, InvalidCallbackURL("callback_url is required")
	}
	if _, err := CallbackOrigin(*b.CallbackURL); err != nil {
		return CreateOrder{}, err
	}
	o.CallbackURL = *b.CallbackURL
	if o.Form, err = formData(b.ManualFormData); err != nil {
		return CreateOrder{}, err
	}
	return o, nil
}

// decodeObject decodes one JSON object and nothing after it into v.
func decodeObject(body []byte, v any) error {
	if len(body) > MaxBody {
		return BadRequest(fmt.Sprintf("the body is over %d bytes", MaxBody))
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return BadRequest("the body must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	if err := dec.Decode(v); err != nil {
		return BadRequest("the body is not valid JSON of the expected types: " + typeError(err))
	}
	if dec.InputOffset() != int64(len(trimmed)) {
		return BadRequest("the body holds more than one JSON value")
	}
	return nil
}

// typeError names the field and type of a decoding error, without echoing
// the input.
func typeError(err error) string {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		return te.Field + " must not be a JSON " + te.Value
	case errors.As(err, &se):
		return "syntax error at byte " + strconv.FormatInt(se.Offset, 10)
	}
	return "unreadable"
}

// wholeNumber reads a JSON number that is a whole number in 1..most, written
// without a fraction or exponent ("2", not "2.0" or "2e0" or "\"2\"").
func wholeNumber(field string, raw json.RawMessage, most uint64) (uint64, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, BadRequest(field + " is required")
	}
	n, err := strconv.ParseUint(string(raw), 10, 64)
	if err != nil {
		return 0, BadRequest(field + " must be a whole number")
	}
	if n < 1 || n > most {
		return 0, BadRequest(fmt.Sprintf("%s must be between 1 and %d", field, most))
	}
	return n, nil
}

// checkText checks a string's length in characters and that it is UTF-8
// without control characters.
func checkText(field, s string, least, most int) error {
	if !utf8.ValidString(s) {
		return BadRequest(field + " is not UTF-8")
	}
	n := utf8.RuneCountInString(s)
	if n < least || n > most {
		return BadRequest(fmt.Sprintf("%s must be %d to %d characters", field, least, most))
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return BadRequest(field + " must not hold control characters")
		}
	}
	return nil
}

// CallbackOrigin checks a callback URL (absolute http or https, a host, no
// user info, no fragment) and returns its origin, scheme://host:port with
// the default port written out, to compare with the origin a shop was
// configured with. The error is invalid_callback_url.
func CallbackOrigin(raw string) (string, error) {
	if raw == "" || len(raw) > maxURL {
		return "", InvalidCallbackURL(fmt.Sprintf("callback_url must be an http or https URL of at most %d bytes", maxURL))
	}
	if checkText("callback_url", raw, 1, maxURL) != nil {
		return "", InvalidCallbackURL("callback_url must not hold control characters")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.User != nil || u.Fragment != "" {
		return "", InvalidCallbackURL("callback_url must be an absolute http or https URL with a host, without user info")
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", InvalidCallbackURL("callback_url has a bad port")
	}
	return u.Scheme + "://" + net.JoinHostPort(strings.ToLower(u.Hostname()), port), nil
}

// formData turns manual_form_data into text values: strings as they are,
// numbers as the shop wrote them. Anything else is refused.
func formData(raw map[string]json.RawMessage) (map[string]string, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		if !formKey.MatchString(k) {
			return nil, BadRequest("manual_form_data keys must match ^[a-z0-9_]{1,64}$")
		}
		field := "manual_form_data." + k
		var text string
		switch {
		case len(v) > 0 && v[0] == '"':
			if err := json.Unmarshal(v, &text); err != nil {
				return nil, BadRequest(field + " is not a valid string")
			}
		case len(v) > 0 && (v[0] == '-' || (v[0] >= '0' && v[0] <= '9')):
			var n json.Number
			if err := json.Unmarshal(v, &n); err != nil {
				return nil, BadRequest(field + " is not a valid number")
			}
			text = n.String()
		default:
			return nil, BadRequest(field + " must be a string or a number")
		}
		if err := checkText(field, text, 0, maxFormText); err != nil {
			return nil, err
		}
		out[k] = text
	}
	return out, nil
}
