package config

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMasterKey(t *testing.T) {
	key32 := bytes.Repeat([]byte{0xfb}, 32) // 0xfb gives '+' and '/' vs '-' and '_'
	std := base64.StdEncoding.EncodeToString(key32)
	cases := []struct {
		name    string
		env     string
		file    string // content of master_key_file; "" means not set
		want    []byte
		wantIs  error
		wantMsg string
	}{
		{"nothing set", "", "", nil, ErrMasterKeyMissing,
			`master key is not set: export CARDFLOW_MASTER_KEY or set master_key_file (create one with "cardflow keygen")`},
		{"env only whitespace", " \n", "", nil, ErrMasterKeyMissing, "master key is not set"},
		{"env not base64", "not base64!!", "", nil, ErrMasterKeyInvalid, "CARDFLOW_MASTER_KEY is not valid base64"},
		{"env holds a 16-byte key", base64.StdEncoding.EncodeToString(key32[:16]), "", nil, ErrMasterKeyInvalid,
			"CARDFLOW_MASTER_KEY decodes to 16 bytes and 32 are needed"},
		{"env standard base64 with newline", std + "\n", "", key32, nil, ""},
		{"env URL-safe unpadded base64", base64.RawURLEncoding.EncodeToString(key32), "", key32, nil, ""},
		{"file wins over env", "garbage", "  " + std + "\n", key32, nil, ""},
		{"file empty", "", "\n", nil, ErrMasterKeyMissing, "is empty"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(MasterKeyEnv, tc.env)
			c := Default()
			if tc.file != "" {
				c.MasterKeyFile = filepath.Join(t.TempDir(), "master.key")
				if err := os.WriteFile(c.MasterKeyFile, []byte(tc.file), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			got, err := c.MasterKey()
			if tc.wantIs != nil {
				if !errors.Is(err, tc.wantIs) || !strings.Contains(err.Error(), tc.wantMsg) {
					t.Fatalf("err = %v, want %v containing %q", err, tc.wantIs, tc.wantMsg)
				}
				if strings.Contains(err.Error(), strings.TrimSpace(tc.env)) && strings.TrimSpace(tc.env) != "" {
					t.Errorf("error shows the key text: %v", err)
				}
				return
			}
			if err != nil || !bytes.Equal(got, tc.want) {
				t.Fatalf("MasterKey() = %x, %v; want %x", got, err, tc.want)
			}
		})
	}
}

func TestMasterKeyFileRelativeToConfigDir(t *testing.T) {
	t.Setenv(MasterKeyEnv, "")
	key, err := GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	src := "master_key_file = \"keys/master.key\"\n" + readTestdata(t, "valid.toml")
	path := writeConfig(t, src, map[string]string{"keys/master.key": key + "\n"})
	c, err := Load(path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if want := filepath.Join(filepath.Dir(path), "keys", "master.key"); c.MasterKeyFile != want {
		t.Errorf("master_key_file = %q, want %q", c.MasterKeyFile, want)
	}
	got, err := c.MasterKey()
	if err != nil {
		t.Fatalf("MasterKey: %v", err)
	}
	if base64.StdEncoding.EncodeToString(got) != key {
		t.Errorf("MasterKey() does not match the file")
	}
}

func TestMasterKeyFileMissingIsAnOSError(t *testing.T) {
	c := Default()
	c.MasterKeyFile = filepath.Join(t.TempDir(), "absent.key")
	_, err := c.MasterKey()
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "master_key_file") {
		t.Fatalf("err = %v, want a wrapped os.ErrNotExist naming master_key_file", err)
	}
}

func TestGenerateMasterKeyGivesDistinct32ByteKeys(t *testing.T) {
	a, err := GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	b, err := GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Fatal("two generated keys are equal")
	}
	if _, err := parseMasterKey(MasterKeyEnv, a); err != nil {
		t.Fatalf("generated key does not parse: %v", err)
	}
}
