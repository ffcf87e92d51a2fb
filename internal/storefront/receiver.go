package storefront

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	// A drop-in for encoding/json that decodes a callback in a quarter of
	// the time: `cardflow bench` runs this storefront on the cores it
	// measures cardflow on, so its own CPU per order is kept low.
	json "github.com/segmentio/encoding/json"

	"cardflow/internal/signing"
)

// Callback is the body cardflow POSTs to callback_url.
type Callback struct {
	EventID   string `json:"event_id"`
	Type      string `json:"type"`
	CreatedAt string `json:"created_at"`
	Order     Order  `json:"order"`
	Claim     *Claim `json:"claim,omitempty"` // claim.resolved: the claim
}

// Receiver is a storefront's callback endpoint. It verifies each callback's
// signature, acknowledges it (or fails a share of them on purpose), and keeps
// what a storefront would need to check cardflow's promises: every order's
// callbacks, the cards each order got, and who got each card.
type Receiver struct {
	Secrets map[string][]byte // storefront id → secret
	// FailRate is the share of valid callbacks answered 500, for chaos
	// tests; set it before serving, or with SetFailRate while serving.
	FailRate float64
	Now      func() time.Time
	// OnCallback, if set, sees every accepted callback (after recording).
	OnCallback func(Callback)

	mu       sync.Mutex
	events   map[string]Callback   // event id → the callback as first received
	byOrder  map[string][]Callback // order id → callbacks in arrival order, repeats left out
	cardSets map[string]string     // order id → first delivered card set
	cardTo   map[string]string     // card number → order id
	direct   map[string]bool       // SKUs delivered without cards (top-ups)
	perUnit  map[string][2]int     // SKU → least and most cards a unit brings; absent: one
	problems []string
	accepted int
	rejected int
	failed   int
	dupes    int
}

// NewReceiver verifies callbacks signed with secrets.
func NewReceiver(secrets map[string][]byte) *Receiver {
	return &Receiver{Secrets: secrets, events: map[string]Callback{}, byOrder: map[string][]Callback{},
		cardSets: map[string]string{}, cardTo: map[string]string{}, direct: map[string]bool{}, perUnit: map[string][2]int{}}
}

// SetDirect names the SKUs that are direct top-ups: their deliveries carry
// no cards, where a card product's carry one per unit.
func (r *Receiver) SetDirect(skus ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range skus {
		r.direct[s] = true
	}
}

// SetCardsPerUnit says how many cards a unit of a card product brings,
// where that is not one: cardflow buys `units` supplier units per product
// unit (a 100-yuan card as two 50s) and delivers every card it bought,
// while own stock holds whole units. Give each count the product's sources
// bring: an order whose batches came from sources that differ gets a number
// between the least and the most.
func (r *Receiver) SetCardsPerUnit(sku string, counts ...int) {
	if len(counts) == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.perUnit[sku] = [2]int{slices.Min(counts), slices.Max(counts)}
}

// SetFailRate changes FailRate while callbacks arrive (a chaos test turns
// its faults off to let the backlog drain).
func (r *Receiver) SetFailRate(rate float64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.FailRate = rate
}

// failNow draws whether to fail this callback on purpose, and counts it.
func (r *Receiver) failNow() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.FailRate <= 0 || rand.Float64() >= r.FailRate {
		return false
	}
	r.failed++
	return true
}

func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	if err != nil {
		http.Error(w, "read", http.StatusBadRequest)
		return
	}
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	secret, ok := r.Secrets[req.Header.Get(signing.HeaderStorefront)]
	if !ok {
		r.reject(w, "unknown storefront header")
		return
	}
	if _, err := signing.Check(secret, now(), req.Header.Get(signing.HeaderTimestamp), req.Header.Get(signing.HeaderSignature),
		req.Method, req.URL.RequestURI(), body); err != nil {
		r.reject(w, "bad callback signature: "+err.Error())
		return
	}
	var cb Callback
	if err := json.Unmarshal(body, &cb); err != nil || cb.EventID == "" {
		r.reject(w, "undecodable callback")
		return
	}
	if r.failNow() {
		http.Error(w, "try later", http.StatusInternalServerError)
		return
	}
	r.record(cb)
	if r.OnCallback != nil {
		r.OnCallback(cb)
	}
	w.WriteHeader(http.StatusNoContent)
}

