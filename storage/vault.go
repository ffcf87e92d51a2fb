package storage

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"

	"cardflow/card"
	"cardflow/internal/signing"
)

// Fingerprint is the keyed HMAC of a normalized card key. It is what makes a
// card unique across stock and deliveries without storing the key itself.
type Fingerprint [32]byte

// SealedCard is a card as stored: its fingerprint and its AES-256-GCM box.
// Moving a card from stock to an order copies the box untouched.
type SealedCard struct {
	FP  Fingerprint `json:"fp"`
	Box []byte      `json:"box"`
}

// Vault seals card keys and computes their fingerprints. The master key never
// leaves it; the cipher and HMAC keys are derived from it with HKDF so that
// one key is never used for two purposes.
type Vault struct {
	aead     cipher.AEAD
	fpMAC    *signing.MAC
	buyerMAC *signing.MAC
	bindMAC  *signing.MAC // operator bind codes (bindings.go)
}

const (
	cardAAD     = "cardflow/card/v1"
	checkPlain  = "cardflow master key check"
	checkAAD    = "cardflow/check/v1"
	masterBytes = 32
)

// NewVault derives the vault's keys from a 32-byte master key.
func NewVault(master []byte) (*Vault, error) {
	if len(master) != masterBytes {
		return nil, fmt.Errorf("%w: got %d bytes, need %d", ErrMasterKey, len(master), masterBytes)
	}
	encKey, err := hkdf.Key(sha256.New, master, nil, "cardflow card encryption v1", 32)
	if err != nil {
		return nil, fmt.Errorf("derive encryption key: %w", err)
	}
	fpKey, err := hkdf.Key(sha256.New, master, nil, "cardflow card fingerprint v1", 32)
	if err != nil {
		return nil, fmt.Errorf("derive fingerprint key: %w", err)
	}
	buyerKey, err := hkdf.Key(sha256.New, master, nil, "cardflow buyer history v1", 32)
	if err != nil {
		return nil, fmt.Errorf("derive buyer key: %w", err)
	}
	bindKey, err := hkdf.Key(sha256.New, master, nil, "cardflow bind code v1", 32)
	if err != nil {
		return nil, fmt.Errorf("derive bind code key: %w", err)
	}
	block, err := aes.NewCipher(encKey)
	if err != nil {
		return nil, fmt.Errorf("create cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("create gcm: %w", err)
	}
	return &Vault{aead: aead, fpMAC: signing.NewMAC(fpKey), buyerMAC: signing.NewMAC(buyerKey), bindMAC: signing.NewMAC(bindKey)}, nil
}

// Fingerprint identifies a card by its number, or by its password when the
// supplier issues password-only keys. Two cards with the same number are the
// same card even if their passwords differ: delivering both would hand one
// physical card to two buyers.
func (v *Vault) Fingerprint(c card.Card) Fingerprint {
	id := card.Normalize(c.Number)
	if id == "" {
		id = "pwd:" + card.Normalize(c.Password)
	}
	return v.fpMAC.Sum(nil, id)
}

// Seal encrypts a card with a fresh random nonce.
func (v *Vault) Seal(c card.Card) (SealedCard, error) {
	box, err := v.seal(encodeCard(c), cardAAD)
	if err != nil {
		return SealedCard{}, err
	}
	return SealedCard{FP: v.Fingerprint(c), Box: box}, nil
}

// Open decrypts a sealed card.
func (v *Vault) Open(s SealedCard) (card.Card, error) {
	plain, err := v.open(s.Box, cardAAD)
	if err != nil {
		return card.Card{}, err
	}
	c, err := decodeCard(plain)
	if err != nil {
		return card.Card{}, fmt.Errorf("decode card: %w", err)
	}
	return c, nil
}

// The plaintext inside a card's box. Cards sealed before the binary form
// hold JSON, which starts with '{'; the binary form starts with its
// version. Every delivery opens its cards twice (the answer and the
// callback), and decoding JSON was most of the cost of opening.
const cardFormat = 2

func encodeCard(c card.Card) []byte {
	e := encoder{b: make([]byte, 0, 4+len(c.Number)+len(c.Password)+len(c.ExpiresAt))}
	e.b = append(e.b, cardFormat)
	e.str(c.Number)
	e.str(c.Password)
	e.str(c.ExpiresAt)
	return e.b
}

func decodeCard(plain []byte) (card.Card, error) {
	var c card.Card
	switch {
	case len(plain) > 0 && plain[0] == '{':
		err := json.Unmarshal(plain, &c)
		return c, err
	case len(plain) > 0 && plain[0] == cardFormat:
		d := decoder{b: plain[1:]}
		c.Number, c.Password, c.ExpiresAt = d.str(), d.str(), d.str()
		if d.err != nil || len(d.b) != 0 {
			return card.Card{}, errCorrupt
		}
		return c, nil
	}
	return card.Card{}, fmt.Errorf("%w: unknown card format", errCorrupt)
}

// OpenAll decrypts a list of sealed cards.
func (v *Vault) OpenAll(sealed []SealedCard) ([]card.Card, error) {
	cards := make([]card.Card, 0, len(sealed))
	for _, s := range sealed {
		c, err := v.Open(s)
		if err != nil {
			return nil, err
		}
		cards = append(cards, c)
	}
	return cards, nil
}

func (v *Vault) seal(plain []byte, aad string) ([]byte, error) {
	nonce := make([]byte, v.aead.NonceSize(), v.aead.NonceSize()+len(plain)+v.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("read nonce: %w", err)
	}
	return v.aead.Seal(nonce, nonce, plain, []byte(aad)), nil
}

func (v *Vault) open(box []byte, aad string) ([]byte, error) {
	n := v.aead.NonceSize()
	if len(box) < n+v.aead.Overhead() {
		return nil, ErrDecrypt
	}
	plain, err := v.aead.Open(nil, box[:n], box[n:], []byte(aad))
	if err != nil {
		return nil, ErrDecrypt
	}
	return plain, nil
}

// checkValue is stored once per database so that opening it with another
// master key fails at start-up instead of at the first delivery.
func (v *Vault) checkValue() ([]byte, error) { return v.seal([]byte(checkPlain), checkAAD) }

func (v *Vault) verify(stored []byte) error {
	plain, err := v.open(stored, checkAAD)
	if err != nil || string(plain) != checkPlain {
		return fmt.Errorf("%w: this database was created with a different master key", ErrMasterKey)
	}
	return nil
}
