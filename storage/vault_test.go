package storage

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"cardflow/card"
	"cardflow/internal/testkit"
)

func TestNormalizeTreatsFormattingVariantsAsOneCard(t *testing.T) {
	same := []string{"ABCD-EFGH-1234", "abcd efgh 1234", " abcdEFGH1234 ", "ＡＢＣＤ－ＥＦＧＨ－１２３４"}
	v, err := NewVault(testkit.MasterKey())
	if err != nil {
		t.Fatal(err)
	}
	want := v.Fingerprint(card.Card{Number: same[0]})
	for _, s := range same[1:] {
		if got := v.Fingerprint(card.Card{Number: s, Password: "different"}); got != want {
			t.Errorf("fingerprint(%q) differs from fingerprint(%q)", s, same[0])
		}
	}
	if v.Fingerprint(card.Card{Number: "ABCD-EFGH-1235"}) == want {
		t.Error("different numbers share a fingerprint")
	}
	// Password-only keys are identified by their password.
	if v.Fingerprint(card.Card{Password: "p1"}) == v.Fingerprint(card.Card{Password: "p2"}) {
		t.Error("password-only cards with different passwords share a fingerprint")
	}
	// The fingerprint is keyed: another master key gives another fingerprint.
	other, _ := NewVault([]byte(strings.Repeat("k", 32)))
	if other.Fingerprint(card.Card{Number: same[0]}) == want {
		t.Error("fingerprint does not depend on the master key")
	}
}

func TestSealOpenRoundTripAndTamper(t *testing.T) {
	v, _ := NewVault(testkit.MasterKey())
	c := card.Card{Number: "CARD-0001", Password: "pw-1", ExpiresAt: "2027-12-31"}
	s, err := v.Seal(c)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(s.Box), "CARD-0001") || strings.Contains(string(s.Box), "pw-1") {
		t.Fatal("sealed box holds plaintext")
	}
	got, err := v.Open(s)
	if err != nil || got != c {
		t.Fatalf("open = %+v, %v", got, err)
	}
	s2, _ := v.Seal(c)
	if string(s2.Box) == string(s.Box) {
		t.Error("two seals of one card are identical: nonce reused")
	}
	s.Box[len(s.Box)-1] ^= 1
	if _, err := v.Open(s); !errors.Is(err, ErrDecrypt) {
		t.Errorf("tampered box: err = %v, want ErrDecrypt", err)
	}
	if _, err := v.Open(SealedCard{Box: []byte("short")}); !errors.Is(err, ErrDecrypt) {
		t.Errorf("short box: err = %v, want ErrDecrypt", err)
	}
}

// TestOpenReadsCardsSealedAsJSON: boxes written before the binary card form
// (JSON inside) still open; a box with an unknown form is an error, not an
// empty card.
func TestOpenReadsCardsSealedAsJSON(t *testing.T) {
	v, _ := NewVault(testkit.MasterKey())
	c := card.Card{Number: "OLD-0001", Password: "pw-old", ExpiresAt: "2027-01-01"}
	box, err := v.seal([]byte(`{"number":"OLD-0001","password":"pw-old","expires_at":"2027-01-01"}`), cardAAD)
	if err != nil {
		t.Fatal(err)
	}
	got, err := v.Open(SealedCard{Box: box})
	if err != nil || got != c {
		t.Fatalf("legacy box opens as %+v, %v", got, err)
	}
	for _, plain := range [][]byte{{}, {7, 1, 'x'}, {cardFormat, 9, 'x'}, append(encodeCard(c), 0)} {
		box, _ := v.seal(plain, cardAAD)
		if got, err := v.Open(SealedCard{Box: box}); err == nil {
			t.Errorf("plaintext %q opens as %+v", plain, got)
		}
	}
}

// BenchmarkOpenCard compares opening a card in the binary form with the
// JSON form it replaced.
func BenchmarkOpenCard(b *testing.B) {
	v, _ := NewVault(testkit.MasterKey())
	c := card.Card{Number: "CARD-0001-2345-6789", Password: "pw-0001-2345", ExpiresAt: "2027-12-31"}
	binary, _ := v.Seal(c)
	plain, _ := json.Marshal(c)
	legacy, _ := v.seal(plain, cardAAD)
	for name, s := range map[string]SealedCard{"binary": binary, "json": {Box: legacy}} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Open(s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
