package logging

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
)

// secretsThatNeedEscaping are configured secrets with every character a
// JSON encoder writes differently from the secret itself: a quote, a
// backslash, control characters, HTML characters (encoding/json escapes
// them in Interface fields), non-ASCII text, a DEL and a line separator.
var secretsThatNeedEscaping = []string{
	`tok"en-with-quote`,
	`back\slash-secret`,
	"line\nbreak-secret",
	"tab\tand\rreturn-secret",
	"<html>&amp-secret",
	"密钥-非ASCII-secret",
	"del\x7f-and\u2028-sep-secret",
	"bell\a-control-secret",
}

// TestJSONEscapedSecretsAreRedacted logs each secret the ways code does
// (a string field, an error, a message, an Interface value, inside a longer
// text) and checks that no line, read back as JSON, holds the secret.
func TestJSONEscapedSecretsAreRedacted(t *testing.T) {
	for _, format := range []string{"json", "console"} {
		for _, secret := range secretsThatNeedEscaping {
			t.Run(format+"/"+strconv.Quote(secret), func(t *testing.T) {
				var buf bytes.Buffer
				log, err := New(&buf, "info", format, []string{secret})
				if err != nil {
					t.Fatal(err)
				}
				log.Info().Str("token", secret).Msg("a string field")
				log.Info().Str("url", "https://x.example/bot"+secret+"/getMe").Msg("inside a longer text")
				log.Error().Err(errors.New("call failed: " + secret)).Msg("an error")
				log.Info().Msg("the message itself " + secret)
				log.Info().Interface("cfg", map[string]string{"token": secret}).Msg("an Interface value")
				out := buf.String()
				if strings.Count(out, "<redacted>") < 5 {
					t.Errorf("want 5 redactions, got:\n%s", out)
				}
				for _, form := range []string{secret, jsonForm(t, secret), strconv.Quote(secret)} {
					if strings.Contains(out, strings.Trim(form, `"`)) {
						t.Fatalf("secret leaked as %s:\n%s", form, out)
					}
				}
				if format != "json" {
					return
				}
				for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
					var fields map[string]any
					if err := json.Unmarshal([]byte(line), &fields); err != nil {
						t.Fatalf("redacted line is no longer JSON: %v\n%s", err, line)
					}
					if strings.Contains(strings.ReplaceAll(line, `\\`, ``), secret) || containsValue(fields, secret) {
						t.Fatalf("secret readable in %s", line)
					}
				}
			})
		}
	}
}

func jsonForm(t *testing.T, s string) string {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func containsValue(v any, secret string) bool {
	switch v := v.(type) {
	case string:
		return strings.Contains(v, secret)
	case map[string]any:
		for _, x := range v {
			if containsValue(x, secret) {
				return true
			}
		}
	case []any:
		for _, x := range v {
			if containsValue(x, secret) {
				return true
			}
		}
	}
	return false
}

// TestRedactionKeepsEscapesWhole: a secret that happens to start right
// after a backslash escape must not leave a dangling backslash behind.
func TestRedactionKeepsEscapesWhole(t *testing.T) {
	var buf bytes.Buffer
	log, err := New(&buf, "info", "json", []string{"nsecret-value"})
	if err != nil {
		t.Fatal(err)
	}
	log.Info().Str("text", "first line\nsecret-value").Str("other", "\nsecret-value").Msg("escapes")
	var fields map[string]any
	if err := json.Unmarshal(buf.Bytes(), &fields); err != nil {
		t.Fatalf("line is not JSON after redaction: %v\n%s", err, buf.String())
	}
	if containsValue(fields, "nsecret-value") {
		t.Fatalf("secret readable: %s", buf.String())
	}
}
