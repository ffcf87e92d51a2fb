// Package api is cardflow's HTTP surface: the signed storefront API, the
// bearer-token admin API, and health endpoints (docs/api.md).
package api

import (
	"encoding/json"
	"errors"
	"net/http"

	"cardflow/processor"
	"cardflow/storage"
)

// Error codes of the API's error body (docs/api.md).
const (
	codeInvalidRequest = "invalid_request"
	codeUnauthorized   = "unauthorized"
	codeNotFound       = "not_found"
	codeConflict       = "conflict"
	codeTooLarge       = "too_large"
	codeUnavailable    = "unavailable"
	codeInternal       = "internal"
)

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, msg, field string) {
	writeJSON(w, status, errorBody{Error: errorDetail{Code: code, Message: msg, Field: field}})
}

// writeEngineError maps the engine's errors to API answers, in one place.
// Anything unexpected is a 500 with a generic message; the detail goes to the
// log, never to the client.
func (s *Server) writeEngineError(w http.ResponseWriter, r *http.Request, err error) {
	var in *processor.InputError
	var st *processor.StateError
	var done *processor.ClaimStateError
	switch {
	case errors.As(err, &in):
		status := http.StatusUnprocessableEntity
		if in.Code == processor.CodeInvalidRequest {
			status = http.StatusBadRequest
		}
		writeError(w, status, in.Code, in.Msg, in.Field)
	case errors.As(err, &st):
		writeError(w, http.StatusConflict, codeConflict, st.Error(), "")
	case errors.As(err, &done):
		writeError(w, http.StatusConflict, codeConflict, done.Error(), "")
	case errors.Is(err, processor.ErrClaimOpen):
		writeError(w, http.StatusConflict, codeConflict, "a claim on this order is still open; wait for its resolution", "")
	case errors.Is(err, processor.ErrClaimIDConflict):
		writeError(w, http.StatusConflict, codeConflict, "claim_id is already used by a different claim", "claim_id")
	case errors.Is(err, processor.ErrConflict):
		writeError(w, http.StatusConflict, codeConflict, "external_id is already used by a different order", "external_id")
	case errors.Is(err, storage.ErrNotFound):
		writeError(w, http.StatusNotFound, codeNotFound, "no such order", "")
	case errors.Is(err, storage.ErrUnavailable):
		writeError(w, http.StatusServiceUnavailable, codeUnavailable, "storage unavailable; retry shortly", "")
	case errors.Is(err, processor.ErrStopped), errors.Is(err, storage.ErrClosed):
		writeError(w, http.StatusServiceUnavailable, codeUnavailable, "shutting down; retry shortly", "")
	default:
		s.log.Error().Err(err).Str("path", r.URL.Path).Msg("request failed")
		writeError(w, http.StatusInternalServerError, codeInternal, "internal error; the request may be retried", "")
	}
}
