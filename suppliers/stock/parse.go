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
// mark, CRLF line ends and a header line naming the columns are skipped; a
// line of any length that is not a card is counted as invalid, never fatal
// (a binary file picked by mistake is a file of invalid lines).
type Reader struct {
	sc      *bufio.Scanner
	split   lineSplitter
	line    int
	Invalid []LineError // every line that was not a card, in order
}

// NewReader reads card lines from r.
func NewReader(r io.Reader) *Reader {
	rd := &Reader{sc: bufio.NewScanner(r)}
	rd.sc.Buffer(make([]byte, 0, 64*1024), 2*maxScan)
	rd.sc.Split(rd.split.scan)
	return rd
}

// Next returns the next valid card. It returns io.EOF at the end, and another
// error only when reading itself fails.
func (r *Reader) Next() (storage.Card, error) {
	for r.sc.Scan() {
		r.line++
		if r.split.tooLong {
			r.split.tooLong = false
			r.Invalid = append(r.Invalid, LineError{Line: r.line, Why: "line too long"})
			continue
		}
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

// headerWords are column names shops put on the first line of an export.
var headerWords = map[string]bool{
	"number": true, "card": true, "card_number": true, "cardnumber": true, "no": true, "卡号": true,
	"卡密": true, "密码": true, "password": true, "card_pwd": true,
}

func isHeader(s string) bool {
	first, _, _ := strings.Cut(s, ",")
	return headerWords[strings.ToLower(strings.TrimSpace(first))]
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

// maxScan is the longest line the reader holds in memory; a longer one is
// skipped up to its end and reported as too long.
const maxScan = 64 * 1024

// lineSplitter is bufio.ScanLines that also ends a line at a lone '\r' (old
// Mac exports) and, instead of failing on a line over maxScan, skips it and
// flags it.
type lineSplitter struct {
	skipping bool // inside an over-long line
	tooLong  bool // the token just returned stands for an over-long line
}

func (s *lineSplitter) scan(data []byte, atEOF bool) (int, []byte, error) {
	if atEOF && len(data) == 0 {
		return 0, nil, nil
	}
	i := bytes.IndexAny(data, "\r\n")
	if s.skipping {
		if i < 0 {
			if atEOF {
				s.skipping = false
			}
			return len(data), nil, nil // discard, keep looking for the end
		}
		s.skipping = false
		return i + 1, nil, nil
	}
	if i >= 0 {
		adv := i + 1
		if data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n' {
			adv++
		} else if data[i] == '\r' && i+1 == len(data) && !atEOF {
			return 0, nil, nil // need one more byte to see CRLF
		}
		return adv, data[:i], nil
	}
	if len(data) >= maxScan {
		s.skipping, s.tooLong = !atEOF, true
		return len(data), []byte{}, nil
	}
	if atEOF {
		return len(data), data, nil
	}
	return 0, nil, nil
}
