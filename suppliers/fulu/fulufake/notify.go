package fulufake

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"time"

	"cardflow/suppliers/fulu"
)

// notifyRetries is how many times a callback is sent again after a reply
// other than "success", with a doubling pause from notifyPause.
const (
	notifyRetries = 3
	notifyPause   = 50 * time.Millisecond
)

// note is a callback to send.
type note struct {
	no   string
	body []byte
}

// Callback is one callback delivery attempt, for tests.
type Callback struct {
	No       string // customer_order_no
	Attempt  int    // 1 for the first try of a send
	Accepted bool   // the receiver answered "success"
	Err      string // transport error or the unexpected reply
}

// Callbacks returns every delivery attempt so far.
func (g *Gateway) Callbacks() []Callback {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]Callback(nil), g.callbacks...)
}

// callbackLocked is the signed callback body of a final order.
func (g *Gateway) callbackLocked(o *order) []byte {
	status, desc := "success", "充值成功"
	if o.rec.State == fulu.StateFailed {
		status, desc = "failed", "充值失败"
	}
	n := fulu.Notification{
		OrderID:             o.rec.OrderID,
		ChargeFinishTime:    o.rec.Finished.In(fulu.Beijing).Format(fulu.TimestampLayout),
		CustomerOrderNo:     o.rec.No,
		OrderStatus:         status,
		RechargeDescription: desc,
		ProductID:           strconv.FormatInt(o.rec.ProductID, 10),
		Price:               o.rec.Price.String() + "00",
		BuyNum:              strconv.Itoa(o.rec.BuyNum),
	}
	n.Sign, _ = fulu.Sign(n, g.secret)
	b, _ := fulu.CompactJSON(n)
	return b
}

// notifyAsync delivers callbacks in the background.
func (g *Gateway) notifyAsync(notes []note) {
	if len(notes) == 0 {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return
	}
	for _, n := range notes {
		g.wg.Add(1)
		go func() {
			defer g.wg.Done()
			g.deliver(n)
		}()
	}
}

// deliver posts one callback, retrying until the receiver answers "success"
// or the retries are spent.
func (g *Gateway) deliver(n note) {
	pause := notifyPause
	for attempt := 1; attempt <= 1+notifyRetries; attempt++ {
		err := g.post(n.body)
		g.mu.Lock()
		g.callbacks = append(g.callbacks, Callback{No: n.no, Attempt: attempt, Accepted: err == "", Err: err})
		g.mu.Unlock()
		if err == "" || attempt > notifyRetries {
			return
		}
		t := time.NewTimer(pause)
		select {
		case <-t.C:
		case <-g.ctx.Done():
			t.Stop()
			return
		}
		pause *= 2
	}
}

// post sends a callback body; "" means the receiver accepted it.
func (g *Gateway) post(body []byte) string {
	req, err := http.NewRequestWithContext(g.ctx, http.MethodPost, g.notifyURL, bytes.NewReader(body))
	if err != nil {
		return err.Error()
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	resp, err := g.notifyHTTP.Do(req)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	reply, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if resp.StatusCode != http.StatusOK || string(reply) != "success" {
		return "reply " + strconv.Itoa(resp.StatusCode) + " " + strconv.Quote(string(reply))
	}
	return ""
}
