package telegram

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"cardflow/bot/chat"
	"cardflow/bot/operator"
	"cardflow/bot/pager"
	"cardflow/internal/testkit"
	"cardflow/storage"
)

func TestLongPollingPicksUpInjectedUpdates(t *testing.T) {
	f := newFixture(t)
	// Queued before Run, and while it polls.
	f.fake.SendText(group, aliceUID, "/help")
	f.fake.SendText(group, viewerUID, "/stock")
	f.start()
	f.settle(2)
	f.fake.SendText(group, adminUID, "/help")
	f.settle(3)
	if n := len(f.fake.Messages(group)); n != 3 {
		t.Errorf("replies = %d, want 3", n)
	}
	// Handled updates are confirmed by the next poll's offset.
	testkit.Eventually(t, "updates confirmed", func() bool { return f.fake.Pending() == 0 })
	reqs := f.fake.Requests("getUpdates")
	if got := reqs[0].Params["timeout"]; got != "1" {
		t.Errorf("getUpdates timeout = %q, want PollTimeout-1s = 1", got)
	}
	if f.fake.Calls("getMe") != 1 || f.fake.Calls("deleteWebhook") != 1 {
		t.Errorf("getMe %d, deleteWebhook %d; want 1 each", f.fake.Calls("getMe"), f.fake.Calls("deleteWebhook"))
	}
}

func TestRunStopsWhenTheContextEnds(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.ad.Run(ctx) }()
	testkit.Eventually(t, "polling", func() bool { return f.fake.Calls("getUpdates") > 0 })
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return")
	}
}

func TestGetMeFailingAtStartIsTolerated(t *testing.T) {
	f := newFixture(t)
	f.fake.FailNext("getMe", http.StatusInternalServerError, "Internal Server Error", 0)
	f.start()
	f.fake.SendText(group, aliceUID, "/help@cardflow_test_bot")
	f.fake.SendText(group, aliceUID, "/help")
	f.settle(2)
	if n := len(f.fake.Messages(group)); n != 2 {
		t.Errorf("replies = %d, want 2", n)
	}
	if !strings.Contains(f.logs.String(), "getMe failed") {
		t.Errorf("the getMe failure is not logged")
	}
}

func TestPollingErrorsAreLoggedWithoutTheToken(t *testing.T) {
	f := newFixture(t)
	f.fake.FailNext("getUpdates", 0, "", 0)
	f.fake.FailNext("getUpdates", http.StatusConflict, "Conflict: terminated by other getUpdates request", 0)
	f.start()
	f.fake.SendText(group, aliceUID, "/help")
	f.settle(1)
	logs := f.logs.String()
	if strings.Count(logs, "telegram api error") < 2 {
		t.Errorf("polling errors not logged:\n%s", logs)
	}
	// The fixture's cleanup checks the token is nowhere in the logs.
}

func TestWebhookModeProcessesUpdatesWithTheSecret(t *testing.T) {
	var handler atomic.Value // http.Handler, set once the adapter exists
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handler.Load().(http.Handler).ServeHTTP(w, r)
	}))
	t.Cleanup(hook.Close)
	f := newFixture(t, func(o *Options) {
		o.WebhookURL = hook.URL + "/telegram"
		o.WebhookSecret = "hook-secret-0001"
	})
	handler.Store(f.ad.WebhookHandler())
	f.start()
	testkit.Eventually(t, "webhook set", func() bool { u, _ := f.fake.Webhook(); return u != "" })
	if u, s := f.fake.Webhook(); u != hook.URL+"/telegram" || s != "hook-secret-0001" {
		t.Errorf("webhook = %q, %q", u, s)
	}

	// Telegram (the fake) pushes with the secret: answered.
	f.fake.SendText(group, aliceUID, "/help")
	f.settle(1)
	if msgs := f.fake.Messages(group); len(msgs) != 1 || !strings.Contains(msgs[0].Text, helpText) {
		t.Errorf("replies = %+v", msgs)
	}
	if f.fake.Calls("getUpdates") != 0 {
		t.Errorf("polled in webhook mode")
	}

	// Anyone else is refused before the SDK sees the update.
	body := `{"update_id":900,"message":{"message_id":1,"date":1,"chat":{"id":-1001234567890,"type":"supergroup"},"from":{"id":300,"is_bot":false,"first_name":"Eve"},"text":"/help"}}`
	for _, tc := range []struct {
		name, method, secret string
		status               int
	}{
		{"no secret", http.MethodPost, "", http.StatusUnauthorized},
		{"wrong secret", http.MethodPost, "hook-secret-0002", http.StatusUnauthorized},
		{"GET", http.MethodGet, "hook-secret-0001", http.StatusMethodNotAllowed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, hook.URL+"/telegram", strings.NewReader(body))
			if tc.secret != "" {
				req.Header.Set(secretHeader, tc.secret)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Errorf("status = %d, want %d", resp.StatusCode, tc.status)
			}
		})
	}
	if got := f.ad.handled.Load(); got != 1 {
		t.Errorf("handled %d updates, want only the one with the secret", got)
	}

	// With the secret, a direct post is an update like any other.
	req, _ := http.NewRequest(http.MethodPost, hook.URL+"/telegram", strings.NewReader(body))
	req.Header.Set(secretHeader, "hook-secret-0001")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	f.settle(2)
	testkit.Eventually(t, "second reply", func() bool { return len(f.fake.Messages(group)) == 2 })
}

