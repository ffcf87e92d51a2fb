package processor

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"cardflow/alert"
	"cardflow/internal/testkit"
)

// TestARedirectedCallbackFailsAndAlertsAtOnce: the storefront's callback URL
// answers with a redirect to another host (each of 301, 302, 303, 307, 308).
// Tried before: net/http followed it, so a 302 became a GET whose 200 passed
// for the acknowledgement (the delivery lost) and a 307 re-posted the keys
// and signature to the other host. Now the other host hears nothing, the
// event stays in the outbox with an error naming both URLs (no token), the
// "callbacks failing" alert is raised at once, not after 24 h, and is
// resolved once the storefront answers 2xx again.
func TestARedirectedCallbackFailsAndAlertsAtOnce(t *testing.T) {
	for _, code := range []int{301, 302, 303, 307, 308} {
		t.Run(http.StatusText(code), func(t *testing.T) {
			var mu sync.Mutex
			var stolen []string
			thief := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				stolen = append(stolen, r.Method+" "+r.URL.Path)
				mu.Unlock()
			}))
			defer thief.Close()

			f := newFixture(t, nil)
			redirecting := true
			var rmu sync.Mutex
			f.cbServer.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				rmu.Lock()
				on := redirecting
				rmu.Unlock()
				if on {
					http.Redirect(w, r, thief.URL+"/steal?token=loc", code)
					return
				}
				f.receiver.ServeHTTP(w, r)
			})
			f.importCards("qb-10", "RD", 1)
			o := f.submit("RD-1", "qb-10", 1, 1000)
			testkit.Eventually(f.t, "the callback attempted", func() bool {
				ev := f.storedEvents()
				return len(ev) == 0 || ev[0].Attempts >= 1 || thiefHeard(&mu, stolen)
			})
			events := f.storedEvents()
			if len(events) == 0 || thiefHeard(&mu, stolen) {
				mu.Lock()
				t.Fatalf("after a %d: callback acknowledged %v, the redirect target received %v", code, len(events) == 0, stolen)
			}
			ev := events[0]
			for _, want := range []string{f.cbServer.URL + "/cb", thief.URL + "/steal", "redirect"} {
				if !strings.Contains(ev.LastError, want) {
					t.Errorf("last error %q does not name %q", ev.LastError, want)
				}
			}
			if strings.Contains(ev.LastError, "token") {
				t.Errorf("last error %q shows a token", ev.LastError)
			}
			testkit.Eventually(f.t, "alert raised at once", func() bool { return f.alerts.has(alert.CallbackRedirect, false, "shop") })
			if !f.alerts.has(alert.CallbackRedirect, false, thief.URL+"/steal") {
				t.Errorf("the alert does not name where the callback was sent: %+v", f.alerts.alerts)
			}

			rmu.Lock()
			redirecting = false
			rmu.Unlock()
			f.tick(time.Minute)
			f.waitCallbacks(o.ID, CallbackDelivered)
			testkit.Eventually(f.t, "alert resolved", func() bool { return f.alerts.has(alert.CallbackFailing, true, "shop") })
			mu.Lock()
			defer mu.Unlock()
			if len(stolen) > 0 {
				t.Errorf("the redirect target received %v", stolen)
			}
		})
	}
}

func thiefHeard(mu *sync.Mutex, stolen []string) bool {
	mu.Lock()
	defer mu.Unlock()
	return len(stolen) > 0
}
