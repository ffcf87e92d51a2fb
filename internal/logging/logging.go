// Package logging builds cardflow's zerolog logger: JSON by default, a
// pretty console form for the demo, and a writer that blanks out every
// configured secret should one ever reach a log line.
package logging

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"time"
	"unicode/utf8"

	"github.com/rs/zerolog"
)

// New returns a logger writing to w at level in format "json" or "console".
// Every string in secrets is replaced by <redacted> in the output.
func New(w io.Writer, level, format string, secrets []string) (zerolog.Logger, error) {
	lvl, err := zerolog.ParseLevel(level)
	if err != nil || level == "" {
		return zerolog.Nop(), fmt.Errorf("log level %q: use trace, debug, info, warn or error", level)
	}
	if format == "console" {
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: time.TimeOnly, NoColor: !isTerminal(w)}
	}
	// The redactor reads zerolog's JSON, before the console form renders
	// it: a secret is looked for in the one encoding that writes it.
	w = NewRedactor(w, secrets)
	return zerolog.New(w).Level(lvl).With().Timestamp().Logger(), nil
}

// Redactor replaces known secrets in whatever passes through it. Each
// zerolog event is one Write, so a secret is never split across calls. A
// secret is looked for as it is and as JSON writes it inside a string
// (zerolog's own escaping, and encoding/json's, which zerolog uses for
// Interface fields and code uses for RawJSON): `to"ken` is logged as
// `to\"ken`, a newline as \n, "<" as \u003c.
type Redactor struct {
	w     io.Writer
	forms [][]byte // every spelling of every secret, longest first
}

// minSecret is the shortest secret worth redacting; shorter strings would
// blank out ordinary words.
const minSecret = 6

var redacted = []byte("<redacted>")

// NewRedactor wraps w.
func NewRedactor(w io.Writer, secrets []string) *Redactor {
	r := &Redactor{w: w}
	seen := map[string]bool{}
	for _, s := range secrets {
		if len(s) < minSecret {
			continue
		}
		for _, f := range spellings(s) {
			if !seen[f] {
				seen[f] = true
				r.forms = append(r.forms, []byte(f))
			}
		}
	}
	// A longer spelling first: a secret's escaped form may contain
	// another, shorter secret.
	sort.SliceStable(r.forms, func(i, j int) bool { return len(r.forms[i]) > len(r.forms[j]) })
	return r
}

// spellings are the ways s can appear in a JSON log line.
func spellings(s string) []string {
	forms := []string{s, zerologString(s)}
	for _, html := range []bool{false, true} {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(html)
		if enc.Encode(s) == nil {
			forms = append(forms, string(bytes.TrimSuffix(bytes.TrimSuffix(b.Bytes(), []byte("\n")), []byte(`"`))[1:]))
		}
	}
	return forms
}

// zerologString is s as zerolog's JSON encoder writes it inside quotes
// (github.com/rs/zerolog/internal/json AppendString): '"' and '\\'
// escaped, \b \f \n \r \t short, other bytes below 0x20 and 0x7f as \u00XX,
// invalid UTF-8 as \ufffd, everything else as it is.
func zerologString(s string) string {
	const hex = "0123456789abcdef"
	var b []byte
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				b = append(b, `\ufffd`...)
			} else {
				b = append(b, s[i:i+n]...)
			}
			i += n
			continue
		}
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\b':
			b = append(b, `\b`...)
		case c == '\f':
			b = append(b, `\f`...)
		case c == '\n':
			b = append(b, `\n`...)
		case c == '\r':
			b = append(b, `\r`...)
		case c == '\t':
			b = append(b, `\t`...)
		case c < 0x20 || c == 0x7f:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
		default:
			b = append(b, c)
		}
		i++
	}
	return string(b)
}

func (r *Redactor) Write(p []byte) (int, error) {
	out := p
	for _, f := range r.forms {
		if bytes.Contains(out, f) {
			out = replace(out, f)
		}
	}
	if _, err := r.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// replace blanks every f in b. A match right after an escaping backslash
// takes the backslash with it, so that the line stays valid JSON.
func replace(b, f []byte) []byte {
	var out []byte
	for {
		i := bytes.Index(b, f)
		if i < 0 {
			return append(out, b...)
		}
		start, slashes := i, 0
		for start-slashes > 0 && b[start-slashes-1] == '\\' {
			slashes++
		}
		if slashes%2 == 1 {
			start--
		}
		out = append(append(out, b[:start]...), redacted...)
		b = b[i+len(f):]
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
