package api

import (
	"io"
	"net/http"

	"cardflow/internal/routes"
)

// SupplierNotify receives one supplier's callbacks (Fulu's notify URL).
type SupplierNotify struct {
	Supplier string
	Path     string
	Owner    string // the config key that chose Path, for errors
	// Parse checks the callback's signature and returns the purchase number
	// it is about and the exact reply the supplier expects.
	Parse func(header http.Header, body []byte) (no string, reply []byte, err error)
}

// MountNotify serves a supplier's callbacks at n.Path on the storefront
// listener.
func (s *Server) MountNotify(n SupplierNotify) error {
	return s.Mount(routes.Mount{Owner: n.Owner, Path: n.Path}, s.notify(n))
}

// notify answers a supplier callback. It is only a hint: the engine asks the
// supplier about the purchase right away and trusts that answer, so a forged
// or replayed callback can at most cause one extra query.
func (s *Server) notify(n SupplierNotify) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			http.Error(w, "fail", http.StatusBadRequest)
			return
		}
		no, reply, err := n.Parse(r.Header, body)
		if err != nil {
			s.log.Warn().Err(err).Str("supplier", n.Supplier).Msg("supplier callback refused")
			http.Error(w, "fail", http.StatusBadRequest)
			return
		}
		s.engine.Hint(no)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write(reply)
	}
}
