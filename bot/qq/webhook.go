package qq

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/tencent-connect/botgo/dto"
	"github.com/tencent-connect/botgo/interaction/signature"
	"github.com/tencent-connect/botgo/interaction/webhook"

	"cardflow/storage"
)

// The webhook QQ posts events to, on the storefront listener. Our own
// handler rather than botgo's webhook.HTTPHandler (it loses bodies
// longer than one read, answers 200 to a bad signature and has no replay
// window); botgo's signature and ack helpers are used as they are.

const (
	// maxBody bounds one webhook call; QQ's events are a few KB.
	maxBody = 1 << 20
	// signatureWindow is how far a call's timestamp may be from our clock.
	signatureWindow = 5 * time.Minute
)

// Handshake fields are echoed signed: only plain tokens and timestamps
// of the shape QQ sends are signed, so the endpoint is no signing oracle.
var (
	plainTokenRE = regexp.MustCompile(`^[A-Za-z0-9]{1,128}$`)
	eventTsRE    = regexp.MustCompile(`^[0-9]{1,12}$`)
)

// ServeHTTP implements the webhook: verify the signature and timestamp,
// answer the validation handshake, and store dispatched events before
// acknowledging them. Anything unsigned, mis-signed or stale is a 401.
func (a *Adapter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		http.Error(w, "body too large or unreadable", http.StatusRequestEntityTooLarge)
		return
	}
	if !a.verified(r.Header, body) {
		a.log.Warn().Str("remote", r.RemoteAddr).Msg("qq webhook call refused: bad or stale signature")
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var p dto.WSPayload
	if err := json.Unmarshal(body, &p); err != nil {
		http.Error(w, "not a QQ payload", http.StatusBadRequest)
		return
	}
	switch p.OPCode {
	case dto.HTTPCallbackValidation:
		a.handshake(w, r, body)
	case dto.WSDispatchEvent:
		if p.EventID == "" {
			http.Error(w, "event without id", http.StatusBadRequest)
			return
		}
		var fresh bool
		err := a.store.Update(func(tx *storage.Tx) error {
			var err error
			fresh, err = tx.Inbound().Enqueue("qq:"+p.EventID, body, a.now())
			return err
		})
		if err != nil {
			a.log.Error().Err(err).Msg("store qq event")
			writeACK(w, false) // QQ sends it again
			return
		}
		if fresh {
			a.stored()
		}
		writeACK(w, true)
	default:
		writeACK(w, true) // heartbeats and the like: nothing to do
	}
}

func writeACK(w http.ResponseWriter, ok bool) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, webhook.GenDispatchACK(ok))
}

// verified checks the ed25519 signature over timestamp+body and that the
// timestamp is recent: a replayed call, even signed, is refused.
func (a *Adapter) verified(h http.Header, body []byte) bool {
	ts, err := strconv.ParseInt(h.Get(signature.HeaderTimestamp), 10, 64)
	if err != nil {
		return false
	}
	if d := a.now().Sub(time.Unix(ts, 0)); d > signatureWindow || d < -signatureWindow {
		return false
	}
	ok, err := signature.Verify(a.secret, h, body)
	return err == nil && ok
}

// handshake answers op 13 with the plain token signed over event_ts.
func (a *Adapter) handshake(w http.ResponseWriter, r *http.Request, body []byte) {
	var req struct {
		D dto.WHValidationReq `json:"d"`
	}
	if err := json.Unmarshal(body, &req); err != nil || !plainTokenRE.MatchString(req.D.PlainToken) ||
		!eventTsRE.MatchString(req.D.EventTs) {
		http.Error(w, "bad validation request", http.StatusBadRequest)
		return
	}
	ack := webhook.GenValidationACK(&req.D, r.Header, a.secret)
	if ack == nil {
		http.Error(w, "cannot sign", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(ack)
}

// errMalformed is an inbound event the adapter cannot read; it is logged
// and dropped (QQ already has its acknowledgement).
var errMalformed = errors.New("malformed qq event")
