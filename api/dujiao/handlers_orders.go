package dujiao

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"

	"cardflow/api/docking"
	"cardflow/config"
	"cardflow/processor"
	"cardflow/storage"
)

// Where an order keeps what its shop sent beside the goods: the URL its
// callbacks go to and the shop's trace id (Request.Extra, values of at
// most maxExtra bytes).
const (
	ExtraCallbackURL = "dujiao_callback_url"
	ExtraTraceID     = "dujiao_trace_id"
	maxExtra         = 256
)

// downstreamNo is the form of an order number cardflow keeps as an
// external id; a Dujiao-Next shop's ("DJ20260301120000ABCD-01") has it.
var downstreamNo = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)

// createOrder is POST /orders. The shop's downstream_order_no is the
// order's external id, taken in as docking.Intake says. A supplier's
// trouble is no refusal: the order is accepted and delivered later. Only an
// order cardflow could not store is answered with a status other than 200.
func (a *api) createOrder(w http.ResponseWriter, r *http.Request, s *shop, body []byte) {
	req, err := DecodeCreateOrder(body, a.catalog.maxQuantity)
	if err == nil {
		err = s.check(req)
	}
	if err != nil {
		a.fail(w, r, s, err)
		return
	}
	o, err := docking.Intake(a.engine, s.ID, req.DownstreamOrderNo, func() (*storage.Order, error) { return a.submit(s, req) })
	if err != nil {
		a.fail(w, r, s, err)
		return
	}
	a.ok(w, r, Accepted{OrderID: o.ID, OrderNo: orderNo(o), Status: acceptedStatus(o), Amount: o.Amount, Currency: Currency})
	a.answered.add(o.ID, a.now())
}

// check refuses what cardflow will not keep or call: a callback URL off
// the shop's configured origin or longer than an order keeps, an order
// number that is not an external id.
func (s *shop) check(req CreateOrder) error {
	if origin, _ := CallbackOrigin(req.CallbackURL); origin != s.origin {
		return InvalidCallbackURL("callback_url must be on the origin (scheme, host and port) configured for this shop")
	}
	if len(req.CallbackURL) > maxExtra {
		return InvalidCallbackURL(fmt.Sprintf("callback_url must be at most %d bytes", maxExtra))
	}
	if len(req.TraceID) > maxExtra {
		return BadRequest(fmt.Sprintf("trace_id must be at most %d bytes", maxExtra))
	}
	if !downstreamNo.MatchString(req.DownstreamOrderNo) {
		return BadRequest("downstream_order_no must be 1-64 characters of A-Z a-z 0-9 . _ : -")
	}
	return nil
}

// submit places a new order for the shop.
func (a *api) submit(s *shop, req CreateOrder) (*storage.Order, error) {
	p, ok := a.catalog.ByID(req.SKUID)
	if !ok {
		return nil, Refused(CodeSKUUnavailable, MsgSKUUnavailable)
	}
	var account string
	if p.Kind == config.KindDirect {
		account = req.Form[AccountField]
	}
	return placeOrder(a.engine, s, req, p, account)
}

// placeOrder places a new order of p, for a shop of either protocol,
// keeping beside it the callback URL and the trace id the shop sent.
func placeOrder(e submitter, s *shop, req CreateOrder, p config.Product, account string) (*storage.Order, error) {
	in := processor.Request{Storefront: s.ID, ExternalID: req.DownstreamOrderNo, SKU: p.SKU, Quantity: req.Quantity,
		Account: account, Extra: map[string]string{ExtraCallbackURL: req.CallbackURL}}
	if req.TraceID != "" {
		in.Extra[ExtraTraceID] = req.TraceID
	}
	o, _, err := e.Submit(in)
	return o, submitError(err)
}

// submitter is the engine as placeOrder uses it.
type submitter interface {
	Submit(processor.Request) (*storage.Order, bool, error)
}

// submitError says an engine refusal in the protocol's words.
func submitError(err error) error {
	var in *processor.InputError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, processor.ErrInsufficientBalance):
		return Refused(CodeInsufficientBalance, MsgInsufficientBalance)
	case errors.As(err, &in) && (in.Code == processor.CodeUnknownSKU || in.Code == processor.CodeNotDocked):
		return Refused(CodeSKUUnavailable, MsgSKUUnavailable)
	case errors.As(err, &in):
		return BadRequest(inputField(in.Field) + " " + in.Msg)
	case errors.Is(err, processor.ErrStopped):
		return errStopping
	}
	return fmt.Errorf("submit order: %w", err)
}

// errStopping answers an order that came while cardflow shuts down: the
// shop retries it against the restarted process.
var errStopping = &Error{http.StatusServiceUnavailable, CodeInternal, "cardflow is restarting; try again"}

// inputField names an engine field as the shop sent it.
func inputField(field string) string {
	switch field {
	case "account":
		return "manual_form_data." + AccountField
	case "external_id":
		return "downstream_order_no"
	}
	return field
}

// getOrder is GET /orders/{id}: only the shop's own orders.
func (a *api) getOrder(w http.ResponseWriter, r *http.Request, s *shop, _ []byte) {
	o, err := a.ownOrder(r, s)
	if err != nil {
		a.fail(w, r, s, err)
		return
	}
	answer, err := a.catalog.orderAnswer(o, a.engine.Vault())
	if err != nil {
		a.fail(w, r, s, err)
		return
	}
	a.ok(w, r, answer)
}

var errOrderNotFound = NotFound(CodeOrderNotFound, "no such order")

// ownOrder reads the order of the path's id, if it is the shop's.
func (a *api) ownOrder(r *http.Request, s *shop) (*storage.Order, error) {
	id, ok := ParseID(r.PathValue("id"))
	if !ok {
		return nil, errOrderNotFound
	}
	o, err := docking.OwnOrder(a.engine, s.ID, id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, errOrderNotFound
	}
	return o, err
}

// cancelOrder is POST /orders/{id}/cancel: granted while nothing has been
// bought or taken for the order (its charge comes back), refused with 409
// after. A cancel of an order already canceled is granted again.
func (a *api) cancelOrder(w http.ResponseWriter, r *http.Request, s *shop, _ []byte) {
	id, ok := ParseID(r.PathValue("id"))
	if !ok {
		a.fail(w, r, s, errOrderNotFound)
		return
	}
	o, err := a.engine.Cancel(s.ID, id)
	var st *processor.StateError
	switch {
	case errors.As(err, &st) && statusOf(st.Order) == StatusCanceled:
		o, err = st.Order, nil
	case errors.As(err, &st):
		err = ErrCancelNotAllowed
	case errors.Is(err, storage.ErrNotFound):
		err = errOrderNotFound
	}
	if err != nil {
		a.fail(w, r, s, err)
		return
	}
	a.ok(w, r, Canceled{OrderID: o.ID, OrderNo: orderNo(o), Status: StatusCanceled})
}
