package dockingtest

import (
	"bytes"
	"io"
	"net/http"
	"testing"

	"cardflow/internal/outbound"
)

// Send is one request as it goes on the wire, headers exactly as given,
// and the whole answer: for tests of what a protocol's handler or a fake
// shop makes of input no well-behaved client would send.
func Send(t *testing.T, method, url string, h http.Header, body []byte) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := sender.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, out
}

var sender = outbound.New(outbound.Options{})