func TestProxyCarriesAllBotAPITraffic(t *testing.T) {
	var hits atomic.Int64
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		// A plain-HTTP forward proxy: the request line holds the full URL.
		out, err := http.NewRequestWithContext(r.Context(), r.Method, r.URL.String(), r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		out.Header = r.Header.Clone()
		resp, err := http.DefaultTransport.RoundTrip(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
	}))
	t.Cleanup(proxy.Close)
	f := newFixture(t, func(o *Options) { o.Proxy = "http://user:proxy-pass-42@" + strings.TrimPrefix(proxy.URL, "http://") })
	if _, err := f.ad.Send(groupChat, chat.Reply{Text: "via proxy"}); err != nil {
		t.Fatalf("send: %v", err)
	}
	if hits.Load() != 1 || len(f.fake.Messages(group)) != 1 {
		t.Errorf("proxy hits %d, messages %d", hits.Load(), len(f.fake.Messages(group)))
	}
}

func TestNewRefusesBadOptionsWithoutEchoingSecrets(t *testing.T) {
	b := operator.New(operator.Options{Language: "zh"})
	for _, tc := range []struct {
		name string
		o    Options
		want string
	}{
		{"no token", Options{Bot: b}, "telegram.token"},
		{"no operator layer", Options{Token: token}, "Options.Bot"},
		{"bad proxy scheme", Options{Token: token, Bot: b, Proxy: "ftp://u:pw-secret@host:21"}, "telegram.proxy"},
		{"proxy not a URL", Options{Token: token, Bot: b, Proxy: "http://u:pw-secret@[::1"}, "telegram.proxy"},
		{"bad server URL", Options{Token: token, Bot: b, ServerURL: "api.telegram.org"}, "telegram.server_url"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to name %s", err, tc.want)
			}
			if strings.Contains(err.Error(), "pw-secret") || strings.Contains(err.Error(), token) {
				t.Errorf("err echoes a secret: %v", err)
			}
		})
	}
	if _, err := New(Options{Token: token, Bot: b, Proxy: "socks5://127.0.0.1:1080", Log: zerolog.Nop()}); err != nil {
		t.Errorf("socks5 proxy: %v", err)
	}
}

