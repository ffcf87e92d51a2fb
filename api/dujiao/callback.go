package dujiao

import (
	"bytes"
	"encoding/json"
	"net/http"
	"time"
)

// Callback events: a shop is told order.fulfilled for a delivery and
// order.status_changed for anything else.
const (
	EventFulfilled     = "order.fulfilled"
	EventStatusChanged = "order.status_changed"
)

// EventFor is the event of a callback that reports status.
func EventFor(status string) string {
	if isDelivered(status) {
		return EventFulfilled
	}
	return EventStatusChanged
}

// Callback is the body cardflow POSTs to an order's callback_url, signed
// over CallbackPath with the shop's api key and secret. A shop finds its
// order by downstream_order_no. Build it with NewCallback.
type Callback struct {
	Event             string       `json:"event"`
	OrderID           uint64       `json:"order_id"`
	OrderNo           string       `json:"order_no"`
	DownstreamOrderNo string       `json:"downstream_order_no"`
	Status            string       `json:"status"`
	Fulfillment       *Fulfillment `json:"fulfillment"`
	Timestamp         int64        `json:"timestamp"`
}

// NewCallback reports an order's status at now, with the event its status
// calls for. A delivered status needs f with the keys (MarshalJSON refuses
// it otherwise).
func NewCallback(orderID uint64, orderNo, downstreamOrderNo, status string, f *Fulfillment, now time.Time) Callback {
	return Callback{Event: EventFor(status), OrderID: orderID, OrderNo: orderNo,
		DownstreamOrderNo: downstreamOrderNo, Status: status, Fulfillment: f, Timestamp: now.Unix()}
}

// MarshalJSON writes the callback, or fails for a delivered one without
// keys: a shop that is told "delivered" without them marks its order
// delivered and empty, and stops asking.
func (c Callback) MarshalJSON() ([]byte, error) {
	if isDelivered(c.Status) && !c.Fulfillment.hasKeys() {
		return nil, errNoKeys
	}
	type plain Callback
	return json.Marshal(plain(c))
}

// CallbackAccepted says whether a shop took a callback: HTTP 200 and
// "ok":true. Anything else is tried again later; a shop answers 200 with
// ok:false for a callback it refused.
func CallbackAccepted(status int, body []byte) bool {
	if status != http.StatusOK {
		return false
	}
	var ack struct {
		OK bool `json:"ok"`
	}
	return json.Unmarshal(bytes.TrimSpace(body), &ack) == nil && ack.OK
}
