package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"cardflow/processor"
	"cardflow/storage"
)

// maxImport bounds one stock import request. 100,000 lines of 100 bytes is
// 10 MB; this leaves room for long keys. The import streams: memory does
// not grow with the size of the file, nor with its invalid lines (the
// answer lists the first stock.MaxErrors and counts the rest).
const maxImport = 256 << 20

// importReadTimeout is how long an authenticated import may take to upload:
// 256 MiB at about half a megabyte a second.
const importReadTimeout = 10 * time.Minute

type importResponse struct {
	Batch      uint64      `json:"batch"`
	Added      int         `json:"added"`
	Duplicates int         `json:"duplicates"`
	Invalid    int         `json:"invalid"`
	Errors     []lineError `json:"errors,omitempty"`
}

type lineError struct {
	Line int    `json:"line"`
	Why  string `json:"why"`
}

// adminActor is who an admin API call is audited as. The admin token says
// nothing about who holds it, so the name in X-Cardflow-Actor (the CLI
// sends the local user) is recorded as claimed: "claimed:alice" on the
// admin-api platform, never as operator alice. Without the header:
// "admin". A name that is not 1-64 letters, digits or . _ - @ \ is refused.
func adminActor(w http.ResponseWriter, r *http.Request) (storage.Actor, bool) {
	name := r.Header.Get(headerActor)
	if name == "" {
		return storage.Actor{Name: "admin", Platform: "admin-api"}, true
	}
	if len(name) > 64 || strings.IndexFunc(name, func(c rune) bool {
		return !unicode.IsLetter(c) && !unicode.IsDigit(c) && !strings.ContainsRune("._-@\\", c)
	}) >= 0 {
		writeError(w, http.StatusBadRequest, codeInvalidRequest,
			headerActor+" must be 1 to 64 letters, digits or . _ - @ \\ (the name recorded as claimed in the audit log)", headerActor)
		return storage.Actor{}, false
	}
	return storage.Actor{Name: "claimed:" + name, Platform: "admin-api"}, true
}

const headerActor = "X-Cardflow-Actor"

func (s *Server) importStock(w http.ResponseWriter, r *http.Request) {
	sku := r.PathValue("sku")
	actor, ok := adminActor(w, r)
	if !ok {
		return
	}
	// The admin listener's read timeout is short; an import of up to
	// 256 MiB, once authenticated, gets what a slow link needs.
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(importReadTimeout))
	res, err := s.engine.ImportStock(actor, sku, http.MaxBytesReader(w, r.Body, maxImport))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		writeError(w, http.StatusRequestEntityTooLarge, codeTooLarge,
			fmt.Sprintf("import is larger than %d MiB; split the file (the %d cards before the cut were imported)", maxImport>>20, res.Added), "")
		return
	case errors.Is(err, storage.ErrNotFound):
		writeError(w, http.StatusNotFound, codeNotFound, fmt.Sprintf("sku %q is not configured", sku), "sku")
		return
	case errors.Is(err, processor.ErrNotStocked):
		writeError(w, http.StatusUnprocessableEntity, "unknown_sku", fmt.Sprintf("sku %q has no own-stock source to import into", sku), "sku")
		return
	case errors.Is(err, processor.ErrImportRead):
		writeError(w, http.StatusBadRequest, codeInvalidRequest,
			fmt.Sprintf("the upload broke off; the %d cards before the break were imported, send the rest again (duplicates are skipped)", res.Added), "")
		return
	case err != nil:
		s.writeEngineError(w, r, err)
		return
	}
	out := importResponse{Batch: res.Batch, Added: res.Added, Duplicates: res.Duplicates, Invalid: res.Invalid}
	for _, le := range res.Errors {
		out.Errors = append(out.Errors, lineError(le))
	}
	writeJSON(w, http.StatusOK, out)
}

type stockLevel struct {
	SKU   string `json:"sku"`
	Level int    `json:"level"`
}

func (s *Server) stockLevels(w http.ResponseWriter, r *http.Request) {
	levels, err := s.engine.StockLevels()
	if err != nil {
		s.writeEngineError(w, r, err)
		return
	}
	out := make([]stockLevel, 0, len(levels))
	for sku, n := range levels {
		out = append(out, stockLevel{SKU: sku, Level: n})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].SKU < out[j].SKU })
	writeJSON(w, http.StatusOK, map[string]any{"stock": out})
}

type actionBody struct {
	Reason string `json:"reason"`
}

// orderAction is POST /v1/orders/{id}/{approve|retry|refund|reissue}: the
// same engine actions as the chat buttons. A refused action (the order is in
// another state) is a 409 that says what happened before.
func (s *Server) orderAction(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil {
		writeError(w, http.StatusNotFound, codeNotFound, "no such order", "")
		return
	}
	var body actionBody
	if r.ContentLength != 0 {
		if err := json.NewDecoder(io.LimitReader(r.Body, maxBody)).Decode(&body); err != nil && !errors.Is(err, io.EOF) {
			writeError(w, http.StatusBadRequest, codeInvalidRequest, `body must be empty or {"reason": "..."}`, "")
			return
		}
	}
	actor, ok := adminActor(w, r)
	if !ok {
		return
	}
	var o *storage.Order
	switch r.PathValue("action") {
	case processor.ActionApprove:
		o, err = s.engine.Approve(actor, id)
	case processor.ActionRetry:
		o, err = s.engine.Retry(actor, id)
	case processor.ActionRefund:
		o, err = s.engine.Refund(actor, id, body.Reason)
	case processor.ActionReissue:
		o, err = s.engine.Reissue(actor, id)
	default:
		writeError(w, http.StatusNotFound, codeNotFound, "unknown action; use approve, retry, refund or reissue", "")
		return
	}
	if err != nil {
		s.writeEngineError(w, r, err)
		return
	}
	s.writeOrder(w, r, http.StatusOK, o, true)
}

// backup streams a consistent copy of the database. The store copies it
// into the data directory first (in one short read transaction) and
// streams that file, so a slow client holds up no write.
func (s *Server) backup(w http.ResponseWriter, r *http.Request) {
	name := "cardflow-" + s.now().UTC().Format("20060102-150405") + ".db"
	started := false
	_, err := s.engine.Backup(w, func(size int64) {
		started = true
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
		w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
	})
	if err == nil {
		return
	}
	if errors.Is(err, storage.ErrBackupElsewhere) {
		writeError(w, http.StatusConflict, codeConflict, err.Error(), "")
		return
	}
	s.log.Error().Err(err).Bool("streaming", started).Msg("backup failed")
	if !started {
		writeError(w, http.StatusServiceUnavailable, codeUnavailable,
			"the backup could not be copied in the data directory (is its disk full?); try again", "")
		return
	}
	// The client has part of the file: cut the stream so that it cannot
	// take the part for the whole.
	panic(http.ErrAbortHandler)
}
