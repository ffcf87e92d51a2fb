package outbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"cardflow/internal/outbound"
	"cardflow/internal/signing"
	"cardflow/processor/view"
	"cardflow/storage"
)

// Storefront is what the outbox needs to call a storefront back.
type Storefront struct {
	ID          string
	Secret      []byte
	CallbackURL string
}

// callbacks delivers order events to storefronts, signed like requests.
type callbacks struct {
	store       *storage.Store
	storefronts map[string]Storefront
	client      *http.Client
	now         func() time.Time
}

func newCallbacks(store *storage.Store, storefronts []Storefront, client *http.Client, now func() time.Time) *callbacks {
	if client == nil {
		// Keep a connection per concurrent callback: the default of two idle
		// connections per host would reconnect for almost every callback.
		client = outbound.New(outbound.Options{Timeout: 10 * time.Second, IdleConnsPerHost: concurrency})
	}
	cb := &callbacks{store: store, storefronts: make(map[string]Storefront, len(storefronts)),
		client: outbound.Guard(client), // a callback never follows a redirect
		now:    now}
	for _, s := range storefronts {
		cb.storefronts[s.ID] = s
	}
	return cb
}

func (cb *callbacks) Deliver(ctx context.Context, ev *storage.Event) error {
	sf, ok := cb.storefronts[ev.Target]
	if !ok {
		return fmt.Errorf("storefront %q is not configured", ev.Target)
	}
	o, claim, err := readOrder(cb.store, ev)
	if err != nil {
		return err
	}
	v, err := view.Of(o, view.Snapshot{Status: ev.Status, Reason: ev.Reason, UpdatedAt: ev.UpdatedAt,
		DeliveredAt: ev.DeliveredAt, CardSet: ev.CardSet}, cb.store.Vault())
	if err != nil {
		return fmt.Errorf("render order: %w", err)
	}
	cbody := view.Callback{EventID: ev.ID, Type: ev.Type, CreatedAt: view.Stamp(ev.CreatedAt), Order: v}
	if claim != nil {
		// A resolved claim does not change: read now, it is the claim as
		// resolved.
		cv, err := view.ClaimOf(claim, o, cb.store.Vault())
		if err != nil {
			return fmt.Errorf("render claim: %w", err)
		}
		cbody.Claim = &cv
	}
	body := cbody.AppendJSON(make([]byte, 0, 1024))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sf.CallbackURL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build callback request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	signing.Apply(req, sf.ID, sf.Secret, cb.now(), body)
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

// byStorefront sends a callback in its storefront's protocol: a docking
// shop's own, or cardflow's.
type byStorefront struct {
	docking map[string]Deliverer
	native  Deliverer
}

func (b byStorefront) Deliver(ctx context.Context, ev *storage.Event) error {
	if d, ok := b.docking[ev.Target]; ok {
		return d.Deliver(ctx, ev)
	}
	return b.native.Deliver(ctx, ev)
}
