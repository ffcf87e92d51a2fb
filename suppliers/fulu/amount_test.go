package fulu

import (
	"testing"

	"cardflow/internal/money"
)

func TestParseYuanReadsNumberTextExactly(t *testing.T) {
	cases := []struct {
		in   string
		want money.Amount
		ok   bool
	}{
		{"1", 100, true},
		{"1.0", 100, true},
		{"1.00", 100, true},
		{"0.1", 10, true},
		{"0.01", 1, true},
		{"1234.5678", 123457, true},
		{"0.004", 0, true},
		{"0.005", 1, true},
		{"0.0049999", 0, true},
		{"2.675", 268, true}, // float64 would say 2.67
		{"0.3", 30, true},
		{"1e2", 10000, true},
		{"1.5E-1", 15, true},
		{"5e-3", 1, true},
		{"5e-4", 0, true},
		{"-1.5", -150, true},
		{"999999999.99", money.Max, true},
		{"1000000000", 0, false},
		{"1e40", 0, false},
		{"", 0, false},
		{".5", 0, false},
		{"1.", 0, false},
		{"abc", 0, false},
		{"1e", 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseYuan(tc.in)
			if (err == nil) != tc.ok || got != tc.want {
				t.Fatalf("parseYuan(%q) = %d, %v; want %d ok=%v", tc.in, got, err, tc.want, tc.ok)
			}
		})
	}
}

func TestYuanNumberHasExactlyTwoDecimals(t *testing.T) {
	cases := map[money.Amount]string{1: "0.01", 100: "1.00", 150: "1.50", 123456: "1234.56", 10: "0.10"}
	for fen, want := range cases {
		if got := yuanNumber(fen); string(got) != want {
			t.Errorf("yuanNumber(%d) = %s, want %s", fen, got, want)
		}
	}
}

func TestQueryBackoffFollowsFuluRhythm(t *testing.T) {
	want := map[int]int{-1: 1, 0: 1, 1: 2, 2: 3, 3: 3, 19: 3, 20: 4, 21: 5, 46: 30, 47: 30, 1000: 30}
	for n, s := range want {
		if got := QueryBackoff(n); got.Seconds() != float64(s) {
			t.Errorf("QueryBackoff(%d) = %v, want %ds", n, got, s)
		}
	}
	for n := 1; n < 100; n++ {
		if QueryBackoff(n) < QueryBackoff(n-1) {
			t.Errorf("QueryBackoff shrinks at %d", n)
		}
	}
}
