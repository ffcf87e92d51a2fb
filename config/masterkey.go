package config

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"strings"
)

// MasterKeyEnv holds the master key when master_key_file is empty.
const MasterKeyEnv = "CARDFLOW_MASTER_KEY"

// MasterKeySize is the length of the AES-256 master key in bytes.
const MasterKeySize = 32

// MasterKey returns the 32-byte key that encrypts card keys at rest, read from
// master_key_file if set, else from CARDFLOW_MASTER_KEY.
func (c *Config) MasterKey() ([]byte, error) {
	source, text, err := c.masterKeyText()
	if err != nil {
		return nil, err
	}
	return parseMasterKey(source, text)
}

// masterKeyText reads the master key's text and names where it came from.
func (c *Config) masterKeyText() (source, text string, err error) {
	if c.MasterKeyFile == "" {
		return MasterKeyEnv, os.Getenv(MasterKeyEnv), nil
	}
	b, err := os.ReadFile(c.MasterKeyFile)
	if err != nil {
		return "", "", fmt.Errorf("read master_key_file: %w", err)
	}
	return "master_key_file " + c.MasterKeyFile, string(b), nil
}

// masterKeySpellings are the master key's text as given and every base64
// spelling of its bytes, for the log redactor.
func (c *Config) masterKeySpellings() []string {
	_, text, err := c.masterKeyText()
	text = strings.TrimSpace(text)
	if err != nil || text == "" {
		return nil
	}
	out := []string{text}
	if key, err := decodeBase64(text); err == nil {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
			out = append(out, enc.EncodeToString(key))
		}
	}
	return out
}

// parseMasterKey decodes text taken from source; errors name the source,
// never the text.
func parseMasterKey(source, text string) ([]byte, error) {
	const fix = `create a new key with "cardflow keygen"`
	text = strings.TrimSpace(text)
	if text == "" {
		if source == MasterKeyEnv {
			return nil, fmt.Errorf(`%w: export %s or set master_key_file (create one with "cardflow keygen")`, ErrMasterKeyMissing, MasterKeyEnv)
		}
		return nil, fmt.Errorf("%w: %s is empty; %s", ErrMasterKeyMissing, source, fix)
	}
	key, err := decodeBase64(text)
	if err != nil {
		return nil, fmt.Errorf("%w: %s is not valid base64 (%v); %s", ErrMasterKeyInvalid, source, err, fix)
	}
	if len(key) != MasterKeySize {
		return nil, fmt.Errorf("%w: %s decodes to %d bytes and %d are needed; %s", ErrMasterKeyInvalid, source, len(key), MasterKeySize, fix)
	}
	return key, nil
}

// decodeBase64 accepts standard and URL-safe base64, padded or not.
func decodeBase64(s string) ([]byte, error) {
	var first error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		b, err := enc.DecodeString(s)
		if err == nil {
			return b, nil
		}
		if first == nil {
			first = err
		}
	}
	return nil, first
}

// GenerateMasterKey returns a new random master key, base64 encoded.
func GenerateMasterKey() (string, error) {
	key := make([]byte, MasterKeySize)
	if _, err := rand.Read(key); err != nil {
		return "", fmt.Errorf("generate master key: %w", err)
	}
	return base64.StdEncoding.EncodeToString(key), nil
}
