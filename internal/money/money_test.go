package money

import (
	"errors"
	"testing"
)

func TestParse(t *testing.T) {
	good := map[string]Amount{
		"0": 0, "0.00": 0, "1": 100, "100.00": 10000, "100.5": 10050, "0.01": 1,
		"999999999.99": Max, "007.10": 710,
	}
	for in, want := range good {
		got, err := Parse(in)
		if err != nil || got != want {
			t.Errorf("Parse(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	bad := []string{"", ".", "1.", ".5", "100.001", "abc", "1e3", "-1", "+1", " 1", "1 ", "1,00",
		"1000000000", "1.2.3", "１２", "0x10", "NaN"}
	for _, in := range bad {
		if _, err := Parse(in); !errors.Is(err, ErrInvalid) {
			t.Errorf("Parse(%q) err = %v; want ErrInvalid", in, err)
		}
	}
}

func TestStringRoundTrip(t *testing.T) {
	for _, a := range []Amount{0, 1, 10, 99, 100, 10050, Max} {
		b, _ := a.MarshalText()
		var back Amount
		if err := back.UnmarshalText(b); err != nil || back != a {
			t.Errorf("round trip %d via %q = %d, %v", a, b, back, err)
		}
	}
	if s := Amount(-150).String(); s != "-1.50" {
		t.Errorf("negative = %q", s)
	}
}

// TestParseSignedTakesALeadingMinusOnly: "-50.00" is a debit; "--1",
// "+1", "-" and "1-" are refused.
func TestParseSignedTakesALeadingMinusOnly(t *testing.T) {
	for in, want := range map[string]Amount{"-50.00": -5000, "50": 5000, "-0.01": -1, "0": 0} {
		if got, err := ParseSigned(in); err != nil || got != want {
			t.Errorf("ParseSigned(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"--1", "+1", "-", "1-", "- 1", "-1.001", "-1000000000"} {
		if got, err := ParseSigned(in); err == nil {
			t.Errorf("ParseSigned(%q) = %d, want an error", in, got)
		}
	}
}
