package dujiao

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"cardflow/processor"
	"cardflow/storage"
)

// webhookSender delivers a webhook shop's callbacks for the outbox
// (shopSet.post), with the shop's token as Bearer. A shop never polls a
// webhook order, so these are the only news it gets.
type webhookSender Webhook

func (w *webhookSender) Deliver(ctx context.Context, ev *storage.Event) error {
	return w.post(ctx, ev, callbackForm{body: w.callbackBody, message: webhookShopMessage,
		sign: func(h http.Header, s *shop, _ time.Time, _ []byte) {
			h.Set("Authorization", "Bearer "+string(s.Secret))
		}})
}

// callbackBody is the callback of ev: a delivery carries the card set the
// event names, a refund says whether keys went out before it. The shop
// knows its order by its own number, the order's external id.
func (w *webhookSender) callbackBody(o *storage.Order, ev *storage.Event, _ time.Time) ([]byte, error) {
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

// webhookShopMessage is a webhook shop's error_code and error_message.
func webhookShopMessage(answer []byte) string {
	var a struct {
		Code    string `json:"error_code"`
		Message string `json:"error_message"`
	}
	if json.Unmarshal(answer, &a) != nil || a.Code == "" {
		return ""
	}
	return a.Code + ": " + a.Message
}
