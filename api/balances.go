package api

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sort"
	"unicode/utf8"

	"cardflow/internal/money"
	"cardflow/processor"
)

type storefrontInfo struct {
	ID          string       `json:"id"`
	Protocol    string       `json:"protocol"`
	Balance     money.Amount `json:"balance"`
	CreditLimit money.Amount `json:"credit_limit"`
}

type storefrontList struct {
	Storefronts []storefrontInfo `json:"storefronts"`
}

// listStorefronts is GET /v1/storefronts: every configured storefront with its
// protocol, and a docking shop's prepaid balance and credit limit (a
// cardflow storefront has none: 0.00).
func (s *Server) listStorefronts(w http.ResponseWriter, r *http.Request) {
	balances, err := s.engine.Balances()
	if err != nil {
		s.writeEngineError(w, r, err)
		return
	}
	byID := make(map[string]processor.Balance, len(balances))
	for _, b := range balances {
		byID[b.Storefront] = b
	}
	out := storefrontList{Storefronts: make([]storefrontInfo, 0, len(s.protocols))}
	for id, protocol := range s.protocols {
		b := byID[id]
		out.Storefronts = append(out.Storefronts, storefrontInfo{ID: id, Protocol: protocol, Balance: b.Balance, CreditLimit: b.CreditLimit})
	}
	sort.Slice(out.Storefronts, func(i, j int) bool { return out.Storefronts[i].ID < out.Storefronts[j].ID })
	writeJSON(w, http.StatusOK, out)
}

type balanceBody struct {
	Amount string `json:"amount"`
	Reason string `json:"reason"`
}

type balanceResponse struct {
	ID      string       `json:"id"`
	Balance money.Amount `json:"balance"`
}

// maxReason bounds the reason an adjustment is recorded with.
const maxReason = 200

// adjustBalance is POST /v1/storefronts/{id}/balance: a top-up ("1000.00")
// or a debit ("-50.00") of a docking shop's balance, with a reason for the
// ledger and the audit log.
func (s *Server) adjustBalance(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, ok := s.protocols[id]; !ok {
		writeError(w, http.StatusNotFound, codeNotFound, "no storefront "+id+" in the config", "id")
		return
	}
	var body balanceBody
	dec := json.NewDecoder(io.LimitReader(r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		writeError(w, http.StatusBadRequest, codeInvalidRequest, `body must be {"amount": "1000.00", "reason": "..."}`, "")
		return
	}
	amount, err := money.ParseSigned(body.Amount)
	if err != nil || amount == 0 {
		writeError(w, http.StatusBadRequest, codeInvalidRequest, `amount must be a non-zero decimal string like "1000.00" (negative to debit)`, "amount")
		return
	}
	if !utf8.ValidString(body.Reason) || utf8.RuneCountInString(body.Reason) > maxReason {
		writeError(w, http.StatusBadRequest, codeInvalidRequest, "reason must be UTF-8 of at most 200 characters", "reason")
		return
	}
	actor, ok := adminActor(w, r)
	if !ok {
		return
	}
	balance, err := s.engine.AdjustBalance(actor, id, amount, body.Reason)
	switch {
	case errors.Is(err, processor.ErrNotDocking):
		writeError(w, http.StatusBadRequest, codeInvalidRequest, id+" is not a docking shop and has no balance", "id")
		return
	case err != nil:
		s.writeEngineError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, balanceResponse{ID: id, Balance: balance})
}
