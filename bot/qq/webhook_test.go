package qq

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/tencent-connect/botgo/interaction/signature"

	"cardflow/bot/operator"
	"cardflow/internal/testkit"
	"cardflow/internal/teststore"
	"cardflow/storage"
)

// The signature test vector published in QQ's documentation.
const (
	vectorAppID  = "11111111"
	vectorSecret = "DG5g3B4j9X2KOErG"
)

// webhookAdapter is an adapter with only what its webhook needs, its
// clock at now.
func webhookAdapter(t *testing.T, now time.Time) (*Adapter, *storage.Store) {
	s := testkit.NewStore(t, teststore.Open)
	a := New(Options{AppID: vectorAppID, Secret: vectorSecret, Store: s, Log: zerolog.Nop(), Now: func() time.Time { return now }})
	return a, s
}

// call posts body to the webhook, signed over ts when sign is set.
func call(t *testing.T, a *Adapter, body []byte, ts string, sign bool) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/qq/webhook", bytes.NewReader(body))
	req.Header.Set(signature.HeaderTimestamp, ts)
	req.Header.Set("X-Bot-Appid", vectorAppID)
	if sign {
		sig, err := signature.Generate(vectorSecret, req.Header, body)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set(signature.HeaderSig, sig)
	}
	w := httptest.NewRecorder()
	a.ServeHTTP(w, req)
	return w
}

func inboundCount(t *testing.T, s *storage.Store) int {
	n := 0
	_ = s.View(func(tx *storage.Tx) error {
		tx.Inbound().Stored(1000, func(uint64, []byte) { n++ })
		return nil
	})
	return n
}

// TestHandshakeSignsThePlainTokenAsQQExpects: the op 13 validation of QQ's
// documentation, answered with the documented signature; a token of the
// wrong shape is not signed (no signing oracle).
func TestHandshakeSignsThePlainTokenAsQQExpects(t *testing.T) {
	a, _ := webhookAdapter(t, time.Unix(1725442341, 0))
	body := []byte(`{"op":13,"d":{"plain_token":"Arq0D5A61EgUu4OxUvOp","event_ts":"1725442341"}}`)
	w := call(t, a, body, "1725442341", true)
	var ans struct {
		PlainToken string `json:"plain_token"`
		Signature  string `json:"signature"`
	}
	if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &ans) != nil {
		t.Fatalf("handshake answered %d %s", w.Code, w.Body)
	}
	if ans.PlainToken != "Arq0D5A61EgUu4OxUvOp" || !strings.HasPrefix(ans.Signature, "87befc99c42c651b") ||
		!strings.HasSuffix(ans.Signature, "c706") {
		t.Fatalf("handshake answer %+v", ans)
	}
	for _, bad := range []string{
		`{"op":13,"d":{"plain_token":"has space","event_ts":"1725442341"}}`,
		`{"op":13,"d":{"plain_token":"Arq0D5A61EgUu4OxUvOp","event_ts":"17254423410000"}}`,
		`{"op":13,"d":{"plain_token":"","event_ts":"1725442341"}}`,
	} {
		if w := call(t, a, []byte(bad), "1725442341", true); w.Code != http.StatusBadRequest {
			t.Errorf("%s answered %d %s", bad, w.Code, w.Body)
		}
	}
}

