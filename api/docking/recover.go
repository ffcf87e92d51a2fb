package docking

import (
	"net/http"
	"runtime/debug"

	"github.com/rs/zerolog"
)

// Recover, deferred by a protocol's handler, answers a panic with answer
// (the protocol's internal error, never a stack trace or HTML) and logs it
// with its stack. http.ErrAbortHandler goes on up, as net/http means it to.
func Recover(w http.ResponseWriter, r *http.Request, log zerolog.Logger, answer func(http.ResponseWriter)) {
	p := recover()
	if p == nil {
		return
	}
	if p == http.ErrAbortHandler {
		panic(p)
	}
	log.Error().Interface("panic", p).Bytes("stack", debug.Stack()).Str("path", r.URL.Path).Msg("handler panicked")
	answer(w)
}
