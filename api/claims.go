package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"

	"cardflow/processor"
	"cardflow/processor/view"
	"cardflow/storage"
)

// After-sale claims (docs/claims.md): storefronts open them on their
// delivered orders, operators resolve them (chat, or the admin API here).

// claimBody is the JSON of POST /v1/orders/{id}/claims.
type claimBody struct {
	Reason  *string  `json:"reason"`
	Message string   `json:"message"`
	Cards   []string `json:"cards"`
	ClaimID string   `json:"claim_id"`
}

// decodeClaim reads a claim body: one JSON object with a reason. The
// engine checks the values (their sizes and characters, the reason, the
// cards); this checks the shape.
func decodeClaim(body []byte) (processor.ClaimRequest, error) {
	var b claimBody
	if err := decodeOne(body, &b); err != nil {
		return processor.ClaimRequest{}, err
	}
	if b.Reason == nil {
		return processor.ClaimRequest{}, badRequest("reason", "is required: card_invalid, not_received, wrong_item or other")
	}
	return processor.ClaimRequest{ClaimID: b.ClaimID, Reason: *b.Reason, Message: b.Message, Cards: b.Cards}, nil
}

// decodeOne decodes a body that must be exactly one JSON object.
func decodeOne(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return badRequest("", "body must hold exactly one JSON object")
	}
	return nil
}

// createClaim is POST /v1/orders/{id}/claims: 201 for a new claim, 200 for
// a repeat of a claim_id with the same claim.
func (s *Server) createClaim(w http.ResponseWriter, r *http.Request, storefront string, body []byte) {
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil {
		writeError(w, http.StatusNotFound, codeNotFound, "no such order", "")
		return
	}
	req, err := decodeClaim(body)
	if err != nil {
		s.writeEngineError(w, r, err)
		return
	}
	cl, created, err := s.engine.OpenClaim(storefront, id, req)
	if err != nil {
		s.writeEngineError(w, r, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	s.writeClaim(w, r, status, cl, nil)
}

// writeClaim answers {"claim": CLAIM}; o is the claim's order when the
// caller has it.
func (s *Server) writeClaim(w http.ResponseWriter, r *http.Request, status int, cl *storage.Claim, o *storage.Order) {
	if o == nil {
		var err error
		if o, err = s.engine.Order(cl.OrderID); err != nil {
			s.writeEngineError(w, r, err)
			return
		}
	}
	v, err := view.ClaimOf(cl, o, s.engine.Vault())
	if err != nil {
		s.writeEngineError(w, r, err)
		return
	}
	b := append(make([]byte, 0, 512), `{"claim":`...)
	b = append(v.AppendJSON(b), "}\n"...)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// resolveBody is the JSON of POST /v1/claims/{id}/resolve.
type resolveBody struct {
	Action *string `json:"action"`
	Note   string  `json:"note"`
}

// resolveClaim is POST /v1/claims/{id}/resolve: the operator's decision,
// acted on at once (the confirmation step is the chat's). 404 for an
// unknown claim, 409 for one resolved already (saying by whom) or an order
// whose state does not allow the action.
func (s *Server) resolveClaim(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil {
		writeError(w, http.StatusNotFound, codeNotFound, "no such claim", "")
		return
	}
	actor, ok := adminActor(w, r)
	if !ok {
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		writeError(w, http.StatusRequestEntityTooLarge, codeTooLarge, "body is larger than 64 KiB", "")
		return
	case err != nil:
		writeError(w, http.StatusBadRequest, codeInvalidRequest, "could not read the body", "")
		return
	}
	var b resolveBody
	if err := decodeOne(body, &b); err != nil {
		s.writeEngineError(w, r, err)
		return
	}
	if b.Action == nil {
		writeError(w, http.StatusBadRequest, codeInvalidRequest, "action is required: reissue, refund or reject", "action")
		return
	}
	cl, o, err := s.engine.ResolveClaim(actor, id, *b.Action, b.Note)
	if errors.Is(err, storage.ErrNotFound) {
		writeError(w, http.StatusNotFound, codeNotFound, "no such claim", "")
		return
	}
	if err != nil {
		s.writeEngineError(w, r, err)
		return
	}
	s.writeClaim(w, r, http.StatusOK, cl, o)
}

// claimsListed bounds GET /v1/claims.
const claimsListed = 500

// listClaims is GET /v1/claims?status=open (the default): open claims
// oldest first, or claims resolved one way ("reissued", "refunded",
// "rejected"; "all" for any) newest first, at most claimsListed.
func (s *Server) listClaims(w http.ResponseWriter, r *http.Request) {
	status := storage.ClaimStatus(r.URL.Query().Get("status"))
	switch status {
	case "":
		status = storage.ClaimOpen
	case "all":
		status = ""
	}
	claims, _, err := s.engine.Claims(status, claimsListed)
	if err != nil {
		s.writeEngineError(w, r, err)
		return
	}
	b := append(make([]byte, 0, 256+512*len(claims)), `{"claims":[`...)
	for i, cl := range claims {
		o, err := s.engine.Order(cl.OrderID)
		if err != nil {
			s.writeEngineError(w, r, err)
			return
		}
		v, err := view.ClaimOf(cl, o, s.engine.Vault())
		if err != nil {
			s.writeEngineError(w, r, err)
			return
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = v.AppendJSON(b)
	}
	b = append(b, "]}\n"...)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}
