package dujiao

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"cardflow/api/docking"
	"cardflow/config"
	"cardflow/processor"
	"cardflow/processor/outbox"
	"cardflow/storage"
)

// The generic webhook's server side (docs/docking.md): the endpoint a
// Dujiao-Next shop of protocol dujiao-webhook POSTs its paid orders to, and
// the sender of their callbacks.

// WebhookPath is where a shop's webhook orders arrive. Its base_url is the
// whole endpoint URL, so the path is cardflow's choice; it sits in the tree
// the Dujiao-Next API already keeps.
const WebhookPath = Prefix + "/webhook"

// WebhookEngine is the order engine as the webhook uses it.
type WebhookEngine interface {
	Submit(processor.Request) (*storage.Order, bool, error)
	OrderByExternal(storefront, externalID string) (*storage.Order, error)
}

// Webhook serves the generic webhook of the dujiao-webhook shops and sends
// their callbacks.
type Webhook struct {
	shopSet
	tokens map[string][]byte // storefront id → the Bearer token it sends
}

// NewWebhook builds the webhook of the configured shops, from the options
// of the upstream API: a Shop's Secret is the Bearer token the shop sends
// and its callbacks carry back, and its CallbackURL's origin the one every
// order's callback_url must have. A shop whose callback_url has no origin,
// or two shops with one token, is an error: the token is all that tells
// shops apart.
func NewWebhook(opts Options) (*Webhook, error) {
	b, err := newShopSet(opts, "dujiao-webhook")
	if err != nil {
		return nil, err
	}
	w := &Webhook{shopSet: b, tokens: make(map[string][]byte, len(b.shops))}
	seen := make(map[string]string, len(opts.Shops))
	for _, s := range opts.Shops {
		if other, dup := seen[string(s.Secret)]; dup {
			return nil, fmt.Errorf("dujiao-webhook shops %s and %s have the same secret; each shop needs its own", other, s.ID)
		}
		seen[string(s.Secret)] = s.ID
		w.tokens[s.ID] = s.Secret
	}
	return w, nil
}

// Callbacks are the senders of the shops' callbacks, by storefront id, for
// processor.Options.DockingCallbacks.
func (w *Webhook) Callbacks() map[string]outbox.Deliverer {
	out := make(map[string]outbox.Deliverer, len(w.shops))
	for id := range w.shops {
		out[id] = (*webhookSender)(w)
	}
	return out
}

// Handler serves POST WebhookPath over engine. Every answer, a panic
// included, is the protocol's JSON.
func (w *Webhook) Handler(engine WebhookEngine) http.Handler {
	return &webhookAPI{Webhook: w, engine: engine}
}

type webhookAPI struct {
	*Webhook
	engine WebhookEngine
}

// The webhook's refusals of a caller. A shop takes every 4xx but 408 and
// 429 as final, so a bad token is not hammered.
var (
	errBadBearer = &Error{http.StatusUnauthorized, CodeUnauthorized, "invalid bearer token"}
	errNoKey     = BadRequest("the Idempotency-Key header must carry the order_no")
)

func (a *webhookAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer docking.Recover(w, r, a.log, writeInternal)
	switch {
	case r.URL.Path != WebhookPath:
		WriteError(w, ErrNoEndpoint)
		return
	case r.Method != http.MethodPost:
		WriteError(w, errMethod)
		return
	}
	// What the headers alone refuse is refused before the body is read,
	// and the connection closed: an unknown caller cannot hold it.
	id, ok := MatchBearer(r.Header.Get("Authorization"), a.tokens)
	if !ok {
		w.Header().Set("Connection", "close")
		WriteError(w, errBadBearer)
		return
	}
	s := a.shops[id]
	body, err := readBody(w, r)
	if err != nil {
		WriteError(w, err)
		return
	}
	key := r.Header.Get(HeaderIdempotencyKey)
	in, err := DecodeWebhook(body, key, a.catalog.maxQuantity)
	if err == nil && in.Event == EventOrderCreated && key == "" {
		err = errNoKey
	}
	if err != nil {
		a.fail(w, s, err)
		return
	}
	if in.Event == EventConnectionTest {
		a.answer(w, nil)
		return
	}
	o, err := a.order(s, in)
	if err != nil {
		a.fail(w, s, err)
		return
	}
	a.answer(w, WebhookAccepted{OrderNo: orderNo(o)})
	a.answered.add(o.ID, a.now())
}

// order is the order of a webhook's order_no (docking.Intake): the shop
// retries with the same key.
func (a *webhookAPI) order(s *shop, in WebhookOrder) (*storage.Order, error) {
	req := CreateOrder{DownstreamOrderNo: in.OrderNo, TraceID: in.TraceID, CallbackURL: in.CallbackURL, Quantity: in.Quantity}
	if err := s.check(req); err != nil {
		return nil, err
	}
	return docking.Intake(a.engine, s.ID, in.OrderNo, func() (*storage.Order, error) {
		p, ok := a.catalog.findCode(in.SKUCode)
		if !ok {
			return nil, Refused(CodeSKUUnavailable, "no product has sku_code "+strconv.Quote(in.SKUCode)+"; set the SKU's code to cardflow's sku or product id")
		}
		return placeOrder(a.engine, s, req, p, accountOf(p, in.Form))
	})
}

// answer writes a success, logging a value that cannot be written.
func (a *webhookAPI) answer(w http.ResponseWriter, v any) {
	if err := WriteOK(w, v); err != nil {
		a.log.Error().Err(err).Msg("webhook answer not written")
	}
}

// fail answers err and logs what is cardflow's trouble, not the shop's.
func (a *webhookAPI) fail(w http.ResponseWriter, s *shop, err error) {
	var e *Error
	if !errors.As(err, &e) || e.Status >= 500 {
		a.log.Error().Err(err).Str("storefront", s.ID).Msg("webhook order failed")
	}
	WriteError(w, err)
}

// Tree serves the tree under Prefix to both kinds of Dujiao-Next shop: the
// webhook at WebhookPath and the upstream API everywhere else. Either may be
// nil when no shop of its kind is configured; a path nobody serves is 404
// not_found, in the protocol's JSON.
func Tree(api, webhook http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == WebhookPath && webhook != nil:
			webhook.ServeHTTP(w, r)
		case r.URL.Path != WebhookPath && api != nil:
			api.ServeHTTP(w, r)
		default:
			WriteError(w, ErrNoEndpoint)
		}
	})
}

// findCode returns the product a webhook order's sku_code names. The
// shop's product and SKU ids are its own, but it lets its admin set each
// SKU's code: cardflow's sku ("qb-10") or docked product id ("1001").
func (c *catalog) findCode(code string) (config.Product, bool) {
	if p, ok := c.BySKU(code); ok {
		return p, true
	}
	if id, ok := ParseID(code); ok {
		return c.ByID(id)
	}
	return config.Product{}, false
}

// accountOf is a top-up's account from a webhook order's form. The form is
// the shop's own product's, so its key is the shop's choice: the field
// named account, or else the form's only field.
func accountOf(p config.Product, form map[string]string) string {
	if p.Kind != config.KindDirect {
		return ""
	}
	if v, ok := form[AccountField]; ok || len(form) != 1 {
		return v
	}
	for _, v := range form {
		return v
	}
	return ""
}
