// Package logging builds cardflow's zerolog logger: JSON by default, a
// pretty console form for the demo, and a writer that blanks out every
// configured secret should one ever reach a log line.
package logging

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/rs/zerolog"
)

// New returns a logger writing to w at level in format "json" or "console".
// Every string in secrets is replaced by <redacted> in the output.
func New(w io.Writer, level, format string, secrets []string) (zerolog.Logger, error) {
	lvl, err := zerolog.ParseLevel(level)
	if err != nil || level == "" {
		return zerolog.Nop(), fmt.Errorf("log level %q: use trace, debug, info, warn or error", level)
	}
	w = NewRedactor(w, secrets)
	if format == "console" {
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: time.TimeOnly, NoColor: !isTerminal(w)}
	}
	return zerolog.New(w).Level(lvl).With().Timestamp().Logger(), nil
}

// Redactor replaces known secrets in whatever passes through it. Each
// zerolog event is one Write, so a secret is never split across calls.
type Redactor struct {
	w       io.Writer
	secrets [][]byte
}

// minSecret is the shortest secret worth redacting; shorter strings would
// blank out ordinary words.
const minSecret = 6

// NewRedactor wraps w.
func NewRedactor(w io.Writer, secrets []string) *Redactor {
	r := &Redactor{w: w}
	for _, s := range secrets {
		if len(s) >= minSecret {
			r.secrets = append(r.secrets, []byte(s))
		}
	}
	return r
}

func (r *Redactor) Write(p []byte) (int, error) {
	out := p
	for _, s := range r.secrets {
		if bytes.Contains(out, s) {
			out = bytes.ReplaceAll(out, s, []byte("<redacted>"))
		}
	}
	if _, err := r.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

func isTerminal(w io.Writer) bool {
	if r, ok := w.(*Redactor); ok {
		w = r.w
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
