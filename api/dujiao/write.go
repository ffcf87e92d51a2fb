package dujiao

import (
	"encoding/json"
	"errors"
	"net/http"
)

// A success answer is an object with "ok":true first and the payload's
// fields beside it at the top level, not under a data key. A failure is
// {"ok":false,"error_code":"…","error_message":"…"}.

// MarshalOK writes v, a struct of this package, as a success answer:
// {"ok":true,<v's fields>}. A nil v writes {"ok":true}.
func MarshalOK(v any) ([]byte, error) {
	if v == nil {
		return []byte(`{"ok":true}`), nil
	}
	fields, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	if len(fields) < 2 || fields[0] != '{' {
		return nil, errors.New("dujiao: a success answer must be an object")
	}
	out := make([]byte, 0, len(fields)+11)
	out = append(out, `{"ok":true`...)
	if len(fields) > 2 {
		out = append(out, ',')
	}
	return append(out, fields[1:]...), nil
}

type envelope struct {
	OK           bool   `json:"ok"`
	ErrorCode    string `json:"error_code"`
	ErrorMessage string `json:"error_message"`
}

// MarshalError writes the failure envelope of e.
func MarshalError(e *Error) []byte {
	b, _ := json.Marshal(envelope{ErrorCode: e.Code, ErrorMessage: e.Message}) // strings only: cannot fail
	return b
}

// WriteOK answers 200 with v as a success answer. If v cannot be written (a
// delivered order without its keys) the answer is 500 internal_error and
// the error is returned for the log: the shop retries or polls again,
// where a half answer would lose the keys for good.
func WriteOK(w http.ResponseWriter, v any) error {
	body, err := MarshalOK(v)
	if err != nil {
		WriteError(w, ErrInternal)
		return err
	}
	write(w, http.StatusOK, body)
	return nil
}

// WriteError answers with err's status and envelope when it is an *Error,
// and with 500 internal_error (no detail) for any other error.
func WriteError(w http.ResponseWriter, err error) {
	var e *Error
	if !errors.As(err, &e) {
		e = ErrInternal
	}
	write(w, e.Status, MarshalError(e))
}

// writeInternal answers ErrInternal, a handler's panic among others.
func writeInternal(w http.ResponseWriter) { WriteError(w, ErrInternal) }

func write(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
