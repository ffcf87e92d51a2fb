package fulu

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"cardflow/card"
)

// Card keys travel as base64 of AES-256-ECB with PKCS7 padding, no IV, keyed
// with the 32 ASCII bytes of the AppSecret. ECB is Fulu's choice, not ours;
// the standard library has no ECB mode, so it is done block by block here.

// errCardCipher is wrapped by every card decryption failure. Its messages
// never include the ciphertext or the plaintext.
var errCardCipher = errors.New("card cipher")

// CardCipher encrypts and decrypts Fulu card fields.
type CardCipher struct{ block cipher.Block }

// NewCardCipher keys a cipher with the AppSecret, which must be 32 ASCII
// bytes.
func NewCardCipher(appSecret string) (*CardCipher, error) {
	if err := checkSecret(appSecret); err != nil {
		return nil, err
	}
	block, err := aes.NewCipher([]byte(appSecret))
	if err != nil {
		return nil, fmt.Errorf("create card cipher: %w", err)
	}
	return &CardCipher{block: block}, nil
}

// checkSecret says what is wrong with an AppSecret without repeating it.
func checkSecret(s string) error {
	if len(s) != 32 {
		return fmt.Errorf("app_secret: must be 32 ASCII characters (it is the AES-256 card key), got %d bytes", len(s))
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return errors.New("app_secret: must be 32 printable ASCII characters (it is the AES-256 card key); copy it from the Fulu console again")
		}
	}
	return nil
}

// Encrypt returns base64(AES-256-ECB(PKCS7(plain))).
func (c *CardCipher) Encrypt(plain string) string {
	n := aes.BlockSize - len(plain)%aes.BlockSize
	buf := make([]byte, len(plain)+n)
	copy(buf, plain)
	for i := len(plain); i < len(buf); i++ {
		buf[i] = byte(n)
	}
	for i := 0; i < len(buf); i += aes.BlockSize {
		c.block.Encrypt(buf[i:i+aes.BlockSize], buf[i:i+aes.BlockSize])
	}
	return base64.StdEncoding.EncodeToString(buf)
}

// Decrypt reverses Encrypt. A wrong key or a damaged field is an error:
// bad base64, a length that is not whole blocks, bad padding, or a
// plaintext that is not UTF-8.
func (c *CardCipher) Decrypt(b64 string) (string, error) {
	buf, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	if err != nil {
		return "", fmt.Errorf("%w: field is not base64", errCardCipher)
	}
	if len(buf) == 0 || len(buf)%aes.BlockSize != 0 {
		return "", fmt.Errorf("%w: %d bytes is not a whole number of AES blocks", errCardCipher, len(buf))
	}
	for i := 0; i < len(buf); i += aes.BlockSize {
		c.block.Decrypt(buf[i:i+aes.BlockSize], buf[i:i+aes.BlockSize])
	}
	n := int(buf[len(buf)-1])
	if n == 0 || n > aes.BlockSize || !bytes.Equal(buf[len(buf)-n:], bytes.Repeat([]byte{byte(n)}, n)) {
		return "", fmt.Errorf("%w: bad padding (wrong app_secret?)", errCardCipher)
	}
	plain := buf[:len(buf)-n]
	if !utf8.Valid(plain) {
		return "", fmt.Errorf("%w: plaintext is not UTF-8 (wrong app_secret?)", errCardCipher)
	}
	return string(plain), nil
}

// decodeCards reads Fulu's cards array. Field names are matched without
// regard to case or underscores, so card_number, CardNumber and cardnumber
// are the same field. Either every card decrypts or the answer is an error:
// half a set is never delivered.
func (c *CardCipher) decodeCards(raw []json.RawMessage) ([]card.Card, error) {
	cards := make([]card.Card, 0, len(raw))
	for i, r := range raw {
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(r, &fields); err != nil {
			return nil, fmt.Errorf("card %d: not an object", i+1)
		}
		var number, pwd, deadline string
		for k, v := range fields {
			var dst *string
			switch strings.ToLower(strings.ReplaceAll(k, "_", "")) {
			case "cardnumber":
				dst = &number
			case "cardpwd":
				dst = &pwd
			case "carddeadline":
				dst = &deadline
			default:
				continue
			}
			if string(v) == "null" {
				continue
			}
			if err := json.Unmarshal(v, dst); err != nil {
				return nil, fmt.Errorf("card %d: field %s is not a string", i+1, k)
			}
		}
		var card card.Card
		var err error
		if number != "" {
			if card.Number, err = c.Decrypt(number); err != nil {
				return nil, fmt.Errorf("card %d number: %w", i+1, err)
			}
		}
		if pwd != "" {
			if card.Password, err = c.Decrypt(pwd); err != nil {
				return nil, fmt.Errorf("card %d password: %w", i+1, err)
			}
		}
		if strings.TrimSpace(card.Number) == "" && strings.TrimSpace(card.Password) == "" {
			return nil, fmt.Errorf("card %d: neither number nor password", i+1)
		}
		card.ExpiresAt = deadline
		cards = append(cards, card)
	}
	return cards, nil
}
