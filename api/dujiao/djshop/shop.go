package djshop

import (
	"net/http"
	"strings"
	"time"

	"cardflow/api/dujiao"
)

// Shop is one Dujiao-Next shop connected to an upstream with an api key
// and secret. Its methods in client.go call the upstream; ServeHTTP is its
// callback endpoint (receiver.go). It keeps each procurement's state and
// every broken promise it sees.
type Shop struct {
	BaseURL     string // the upstream's root, which may carry a path prefix
	APIKey      string
	Secret      []byte
	CallbackURL string // sent with every order
	HTTP        *http.Client
	Now         func() time.Time

	book[Received] // by downstream order number
}

// New returns a shop that calls baseURL with apiKey and secret.
func New(baseURL, apiKey string, secret []byte) *Shop {
	return &Shop{BaseURL: baseURL, APIKey: apiKey, Secret: secret}
}

// Procurement is the shop's record of one order placed upstream.
type Procurement struct {
	DownstreamOrderNo string
	OrderID           uint   // the upstream's order id, once accepted
	OrderNo           string // the upstream's order number, once accepted
	Status            string // accepted, delivered, canceled, refunded …
	Payload           string // the keys, once delivered
	Deliveries        int    // fulfillments created: never more than one
	Callbacks         int    // callbacks applied to it
}

// accepted records the answer to an order. A repeat must name the same
// upstream order.
func (s *Shop) accepted(no string, a Accepted) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.procs[no]
	if p.OrderID != 0 && p.OrderID != a.OrderID {
		s.problems = append(s.problems, "order "+no+" accepted twice under different upstream ids")
	}
	p.OrderID, p.OrderNo = a.OrderID, a.OrderNo
	if p.Status == "pending" {
		p.Status = "accepted"
	}
}

// polled applies what a poll of an order reported.
func (s *Shop) polled(o Order) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.procs {
		if p.OrderID == o.OrderID && o.OrderID != 0 {
			s.apply(p, "poll", o.Status, o.Fulfillment)
			return
		}
	}
}

// apply moves a procurement by a reported status and notes a broken
// promise. Called with s.mu held.
func (s *Shop) apply(p *Procurement, via, status string, f *Fulfillment) {
	var payload *string
	if f != nil {
		payload = &f.Payload
	}
	if problem := settle(p, via, status, payload); problem != "" {
		s.problems = append(s.problems, problem)
	}
}

// settle moves a procurement by a reported status, as a shop does: a
// delivery creates one fulfillment, once; a repeat changes nothing. payload
// is the delivery's, nil when it came without one. It returns the broken
// promise it saw, if any.
func settle(p *Procurement, via, status string, payload *string) string {
	no := p.DownstreamOrderNo
	switch strings.ToLower(status) {
	case "delivered", "completed", "fulfilled":
		if payload == nil || strings.TrimSpace(*payload) == "" {
			return via + " reported order " + no + " delivered without its keys"
		}
		if p.Deliveries > 0 {
			if *payload != p.Payload {
				return via + " reported order " + no + " delivered again with other keys"
			}
			return ""
		}
		p.Status, p.Payload, p.Deliveries = dujiao.StatusDelivered, *payload, 1
	case "canceled", "cancelled":
		if p.Deliveries > 0 {
			return via + " reported order " + no + " canceled after its delivery"
		}
		p.Status = dujiao.StatusCanceled
	case "refunded", "partially_refunded":
		p.Status = status
	}
	return ""
}

// Delivered says whether an order has its keys.
func (s *Shop) Delivered(downstreamOrderNo string) bool {
	p, ok := s.Procurement(downstreamOrderNo)
	return ok && p.Deliveries > 0
}
