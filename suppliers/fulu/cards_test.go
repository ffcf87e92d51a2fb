package fulu_test

import (
	"strings"
	"testing"

	"cardflow/suppliers/fulu"
)

func TestCardCipherDecryptsSpecVector(t *testing.T) {
	c, err := fulu.NewCardCipher(appSecret)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ name, in, want string }{
		{"card_number from the AES vector", "12nCp6X/nALmrvr1erxK+D4L8n/kqz/RItKWUfvZrCU=", "CD1000250201906121742434441"},
		{"card_pwd from Q1", "9HeOgdv+NpLihh2+5Gm0Mj4L8n/kqz/RItKWUfvZrCU=", "CP1000250201906121742434441"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := c.Decrypt(tc.in)
			if err != nil || got != tc.want {
				t.Fatalf("Decrypt = %q, %v; want %q", got, err, tc.want)
			}
			if enc := c.Encrypt(tc.want); enc != tc.in {
				t.Errorf("Encrypt = %s, want %s", enc, tc.in)
			}
		})
	}
}

func TestCardCipherRoundTripsAnyLength(t *testing.T) {
	c, _ := fulu.NewCardCipher(appSecret)
	for _, s := range []string{"", "a", strings.Repeat("x", 15), strings.Repeat("y", 16), strings.Repeat("z", 17), "卡密-中文"} {
		got, err := c.Decrypt(c.Encrypt(s))
		if err != nil || got != s {
			t.Errorf("round trip of %q = %q, %v", s, got, err)
		}
	}
}

func TestCardCipherRejectsDamagedFields(t *testing.T) {
	c, _ := fulu.NewCardCipher(appSecret)
	other, _ := fulu.NewCardCipher(strings.Repeat("k", 32))
	cases := []struct{ name, in string }{
		{"not base64", "***"},
		{"empty after decoding", ""},
		{"not whole blocks", "AAAA"},
		{"another key", other.Encrypt("CD1000250201906121742434441")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got, err := c.Decrypt(tc.in); err == nil {
				t.Fatalf("Decrypt = %q, want an error", got)
			}
		})
	}
}

func TestNewCardCipherWantsThirtyTwoASCIIBytes(t *testing.T) {
	cases := []struct {
		name, secret string
		ok           bool
	}{
		{"sandbox secret", appSecret, true},
		{"31 bytes", appSecret[:31], false},
		{"33 bytes", appSecret + "0", false},
		{"non-ASCII", "密" + appSecret[3:], false},
		{"control character", "\t" + appSecret[1:], false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := fulu.NewCardCipher(tc.secret)
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
			if err != nil && strings.Contains(err.Error(), tc.secret) {
				t.Errorf("error repeats the secret: %v", err)
			}
		})
	}
}
