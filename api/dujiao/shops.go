package dujiao

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/rs/zerolog"

	"cardflow/internal/outbound"
	"cardflow/processor"
	"cardflow/processor/outbox"
	"cardflow/storage"
)

// shopSet is what the upstream API and the generic webhook share: the
// configured shops with their callback origins, the catalogue, the store,
// and how a callback is posted.
type shopSet struct {
	protocol string // for errors: dujiao-next, dujiao-webhook
	shops    map[string]*shop
	catalog  *catalog
	store    *storage.Store
	client   *http.Client
	hold     time.Duration
	answered *answerLog
	now      func() time.Time
	log      zerolog.Logger
}

// newShopSet builds the shared part of either protocol's server. A shop
// whose callback_url has no origin is an error.
func newShopSet(opts Options, protocol string) (shopSet, error) {
	b := shopSet{
		protocol: protocol, shops: make(map[string]*shop, len(opts.Shops)),
		catalog: newCatalog(opts.Products, opts.Suppliers), store: opts.Store, hold: cmp.Or(opts.Hold, DefaultHold),
		now: opts.Now, log: opts.Log.With().Str("component", protocol).Logger(),
	}
	if b.now == nil {
		b.now = time.Now
	}
	b.catalog.since = At(b.now().UTC().Truncate(time.Second))
	b.answered = newAnswerLog(b.hold)
	client := opts.HTTPClient
	if client == nil {
		client = outbound.New(outbound.Options{Timeout: 10 * time.Second, IdleConnsPerHost: 16})
	}
	b.client = outbound.Guard(client)
	for _, s := range opts.Shops {
		origin, err := CallbackOrigin(s.CallbackURL)
		if err != nil {
			return b, fmt.Errorf("%s shop %s: callback_url: %w", protocol, s.ID, err)
		}
		b.shops[s.ID] = &shop{Shop: s, origin: origin}
	}
	return b, nil
}

// callbackForm is how one protocol writes, signs and reads a callback.
type callbackForm struct {
	body    func(o *storage.Order, ev *storage.Event, now time.Time) ([]byte, error)
	sign    func(h http.Header, s *shop, now time.Time, body []byte)
	message func(answer []byte) string // what a refusal says, "" when it says nothing readable
}

// post sends the callback of a delivery or a refund to the order's own
// callback URL, no sooner than hold after the order was last answered
// (outbox.NotBefore), and takes only HTTP 200 with ok:true. Other events
// (delayed, failed) are acknowledged without a call: a failed order is
// still the operators' to retry or refund, and the shop hears of that
// outcome. The outbox retries a callback the shop did not take
// (docs/docking.md), and the shop applies a repeat once.
func (b *shopSet) post(ctx context.Context, ev *storage.Event, form callbackForm) error {
	if ev.Type != processor.CallbackDelivered && ev.Type != processor.CallbackRefunded {
		return nil
	}
	s, ok := b.shops[ev.Target]
	if !ok {
		return fmt.Errorf("%s shop %q is not configured", b.protocol, ev.Target)
	}
	var o *storage.Order
	err := b.store.View(func(tx *storage.Tx) error {
		var err error
		o, err = tx.Order(ev.OrderID)
		return err
	})
	if err != nil {
		return fmt.Errorf("read order %d: %w", ev.OrderID, err)
	}
	now := b.now()
	if at := b.answered.holdUntil(o, b.hold); now.Before(at) {
		return &outbox.NotBefore{At: at}
	}
	to := o.Extra[ExtraCallbackURL]
	if to == "" {
		return fmt.Errorf("order %d has no callback_url", o.ID)
	}
	body, err := form.body(o, ev, now)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, to, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build callback request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	form.sign(req.Header, s, now, body)
	resp, err := b.client.Do(req)
	if err != nil {
		if moved := (*outbound.RedirectError)(nil); errors.As(err, &moved) {
			return fmt.Errorf("callback: %w", moved)
		}
		return fmt.Errorf("post callback: %w", outbound.Clean(err))
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return fmt.Errorf("read callback answer: %w", err)
	}
	if !CallbackAccepted(resp.StatusCode, answer) {
		return fmt.Errorf("callback answered %s: %s", resp.Status, brief(answer, form.message))
	}
	return nil
}

// brief is a shop's refusal of a callback, short, for the outbox's error
// and the operators' alert: what message reads in it, or else the start of
// whatever the shop answered.
func brief(answer []byte, message func([]byte) string) string {
	if m := message(answer); m != "" {
		answer = []byte(m)
	}
	if len(answer) > 120 {
		answer = answer[:120]
	}
	return fmt.Sprintf("%q", answer)
}
