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
	"unicode"

	"cardflow/card"
	"cardflow/internal/cardline"
)

// MaxFieldLen bounds each field of a card line.
const MaxFieldLen = cardline.MaxFieldLen

// MaxErrors is how many invalid lines a Reader describes; the rest are
// only counted, so that a file of junk costs no memory for its junk.
const MaxErrors = 100

// LineError says why one line was not imported, without repeating the line:
// it may hold a card key.
type LineError struct {
	Line int
	Why  string
}

// Reader reads card lines: `number`, `number,password` or
// `number,password,expires_at`, one per line, each field plain or quoted as
// in CSV, separated by a comma or a full-width comma (see internal/cardline).
// Blank lines, a UTF-8 byte order mark, CRLF line ends and a header line
// naming the columns are skipped; a line of any length that is not a card is
// counted as invalid, never fatal (a binary file picked by mistake is a
// file of invalid lines). It holds one line at a time.
type Reader struct {
	sc      *bufio.Scanner
	split   lineSplitter
	line    int
	Invalid int         // lines that were not cards
	Errors  []LineError // the first MaxErrors of them, in order
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
func (r *Reader) Next() (card.Card, error) {
	for r.sc.Scan() {
		r.line++
		if r.split.tooLong {
			r.split.tooLong = false
			r.invalid(cardline.ErrTooLong)
			continue
		}
		raw := r.sc.Bytes()
		if r.line == 1 {
			raw = bytes.TrimPrefix(raw, []byte("\ufeff"))
		}
		text := string(raw)
		if strings.TrimFunc(text, isBlank) == "" || (r.line == 1 && isHeader(text)) {
			continue
		}
		c, err := cardline.Parse(text)
		if err != nil {
			r.invalid(err)
			continue
		}
		return card.Card{Number: c.Number, Password: c.Password, ExpiresAt: c.ExpiresAt}, nil
	}
	if err := r.sc.Err(); err != nil {
		return card.Card{}, fmt.Errorf("read line %d: %w", r.line+1, err)
	}
	return card.Card{}, io.EOF
}

func (r *Reader) invalid(why error) {
	r.Invalid++
	if len(r.Errors) < MaxErrors {
		r.Errors = append(r.Errors, LineError{Line: r.line, Why: why.Error()})
	}
}

// headerWords are column names shops put on the first line of an export.
var headerWords = map[string]bool{
	"number": true, "card": true, "card_number": true, "cardnumber": true, "no": true, "卡号": true,
	"卡密": true, "密码": true, "password": true, "card_pwd": true,
}

func isHeader(line string) bool {
	fields, err := cardline.Split(line)
	return err == nil && headerWords[strings.ToLower(fields[0])]
}

func isBlank(r rune) bool { return unicode.IsSpace(r) || unicode.Is(unicode.Cf, r) }

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
