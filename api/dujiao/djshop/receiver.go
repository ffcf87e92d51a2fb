package djshop

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"cardflow/api/dujiao"
)

// The messages a shop answers a callback with, always with HTTP 200.
const (
	MsgReceived        = "received"
	MsgMissingHeaders  = "missing authentication headers"
	MsgExpired         = "timestamp expired"
	MsgInvalidAPIKey   = "invalid api key"
	MsgBadSignature    = "signature verification failed"
	MsgNotFound        = "procurement order not found"
	MsgProcessingError = "callback processing failed"
)

// maxCallback is the largest callback body the shop reads.
const maxCallback = 1 << 20

// Received is one callback as it reached the shop: when, its raw body, the
// decoded callback (zero if it was refused before decoding) and the message
// the shop answered.
type Received struct {
	At       time.Time
	Body     []byte
	Callback Callback
	Answer   string
	Status   int
}

// ServeHTTP is the shop's callback endpoint, at whatever path: the
// signature is checked over /api/v1/upstream/callback, as a shop does.
func (s *Shop) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.down(w, Received{At: clock(s.Now), Answer: "down", Status: http.StatusServiceUnavailable}) {
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxCallback))
	rec := Received{At: clock(s.Now), Body: body, Status: http.StatusOK}
	if err != nil {
		rec.Answer = MsgProcessingError
		s.answer(w, rec)
		return
	}
	_, err = dujiao.VerifyCallback(r.Header.Get(dujiao.HeaderAPIKey), r.Header.Get(dujiao.HeaderTimestamp),
		r.Header.Get(dujiao.HeaderSignature), body, clock(s.Now), s.secretOf)
	if err != nil {
		rec.Answer = refusal(err)
		s.answer(w, rec)
		return
	}
	if err := json.Unmarshal(body, &rec.Callback); err != nil {
		rec.Answer = MsgProcessingError
		s.problem("a callback the shop cannot decode: " + err.Error())
		s.answer(w, rec)
		return
	}
	rec.Answer = s.applyCallback(rec.Callback)
	s.answer(w, rec)
}

// applyCallback applies a verified callback and returns the answer.
func (s *Shop) applyCallback(cb Callback) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.procs[cb.DownstreamOrderNo]
	if !ok {
		return MsgNotFound
	}
	if want := dujiao.EventFor(cb.Status); cb.Event != want {
		s.problems = append(s.problems, "callback for "+cb.DownstreamOrderNo+" with status "+cb.Status+" has event "+cb.Event+", not "+want)
	}
	p.Callbacks++
	s.apply(p, "a callback", cb.Status, cb.Fulfillment)
	return MsgReceived
}

func (s *Shop) secretOf(key string) ([]byte, bool) {
	return s.Secret, key == s.APIKey
}

// refusal is the shop's message for a failed signature check.
func refusal(err error) string {
	switch {
	case errors.Is(err, dujiao.ErrMissingAuthHeaders):
		return MsgMissingHeaders
	case errors.Is(err, dujiao.ErrInvalidTimestamp), errors.Is(err, dujiao.ErrTimestampExpired):
		return MsgExpired
	case errors.Is(err, dujiao.ErrInvalidAPIKey):
		return MsgInvalidAPIKey
	}
	return MsgBadSignature
}

// answer records a callback and answers it: 200, ok:true only when applied.
func (s *Shop) answer(w http.ResponseWriter, rec Received) {
	s.record(rec)
	writeJSON(w, http.StatusOK, struct {
		OK      bool   `json:"ok"`
		Message string `json:"message"`
	}{rec.Answer == MsgReceived, rec.Answer})
}