// TestWebhookStoresSignedEventsOnceAndRefusesTheRest: a signed event is
// stored and acknowledged {"op":12,"d":0}; the same event again is
// acknowledged and not stored twice; a 6 KB event (bigger than botgo's
// handler reads) arrives whole; unsigned, mis-signed, tampered, stale and
// future-dated calls are 401 and store nothing; garbage signed correctly
// is a 400.
func TestWebhookStoresSignedEventsOnceAndRefusesTheRest(t *testing.T) {
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	a, s := webhookAdapter(t, now)
	ts := strconv.FormatInt(now.Unix(), 10)
	event := func(id, content string) []byte {
		return []byte(fmt.Sprintf(`{"id":%q,"op":0,"s":1,"t":"GROUP_AT_MESSAGE_CREATE","d":{"id":"msg-%s","content":%q,`+
			`"group_openid":"G1","author":{"member_openid":"M1"},"timestamp":"2026-11-25T17:00:00+08:00"}}`, id, id, content))
	}
	if w := call(t, a, event("ev-1", " /pending"), ts, true); w.Code != http.StatusOK || w.Body.String() != `{"op":12,"d":0}` {
		t.Fatalf("signed event answered %d %s", w.Code, w.Body)
	}
	if w := call(t, a, event("ev-1", " /pending"), ts, true); w.Code != http.StatusOK {
		t.Fatalf("repeat answered %d %s", w.Code, w.Body)
	}
	big := event("ev-big", " /order "+strings.Repeat("9", 6000))
	if w := call(t, a, big, ts, true); w.Code != http.StatusOK {
		t.Fatalf("6 KB event answered %d", w.Code)
	}
	var stored [][]byte
	_ = s.View(func(tx *storage.Tx) error {
		tx.Inbound().Stored(10, func(_ uint64, b []byte) { stored = append(stored, b) })
		return nil
	})
	if len(stored) != 2 || !bytes.Equal(stored[1], big) {
		t.Fatalf("stored %d events (want 2, the big one whole)", len(stored))
	}

	tampered := event("ev-2", " /approve 1")
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(tampered))
	req.Header.Set(signature.HeaderTimestamp, ts)
	sig, _ := signature.Generate(vectorSecret, req.Header, event("ev-2", " /pending"))
	for name, w := range map[string]*httptest.ResponseRecorder{
		"unsigned": call(t, a, event("ev-3", " /pending"), ts, false),
		"stale":    call(t, a, event("ev-4", " /pending"), strconv.FormatInt(now.Add(-10*time.Minute).Unix(), 10), true),
		"future":   call(t, a, event("ev-5", " /pending"), strconv.FormatInt(now.Add(10*time.Minute).Unix(), 10), true),
		"no time":  call(t, a, event("ev-6", " /pending"), "", true),
		"tampered": func() *httptest.ResponseRecorder {
			req.Header.Set(signature.HeaderSig, sig)
			w := httptest.NewRecorder()
			a.ServeHTTP(w, req)
			return w
		}(),
		"bad hex": func() *httptest.ResponseRecorder {
			r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(tampered))
			r.Header.Set(signature.HeaderTimestamp, ts)
			r.Header.Set(signature.HeaderSig, hex.EncodeToString([]byte("nope"))+"zz")
			w := httptest.NewRecorder()
			a.ServeHTTP(w, r)
			return w
		}(),
	} {
		if w.Code != http.StatusUnauthorized {
			t.Errorf("%s: answered %d %s", name, w.Code, w.Body)
		}
	}
	if w := call(t, a, []byte(`not json`), ts, true); w.Code != http.StatusBadRequest {
		t.Errorf("garbage answered %d", w.Code)
	}
	if w := call(t, a, []byte(`{"op":0,"t":"GROUP_AT_MESSAGE_CREATE","d":{}}`), ts, true); w.Code != http.StatusBadRequest {
		t.Errorf("event without id answered %d", w.Code)
	}
	if n := inboundCount(t, s); n != 2 {
		t.Fatalf("refused calls stored something: %d events", n)
	}
}

// TestAStoredEventWakesRunWhereverItRuns: with Stored set (several
// processes), the webhook calls it for a new event instead of waking its
// own Run; Run handles what Wake tells it of, and finds on its own, every
// Look, an event whose wake was lost.
func TestAStoredEventWakesRunWhereverItRuns(t *testing.T) {
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	ts := strconv.FormatInt(now.Unix(), 10)
	event := func(id string) []byte {
		return []byte(fmt.Sprintf(`{"id":%q,"op":0,"s":1,"t":"GROUP_AT_MESSAGE_CREATE","d":{"id":"msg-%s","content":" ",`+
			`"group_openid":"G1","author":{"member_openid":"M1"},"timestamp":"2026-11-25T17:00:00+08:00"}}`, id, id))
	}
	for _, tc := range []struct {
		name string
		look time.Duration
		wake bool // the nudge reaches Run's process, which calls Wake
	}{
		{"woken", time.Hour, true},
		{"wake lost, found by looking", 20 * time.Millisecond, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := testkit.NewStore(t, teststore.Open)
			var stored atomic.Int32
			a := New(Options{AppID: vectorAppID, Secret: vectorSecret, Store: s, Log: zerolog.Nop(), Now: func() time.Time { return now },
				Bot: operator.New(operator.Options{Log: zerolog.Nop()}), Look: tc.look, Stored: func() { stored.Add(1) }})
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { _ = a.Run(ctx); close(done) }()
			t.Cleanup(func() { cancel(); <-done })
			// The first event may meet Run's first look, at its start; the
			// second comes once Run waits.
			for i, id := range []string{"ev-1", "ev-2"} {
				call(t, a, event(id), ts, true)
				call(t, a, event(id), ts, true) // QQ's retry: stored once, told once
				if n := stored.Load(); n != int32(i+1) {
					t.Fatalf("Stored called %d times for %d events", n, i+1)
				}
				if tc.wake {
					a.Wake()
				}
				testkit.Eventually(t, "the stored event handled", func() bool { return inboundCount(t, s) == 0 })
			}
		})
	}
}
