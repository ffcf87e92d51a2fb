package dujiao

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"cardflow/internal/outbound"
	"cardflow/processor"
	"cardflow/processor/outbox"
	"cardflow/storage"
)

// webhookSender delivers a webhook shop's callbacks for the outbox: a
// delivery with its keys, and a refund (canceled, or refunded after a
// delivery), each POSTed to the order's own callback URL with the shop's
// token as Bearer. A shop never polls a webhook order, so these are the
// only news it gets; the outbox retries one the shop did not take, and the
// shop applies a repeat once. Other events (delayed, failed) are
// acknowledged without a call: a failed order is still the operators' to
// retry or refund, and the shop hears of that outcome.
type webhookSender Webhook

func (w *webhookSender) Deliver(ctx context.Context, ev *storage.Event) error {
	if ev.Type != processor.CallbackDelivered && ev.Type != processor.CallbackRefunded {
		return nil
	}
	s, ok := w.shops[ev.Target]
	if !ok {
		return fmt.Errorf("dujiao-webhook shop %q is not configured", ev.Target)
	}
	var o *storage.Order
	err := w.store.View(func(tx *storage.Tx) error {
		var err error
		o, err = tx.Order(ev.OrderID)
		return err
	})
	if err != nil {
		return fmt.Errorf("read order %d: %w", ev.OrderID, err)
	}
	if at := w.answered.holdUntil(o, w.hold); w.now().Before(at) {
		return &outbox.NotBefore{At: at}
	}
	to := o.Extra[ExtraCallbackURL]
	if to == "" {
		return fmt.Errorf("order %d has no callback_url", o.ID)
	}
	body, err := w.callbackBody(o, ev)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, to, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build callback request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+string(s.Secret))
	resp, err := w.client.Do(req)
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
		return fmt.Errorf("callback answered %s: %s", resp.Status, webhookShopMessage(answer))
	}
	return nil
}

// callbackBody is the callback of ev: a delivery carries the card set the
// event names, a refund says whether keys went out before it. The shop
// knows its order by its own number, the order's external id.
func (w *webhookSender) callbackBody(o *storage.Order, ev *storage.Event) ([]byte, error) {
	status, lines := statusOf(o), []string(nil)
	if ev.Type == processor.CallbackDelivered {
		var err error
		status = StatusDelivered
		if lines, err = deliveryLines(o, ev.CardSet, w.store.Vault()); err != nil {
			return nil, err
		}
	}
	body, err := json.Marshal(NewWebhookCallback(o.ExternalID, status, lines, ev.DeliveredAt))
	if err != nil {
		return nil, fmt.Errorf("write callback of order %d: %w", o.ID, err)
	}
	return body, nil
}

// webhookShopMessage is a shop's refusal of a callback, short, for the
// outbox's error and the operators' alert: its error_code and
// error_message, or the start of whatever it answered.
func webhookShopMessage(answer []byte) string {
	var a struct {
		Code    string `json:"error_code"`
		Message string `json:"error_message"`
	}
	if json.Unmarshal(answer, &a) == nil && a.Code != "" {
		answer = []byte(a.Code + ": " + a.Message)
	}
	if len(answer) > 120 {
		answer = answer[:120]
	}
	return fmt.Sprintf("%q", answer)
}
