package logging

import (
	"bytes"
	"strings"
	"testing"
)

func TestLoggerRedactsConfiguredSecrets(t *testing.T) {
	var buf bytes.Buffer
	log, err := New(&buf, "info", "json", []string{"s3cret-token-value", "abc"})
	if err != nil {
		t.Fatal(err)
	}
	log.Info().Str("url", "https://api.telegram.org/bots3cret-token-value/getMe").Msg("calling abc")
	out := buf.String()
	if strings.Contains(out, "s3cret-token-value") {
		t.Fatalf("secret leaked: %s", out)
	}
	if !strings.Contains(out, "<redacted>") || !strings.Contains(out, "calling abc") {
		t.Fatalf("want redaction of long secrets only, got %s", out)
	}
}

func TestNewRejectsUnknownLevel(t *testing.T) {
	for _, lvl := range []string{"", "verbose", "INFO!"} {
		if _, err := New(&bytes.Buffer{}, lvl, "json", nil); err == nil {
			t.Errorf("level %q accepted", lvl)
		}
	}
}