// TestReviewAlertThroughSenderToApproval runs the whole path: the engine
// holds an order, the Notifier queues the prompt for the group, a Sender
// delivers it through the adapter (waiting out a 429), an operator presses
// Approve, and the resolution edits the prompt.
func TestReviewAlertThroughSenderToApproval(t *testing.T) {
	f := newFixture(t)
	dest := Dest(group)
	chatID, _ := ChatOf(dest)
	sender := pager.NewSender(f.ops, f.store, pager.SenderOptions{Dest: dest, Chat: chatID, Channel: f.ad})
	f.alerts.set(pager.NewNotifier(f.ops, f.store, []string{dest}, pager.AlertPolicy{}, nil, sender.Kick, zerolog.Nop()))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); sender.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	f.start()

	f.fake.RateLimit("sendMessage", 1, 1)
	o := f.review("600.00")
	testkit.Eventually(t, "the review prompt", func() bool { return len(f.fake.Messages(group)) == 1 })
	prompt := f.fake.Messages(group)[0]
	if f.fake.Calls("sendMessage") != 2 {
		t.Errorf("sendMessage calls = %d, want the 429 and the retry", f.fake.Calls("sendMessage"))
	}
	if !strings.Contains(prompt.Text, fmt.Sprintf("#%d", o.ID)) || len(prompt.Buttons()) != 3 {
		t.Fatalf("prompt = %+v", prompt)
	}
	var approve string
	for _, b := range prompt.Buttons() {
		if strings.HasPrefix(b.Data, "o:ap:") {
			approve = b.Data
		}
	}
	f.fake.Press(group, aliceUID, prompt.ID, approve)
	f.waitStatus(o.ID, storage.StatusDelivered)
	// The press edits the prompt at once; the review alert's resolution then
	// edits the same message again rather than posting a new one.
	testkit.Eventually(t, "the resolution edit", func() bool {
		m, _ := f.fake.Message(group, prompt.ID)
		return m.Edits == 2
	})
	m, _ := f.fake.Message(group, prompt.ID)
	if !strings.Contains(m.Text, "alice") || len(m.Keyboard) != 0 {
		t.Errorf("prompt after approval = %+v", m)
	}
	if n := len(f.fake.Messages(group)); n != 1 {
		t.Errorf("messages in the group = %d, want the one prompt", n)
	}
}

// run runs one half of the adapter (Poll or Serve) until the returned stop
// is called, which waits for it to return.
func run(t *testing.T, half func(context.Context) error) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- half(ctx) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("returned %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("did not return after cancel")
		}
	}
	t.Cleanup(stop)
	return stop
}

// TestPollStoppedAndStartedAgainHandlesWhatCameMeanwhile: a process that
// loses the lead stops polling and, leading again, polls on the same
// adapter; an update that arrived in between is handled then. Serve has
// nothing to do in polling mode and returns at once.
func TestPollStoppedAndStartedAgainHandlesWhatCameMeanwhile(t *testing.T) {
	f := newFixture(t)
	if err := f.ad.Serve(context.Background()); err != nil {
		t.Fatalf("Serve in polling mode = %v", err)
	}
	stop := run(t, f.ad.Poll)
	f.fake.SendText(group, aliceUID, "/help")
	f.settle(1)
	stop()
	polls := f.fake.Calls("getUpdates")
	f.fake.SendText(group, aliceUID, "/help")
	run(t, f.ad.Poll)
	f.settle(2)
	testkit.Eventually(t, "the second reply", func() bool { return len(f.fake.Messages(group)) == 2 })
	if f.fake.Calls("getUpdates") <= polls {
		t.Error("the second Poll did not poll")
	}
}

// TestWebhookServeHandlesPostsWhilePollSetsTheWebhook: in webhook mode a
// process that does not lead runs only Serve, which handles what reaches
// its webhook and leaves Telegram's settings alone; the leader's Poll
// registers the webhook.
func TestWebhookServeHandlesPostsWhilePollSetsTheWebhook(t *testing.T) {
	var handler atomic.Value // http.Handler, set once the adapter exists
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handler.Load().(http.Handler).ServeHTTP(w, r)
	}))
	t.Cleanup(hook.Close)
	f := newFixture(t, func(o *Options) {
		o.WebhookURL = hook.URL + "/telegram"
		o.WebhookSecret = "hook-secret-0001"
	})
	handler.Store(f.ad.WebhookHandler())
	run(t, f.ad.Serve)
	body := `{"update_id":901,"message":{"message_id":1,"date":1,"chat":{"id":-1001234567890,"type":"supergroup"},"from":{"id":200,"is_bot":false,"first_name":"Alice"},"text":"/help"}}`
	req, _ := http.NewRequest(http.MethodPost, hook.URL+"/telegram", strings.NewReader(body))
	req.Header.Set(secretHeader, "hook-secret-0001")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	f.settle(1)
	testkit.Eventually(t, "the reply", func() bool { return len(f.fake.Messages(group)) == 1 })
	if u, _ := f.fake.Webhook(); u != "" || f.fake.Calls("setWebhook") != 0 {
		t.Errorf("Serve set the webhook (%q)", u)
	}
	run(t, f.ad.Poll)
	testkit.Eventually(t, "the webhook set by Poll", func() bool { u, _ := f.fake.Webhook(); return u == hook.URL+"/telegram" })
	if f.fake.Calls("getUpdates") != 0 {
		t.Error("Poll polled in webhook mode")
	}
}
