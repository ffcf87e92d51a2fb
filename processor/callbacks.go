package processor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"

	"github.com/rs/zerolog"

	"cardflow/internal/outbound"
	"cardflow/internal/signing"
	"cardflow/processor/view"
	"cardflow/storage"
)

var errNoHandler = errors.New("no handler for this event kind")

// callbacks delivers order events to storefronts, signed like requests.
type callbacks struct {
	engine *Engine
	client *http.Client
}

func (cb *callbacks) Deliver(ctx context.Context, ev *storage.Event) error {
	e := cb.engine
	sf, ok := e.storefronts[ev.Target]
	if !ok {
		return fmt.Errorf("storefront %q is not configured", ev.Target)
	}
	o, err := e.Order(ev.OrderID)
	if err != nil {
		return fmt.Errorf("read order: %w", err)
	}
	v, err := view.Of(o, view.Snapshot{Status: ev.Status, Reason: ev.Reason, UpdatedAt: ev.UpdatedAt,
		DeliveredAt: ev.DeliveredAt, CardSet: ev.CardSet}, e.store.Vault())
	if err != nil {
		return fmt.Errorf("render order: %w", err)
	}
	cbody := view.Callback{EventID: ev.ID, Type: ev.Type, CreatedAt: view.Stamp(ev.CreatedAt), Order: v}
	body := cbody.AppendJSON(make([]byte, 0, 1024))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sf.CallbackURL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build callback request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	signing.Apply(req, sf.ID, sf.Secret, e.now(), body)
	resp, err := cb.client.Do(req)
	if err != nil {
		var moved *outbound.RedirectError
		if errors.As(err, &moved) {
			return fmt.Errorf("callback: %w", moved) // names both URLs; the outbox alerts at once
		}
		return fmt.Errorf("post callback: %w", outbound.Clean(err))
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // reuse the connection
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("callback answered %s", resp.Status)
	}
	return nil
}

// delayed tells the storefront that an order is delayed by cause (a wait
// reason, or duplicate_card for a rebuy), once per cause: an order looked at
// again while it waits for the same thing has nothing new to say. The causes
// told are kept on the order, written with it in the same transaction, so a
// restart does not tell them again; a move to any other state (which has its
// own callback) forgets them.
func (c *effects) delayed(tx *storage.Tx, o *storage.Order, cause string) error {
	if slices.Contains(o.DelayCauses, cause) {
		return nil
	}
	if err := c.callback(tx, o, CallbackDelayed); err != nil {
		return err
	}
	o.DelayCauses = append(o.DelayCauses, cause)
	return nil
}

// logAlerts is the alert receiver when no operator channel is wired: the
// alert is logged and acknowledged.
type logAlerts struct{ log zerolog.Logger }

func (l logAlerts) Deliver(_ context.Context, ev *storage.Event) error {
	if a := ev.Alert; a != nil {
		l.log.Warn().Str("alert", a.Key).Str("type", a.Type).Bool("resolved", a.Resolved).
			Uint64("order_id", a.OrderID).Str("sku", a.SKU).Str("target", a.Target).Str("detail", a.Detail).
			Time("raised_at", ev.CreatedAt).Msg("alert")
	}
	return nil
}
