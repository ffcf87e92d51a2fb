// Package money holds amounts as integer fen (1/100 yuan). Amounts cross the
// outside world only as decimal strings with at most two decimals; floats are
// never involved.
package money

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Amount is a non-negative sum of money in fen.
type Amount int64

// Max is the largest amount accepted from outside: 999,999,999.99 yuan. It keeps
// every sum of a day's orders far from int64 overflow.
const Max Amount = 99_999_999_999

// ErrInvalid is wrapped by every parse failure.
var ErrInvalid = errors.New("invalid amount")

// Parse reads a decimal string such as "100", "100.5" or "100.00".
func Parse(s string) (Amount, error) {
	if s == "" {
		return 0, fmt.Errorf("%w: empty", ErrInvalid)
	}
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" || !allDigits(whole) || (hasDot && (frac == "" || !allDigits(frac))) {
		return 0, fmt.Errorf("%w: %q is not a decimal number like \"100.00\"", ErrInvalid, s)
	}
	if len(frac) > 2 {
		return 0, fmt.Errorf("%w: %q has more than two decimals", ErrInvalid, s)
	}
	if len(whole) > 9 {
		return 0, fmt.Errorf("%w: %q is larger than %s", ErrInvalid, s, Max)
	}
	for len(frac) < 2 {
		frac += "0"
	}
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %q", ErrInvalid, s)
	}
	return Amount(n), nil
}

// ParseSigned reads a decimal string that may start with "-": an
// adjustment that takes money away ("-50.00").
func ParseSigned(s string) (Amount, error) {
	if rest, neg := strings.CutPrefix(s, "-"); neg {
		a, err := Parse(rest)
		return -a, err
	}
	return Parse(s)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// String formats the amount as yuan with two decimals: "100.00".
func (a Amount) String() string {
	// strconv, not fmt: every order's answer and callback formats amounts.
	b := make([]byte, 0, 24)
	if a < 0 {
		b, a = append(b, '-'), -a
	}
	b = strconv.AppendInt(b, int64(a/100), 10)
	f := a % 100
	b = append(b, '.', byte('0'+f/10), byte('0'+f%10))
	return string(b)
}

// Yuan returns the amount in yuan for rule expressions and charts, where a
// float is the natural unit and no money is computed from it.
func (a Amount) Yuan() float64 { return float64(a) / 100 }

// MarshalText writes the decimal string form.
func (a Amount) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText parses the decimal string form.
func (a *Amount) UnmarshalText(b []byte) error {
	v, err := Parse(string(b))
	if err != nil {
		return err
	}
	*a = v
	return nil
}
