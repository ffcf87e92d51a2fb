// Package stock is the shop's own card-key inventory as a source of goods:
// reading import files into cards. Storing, sealing and taking cards is the
// storage package's job, inside the engine's transactions.
package stock

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"cardflow/storage"
)

// MaxFieldLen bounds each field of a card line.
const MaxFieldLen = 256

// maxLineLen bounds a whole line; longer lines are invalid, not fatal.
const maxLineLen = 4 * MaxFieldLen

// expiryLayouts are the expires_at forms shops and suppliers use.
var expiryLayouts = []string{time.DateOnly, time.DateTime, time.RFC3339, "2006/01/02", "2006/01/02 15:04:05"}

// LineError says why one line was not imported, without repeating the line:
// it may hold a card key.
type LineError struct {
	Line int
	Why  string
}

// Reader reads card lines: `number`, `number,password` or
// `number,password,expires_at`, one per line. Blank lines, a UTF-8 byte order
// mark, CRLF line ends and a header line naming the columns are skipped.
type Reader struct {
	sc      *bufio.Scanner
	line    int
	Invalid []LineError // every line that was not a card, in order
}

// NewReader reads card lines from r.
func NewReader(r io.Reader) *Reader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	sc.Split(scanLines)
	return &Reader{sc: sc}
}

// Next returns the next valid card. It returns io.EOF at the end, and another
// error only when reading itself fails.
func (r *Reader) Next() (storage.Card, error) {
	for r.sc.Scan() {
		r.line++
		raw := r.sc.Bytes()
		if r.line == 1 {
			raw = bytes.TrimPrefix(raw, []byte("\ufeff"))
		}
		text := strings.TrimSpace(string(raw))
		if text == "" || (r.line == 1 && isHeader(text)) {
			continue
		}
		card, why := parseLine(text)
		if why != "" {
			r.Invalid = append(r.Invalid, LineError{Line: r.line, Why: why})
			continue
		}
		return card, nil
	}
	if err := r.sc.Err(); err != nil {
		return storage.Card{}, fmt.Errorf("read line %d: %w", r.line+1, err)
	}
	return storage.Card{}, io.EOF
}

func isHeader(s string) bool {
	s = strings.ToLower(strings.ReplaceAll(s, " ", ""))
	return s == "number" || strings.HasPrefix(s, "number,password") || strings.HasPrefix(s, "card_number")
}

func parseLine(s string) (storage.Card, string) {
	if len(s) > maxLineLen {
		return storage.Card{}, "line too long"
	}
	if !utf8.ValidString(s) {
		return storage.Card{}, "not valid UTF-8"
	}
	fields := strings.Split(s, ",")
	if len(fields) > 3 {
		return storage.Card{}, fmt.Sprintf("%d fields; want number[,password[,expires_at]]", len(fields))
	}
	for i := range fields {
		fields[i] = strings.TrimSpace(fields[i])
	}
	c := storage.Card{Number: fields[0]}
	if len(fields) > 1 {
		c.Password = fields[1]
	}
	if len(fields) > 2 {
		c.ExpiresAt = fields[2]
	}
	switch {
	case c.Number == "":
		return c, "empty card number"
	case len(c.Number) > MaxFieldLen || len(c.Password) > MaxFieldLen:
		return c, "field longer than 256 bytes"
	case hasControl(c.Number) || hasControl(c.Password) || hasControl(c.ExpiresAt):
		return c, "control character"
	}
	if c.ExpiresAt != "" && !validExpiry(c.ExpiresAt) {
		return c, "expires_at is not a date like 2027-12-31"
	}
	return c, ""
}

func validExpiry(s string) bool {
	for _, layout := range expiryLayouts {
		if _, err := time.Parse(layout, s); err == nil {
			return true
		}
	}
	return false
}

func hasControl(s string) bool {
	return strings.IndexFunc(s, unicode.IsControl) >= 0
}

// scanLines is bufio.ScanLines that also ends a line at a lone '\r' (old Mac
// exports). Lines longer than the scanner buffer (1 MiB) fail the import.
func scanLines(data []byte, atEOF bool) (int, []byte, error) {
	if atEOF && len(data) == 0 {
		return 0, nil, nil
	}
	if i := bytes.IndexAny(data, "\r\n"); i >= 0 {
		adv := i + 1
		if data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n' {
			adv++
		} else if data[i] == '\r' && i+1 == len(data) && !atEOF {
			return 0, nil, nil // need one more byte to see CRLF
		}
		return adv, data[:i], nil
	}
	if atEOF {
		return len(data), data, nil
	}
	return 0, nil, nil
}
