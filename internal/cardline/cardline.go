// Package cardline reads one line of a card-key import file:
// number[,password[,expires_at]]. Fields are quoted as in CSV (RFC 4180,
// as encoding/csv reads it: a field may be wrapped in double quotes, and a
// quote inside a quoted field is doubled), and the line may carry what
// people's exports and keyboards add: blanks around fields (spaces, tabs,
// a no-break or ideographic space, a byte order mark or zero-width
// character) and a full-width comma (，) as the separator.
//
// A quote inside a field that does not start with one is kept as it is (as
// encoding/csv's LazyQuotes reads it): `pw"x` can mean nothing else, and
// passwords hold quotes. What a quote leaves ambiguous is refused with
// the reason: an unclosed quoted field, text after a closing quote.
//
// The stock import reads every line with it, and the store reads the lines
// of cards stored before it existed with it again (see storage/reprint.go),
// so the two must never disagree: there is one parser.
package cardline

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// MaxFieldLen bounds each field of a card line.
const MaxFieldLen = 256

// MaxLineLen bounds a whole line; longer lines are invalid.
const MaxLineLen = 4 * MaxFieldLen

// fullWidthComma separates fields like ','.
const fullWidthComma = '，'

// Errors say why a line is not a card without repeating it: it may hold a
// card key.
var (
	ErrTooLong     = errors.New("line too long")
	ErrNotUTF8     = errors.New("not valid UTF-8")
	ErrOpenQuote   = errors.New("a quoted field is not closed on its line")
	ErrAfterQuote  = errors.New("text after a closing quote; put the whole field inside the quotes")
	ErrEmptyNumber = errors.New("empty card number")
	ErrFieldLong   = errors.New("field longer than 256 bytes")
	ErrControl     = errors.New("control character")
	ErrExpiry      = errors.New("expires_at is not a date like 2027-12-31")
)

// FieldCountError is a line of more than three fields.
type FieldCountError int

func (n FieldCountError) Error() string {
	return fmt.Sprintf("%d fields; want number[,password[,expires_at]]", int(n))
}

// expiryLayouts are the expires_at forms shops and suppliers use.
var expiryLayouts = []string{time.DateOnly, time.DateTime, time.RFC3339, "2006/01/02", "2006/01/02 15:04:05"}

// Card is the fields of one line.
type Card struct {
	Number, Password, ExpiresAt string
}

// Parse reads one line (without its line end) as a card.
func Parse(line string) (Card, error) {
	fields, err := Split(line)
	if err != nil {
		return Card{}, err
	}
	if len(fields) > 3 {
		return Card{}, FieldCountError(len(fields))
	}
	var c Card
	c.Number = fields[0]
	if len(fields) > 1 {
		c.Password = fields[1]
	}
	if len(fields) > 2 {
		c.ExpiresAt = fields[2]
	}
	switch {
	case c.Number == "":
		return Card{}, ErrEmptyNumber
	case len(c.Number) > MaxFieldLen || len(c.Password) > MaxFieldLen || len(c.ExpiresAt) > MaxFieldLen:
		return Card{}, ErrFieldLong
	case hasControl(c.Number) || hasControl(c.Password) || hasControl(c.ExpiresAt):
		return Card{}, ErrControl
	case c.ExpiresAt != "" && !validExpiry(c.ExpiresAt):
		return Card{}, ErrExpiry
	}
	return c, nil
}

// Split cuts a line into its fields, unquoted and without surrounding
// blanks. It checks the line's length, encoding and quoting, not what the
// fields hold.
func Split(line string) ([]string, error) {
	if len(line) > MaxLineLen {
		return nil, ErrTooLong
	}
	if !utf8.ValidString(line) {
		return nil, ErrNotUTF8
	}
	fields := make([]string, 0, 3)
	i := 0
	for {
		i = skipBlanks(line, i)
		var field string
		if i < len(line) && line[i] == '"' {
			var b strings.Builder
			i++
			for {
				j := strings.IndexByte(line[i:], '"')
				if j < 0 {
					return nil, ErrOpenQuote
				}
				b.WriteString(line[i : i+j])
				i += j + 1
				if i < len(line) && line[i] == '"' { // a doubled quote is one quote
					b.WriteByte('"')
					i++
					continue
				}
				break
			}
			field = b.String()
			if i = skipBlanks(line, i); i < len(line) && sepLen(line, i) == 0 {
				return nil, ErrAfterQuote
			}
		} else {
			end := i
			for end < len(line) && sepLen(line, end) == 0 {
				end++
			}
			field = line[i:end]
			i = end
		}
		fields = append(fields, strings.TrimFunc(field, isBlank))
		if i >= len(line) {
			return fields, nil
		}
		i += sepLen(line, i)
	}
}

// sepLen is the length of the field separator at s[i], 0 if none.
func sepLen(s string, i int) int {
	if s[i] == ',' {
		return 1
	}
	if r, n := utf8.DecodeRuneInString(s[i:]); r == fullWidthComma {
		return n
	}
	return 0
}

func skipBlanks(s string, i int) int {
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if !isBlank(r) {
			break
		}
		i += n
	}
	return i
}

// isBlank is what may surround a field: white space and invisible format
// characters (a byte order mark where files were joined, a zero-width
// space from a web page).
func isBlank(r rune) bool { return unicode.IsSpace(r) || unicode.Is(unicode.Cf, r) }

func hasControl(s string) bool { return strings.IndexFunc(s, unicode.IsControl) >= 0 }

func validExpiry(s string) bool {
	for _, layout := range expiryLayouts {
		if _, err := time.Parse(layout, s); err == nil {
			return true
		}
	}
	return false
}
