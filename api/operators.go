package api

import (
	"net/http"
	"time"
)

type bindCodeResponse struct {
	Operator  string    `json:"operator"`
	Code      string    `json:"code"`
	ExpiresAt time.Time `json:"expires_at"`
}

// bindCode is POST /v1/operators/{name}/bind: a one-time code that makes
// the chat identity typing "/bind CODE" (on QQ) the configured operator.
func (s *Server) bindCode(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if _, ok := s.operators[name]; !ok {
		writeError(w, http.StatusNotFound, codeNotFound, "no operator "+name+" in the config", "name")
		return
	}
	actor, ok := adminActor(w, r)
	if !ok {
		return
	}
	code, expires, err := s.bindings.Issue(actor, name)
	if err != nil {
		s.writeEngineError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, bindCodeResponse{Operator: name, Code: code, ExpiresAt: expires.UTC()})
}

type unbindResponse struct {
	Operator   string `json:"operator"`
	Identities int    `json:"identities"`
}

// unbind is DELETE /v1/operators/{name}/bind: the chat identities bound to
// the operator are strangers again and the operator's unused codes bind
// nobody. Any name is accepted, one since removed from the config too (its
// bindings would come back to life were it configured again).
func (s *Server) unbind(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	actor, ok := adminActor(w, r)
	if !ok {
		return
	}
	n, err := s.bindings.Unbind(actor, name)
	if err != nil {
		s.writeEngineError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, unbindResponse{Operator: name, Identities: n})
}