func (r *Receiver) reject(w http.ResponseWriter, why string) {
	r.mu.Lock()
	r.rejected++
	r.problems = append(r.problems, why)
	r.mu.Unlock()
	http.Error(w, why, http.StatusUnauthorized)
}

// record checks one callback against what came before.
func (r *Receiver) record(cb Callback) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.accepted++
	if first, seen := r.events[cb.EventID]; seen {
		r.dupes++ // at-least-once: a repeat is fine, and changes nothing, if it says the same
		if !reflect.DeepEqual(first, cb) {
			r.problems = append(r.problems, fmt.Sprintf("event %s of order %s repeated with different content", cb.EventID, cb.Order.ID))
		}
		return
	}
	r.events[cb.EventID] = cb
	id := cb.Order.ID
	r.byOrder[id] = append(r.byOrder[id], cb)
	if cb.Type != "order.delivered" {
		return
	}
	numbers := make([]string, 0, len(cb.Order.Cards))
	for _, c := range cb.Order.Cards {
		numbers = append(numbers, c.Number)
	}
	if !r.cardsFit(cb.Order.SKU, cb.Order.Quantity, len(numbers)) {
		r.problems = append(r.problems, fmt.Sprintf("order %s (%s) delivered %d cards for quantity %d", id, cb.Order.SKU, len(numbers), cb.Order.Quantity))
	}
	slices.Sort(numbers)
	set := strings.Join(numbers, "\n")
	if prev, ok := r.cardSets[id]; ok && prev != set && cb.Order.Reason != "reissue" {
		r.problems = append(r.problems, fmt.Sprintf("order %s delivered twice with different cards", id))
	}
	r.cardSets[id] = set
	for _, n := range numbers {
		if other, ok := r.cardTo[n]; ok && other != id {
			r.problems = append(r.problems, fmt.Sprintf("a card went to orders %s and %s", other, id))
		}
		r.cardTo[n] = id
	}
}

// cardsFit says whether n cards are what quantity units of sku bring:
// none for a top-up, one a unit for a card product unless SetCardsPerUnit
// said otherwise. Called with r.mu held.
func (r *Receiver) cardsFit(sku string, quantity, n int) bool {
	if r.direct[sku] {
		return n == 0
	}
	per, ok := r.perUnit[sku]
	if !ok {
		per = [2]int{1, 1}
	}
	return quantity*per[0] <= n && n <= quantity*per[1]
}

// Delivered reports whether an order's delivered callback arrived.
func (r *Receiver) Delivered(orderID string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.cardSets[orderID]
	return ok
}

// Types returns the callback types an order received, in order.
func (r *Receiver) Types(orderID string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	types := make([]string, 0, len(r.byOrder[orderID]))
	for _, cb := range r.byOrder[orderID] {
		types = append(types, cb.Type)
	}
	return types
}

// Callbacks returns the callbacks an order received, in order, repeats
// left out.
func (r *Receiver) Callbacks(orderID string) []Callback {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.byOrder[orderID])
}

// Stats are the receiver's counters: callbacks accepted (repeats
// included), rejected (bad signature or body), failed on purpose
// (FailRate), repeats, and orders heard of and delivered.
type Stats struct {
	Accepted, Rejected, Failed, Repeats, Orders, Delivered int
}

// Stats returns the counters.
func (r *Receiver) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return Stats{Accepted: r.accepted, Rejected: r.rejected, Failed: r.failed, Repeats: r.dupes, Orders: len(r.byOrder), Delivered: len(r.cardSets)}
}

// Problems lists every broken promise seen so far.
func (r *Receiver) Problems() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.problems)
}
