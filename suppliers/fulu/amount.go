package fulu

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"cardflow/internal/money"
)

// Fulu writes prices as JSON numbers in yuan ("order_price":1.0,
// "balance":1234.5678). They are read from the number's text, never through
// float64, so that 0.1 + 0.2 problems cannot reach the books.

var errAmount = errors.New("bad amount")

// parseYuan converts a JSON number text in yuan to fen, rounding half up
// (away from zero) at the third decimal. Exponents ("1e2", "1.5E-1") are
// accepted because JSON allows them. A leading '-' is kept: a balance can be
// negative on credit.
func parseYuan(text string) (money.Amount, error) {
	s := text
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	mant, expText, hasExp := strings.Cut(strings.ToLower(s), "e")
	exp := 0
	if hasExp {
		e, err := strconv.Atoi(expText)
		if err != nil || e < -40 || e > 40 {
			return 0, fmt.Errorf("%w: %q", errAmount, text)
		}
		exp = e
	}
	whole, frac, hasDot := strings.Cut(mant, ".")
	if whole == "" || !allDigits(whole) || (hasDot && (frac == "" || !allDigits(frac))) {
		return 0, fmt.Errorf("%w: %q is not a number", errAmount, text)
	}
	digits := whole + frac
	// digits[:p] is the amount in fen, digits[p] decides the rounding.
	p := len(whole) + exp + 2
	fen, next := "0", byte('0')
	switch {
	case p < 0:
	case p == 0:
		next = digits[0]
	case p >= len(digits):
		fen = digits + strings.Repeat("0", p-len(digits))
	default:
		fen, next = digits[:p], digits[p]
	}
	fen = strings.TrimLeft(fen, "0")
	if fen == "" {
		fen = "0"
	}
	if len(fen) > 18 {
		return 0, fmt.Errorf("%w: %q is too large", errAmount, text)
	}
	n, err := strconv.ParseInt(fen, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %q", errAmount, text)
	}
	if next >= '5' {
		n++
	}
	if n > int64(money.Max) {
		return 0, fmt.Errorf("%w: %q is larger than %s", errAmount, text, money.Max)
	}
	if neg {
		n = -n
	}
	return money.Amount(n), nil
}

// yuanNumber writes fen as a JSON number with exactly two decimals: 150 →
// 1.50. It is built from the integer, never from a float.
func yuanNumber(a money.Amount) json.Number {
	return json.Number(a.String())
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
