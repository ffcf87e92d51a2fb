package api

import (
	"net/http"
	"strconv"

	"cardflow/processor/view"
	"cardflow/storage"
)

// createOrder is POST /v1/orders: 201 for a new order, 200 for a repeat of
// the same request, 409 for a different request with a taken external_id.
func (s *Server) createOrder(w http.ResponseWriter, r *http.Request, storefront string, body []byte) {
	req, err := decodeOrder(storefront, body)
	if err != nil {
		s.writeEngineError(w, r, err)
		return
	}
	o, created, err := s.engine.Submit(req)
	if err != nil {
		s.writeEngineError(w, r, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	s.writeOrder(w, r, status, o, !created) // a new order has no claims to read
}

// getOrder is GET /v1/orders/{id}; another storefront's order is a 404.
func (s *Server) getOrder(w http.ResponseWriter, r *http.Request, storefront string, _ []byte) {
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil {
		writeError(w, http.StatusNotFound, codeNotFound, "no such order", "")
		return
	}
	o, err := s.engine.Order(id)
	if err == nil && o.Storefront != storefront {
		err = storage.ErrNotFound
	}
	if err != nil {
		s.writeEngineError(w, r, err)
		return
	}
	s.writeOrder(w, r, http.StatusOK, o, true)
}

// findOrder is GET /v1/orders?external_id=...
func (s *Server) findOrder(w http.ResponseWriter, r *http.Request, storefront string, _ []byte) {
	ext := r.URL.Query().Get("external_id")
	if ext == "" {
		writeError(w, http.StatusBadRequest, codeInvalidRequest, "external_id query parameter is required", "external_id")
		return
	}
	o, err := s.engine.OrderByExternal(storefront, ext)
	if err != nil {
		s.writeEngineError(w, r, err)
		return
	}
	s.writeOrder(w, r, http.StatusOK, o, true)
}

// writeOrder answers {"order": ORDER}, with the order's claims when
// claims is set (else "claims": [], for an order that cannot have any).
func (s *Server) writeOrder(w http.ResponseWriter, r *http.Request, status int, o *storage.Order, claims bool) {
	v, err := view.Of(o, view.Current(o), s.engine.Vault())
	if err != nil {
		s.writeEngineError(w, r, err)
		return
	}
	v.Claims = []view.Claim{}
	if claims {
		cs, err := s.engine.ClaimsOf(o.ID)
		if err == nil {
			v.Claims, err = view.ClaimsOf(cs, o, s.engine.Vault())
		}
		if err != nil {
			s.writeEngineError(w, r, err)
			return
		}
	}
	// By hand: the same bytes as writeJSON({"order": v}), without
	// reflection (see processor/view/json.go).
	b := append(make([]byte, 0, 1024), `{"order":`...)
	b = append(v.AppendJSON(b), "}\n"...)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
