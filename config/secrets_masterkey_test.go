package config

import (
	"bytes"
	"encoding/base64"
	"path/filepath"
	"slices"
	"testing"
)

// TestSecretsIncludeTheMasterKey: the log redactor learns the master key
// as it was given (from the environment or master_key_file) and in every
// base64 spelling of the same 32 bytes, whichever way it was read.
func TestSecretsIncludeTheMasterKey(t *testing.T) {
	key := bytes.Repeat([]byte{0xfb}, 32) // '+' and '/' in standard base64, '-' and '_' in URL-safe
	spellings := map[string]string{"standard": base64.StdEncoding.EncodeToString(key), "unpadded": base64.RawStdEncoding.EncodeToString(key),
		"URL-safe": base64.URLEncoding.EncodeToString(key), "URL-safe unpadded": base64.RawURLEncoding.EncodeToString(key)}
	for _, tc := range []struct {
		name string
		env  string
		file string
	}{
		{"from the environment", base64.RawURLEncoding.EncodeToString(key) + "\n", ""},
		{"from master_key_file", "", " " + base64.StdEncoding.EncodeToString(key) + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(MasterKeyEnv, tc.env)
			src := readTestdata(t, "valid.toml")
			files := map[string]string{}
			if tc.file != "" {
				src = "master_key_file = \"master.key\"\n" + src
				files["master.key"] = tc.file
			}
			c, err := Load(writeConfig(t, src, files))
			if err != nil {
				t.Fatal(err)
			}
			if tc.file != "" && filepath.Base(c.MasterKeyFile) != "master.key" {
				t.Fatalf("master_key_file = %q", c.MasterKeyFile)
			}
			got := c.Secrets()
			for name, s := range spellings {
				if !slices.Contains(got, s) {
					t.Errorf("Secrets() lacks the master key in %s base64", name)
				}
			}
			if slices.Contains(got, c.MasterKeyFile) {
				t.Errorf("Secrets() holds the key file's path, which is not a secret")
			}
		})
	}
}
