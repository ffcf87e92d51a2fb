package api_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"cardflow/api"
	"cardflow/card"
	"cardflow/config"
	"cardflow/internal/storefront"
	"cardflow/internal/testkit"
	"cardflow/processor"
	"cardflow/storage"
)

// supplierOnlyProduct has no own-stock source: there is nothing to import into.
var supplierOnlyProduct = config.Product{SKU: "steam-20", Name: "Steam 20", Kind: config.KindCard, MaxQuantity: 5,
	BatchSize: 5, Sources: []config.Source{{Supplier: "fulu", Item: "20001", Units: 1}}}

// TestAdminAPIRequiresTheBearerToken: every admin endpoint refuses a
// missing or wrong token with 401 in JSON and does nothing; the right token
// works; /healthz needs none.
func TestAdminAPIRequiresTheBearerToken(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	endpoints := []struct {
		method, path string
		body         []byte
	}{
		{http.MethodGet, "/v1/stock", nil},
		{http.MethodPost, "/v1/stock/" + skuQB, []byte("AUTH-CARD-1,pw\n")},
		{http.MethodGet, "/v1/backup", nil},
		{http.MethodPost, "/v1/orders/1/refund", nil},
		{http.MethodPost, "/v1/orders/1/approve", nil},
		{http.MethodGet, "/v1/no-such-endpoint", nil},
	}
	auths := []struct{ name, header string }{
		{"no Authorization header", ""},
		{"wrong token", "Bearer not-the-token"},
		{"token without the Bearer scheme", adminToken},
		{"Basic scheme", "Basic " + adminToken},
		{"token with one extra character", "Bearer " + adminToken + "x"},
		{"token missing its last character", "Bearer " + adminToken[:len(adminToken)-1]},
		{"empty bearer token", "Bearer "},
		{"storefront secret as token", "Bearer " + string(shop1Secret)},
	}
	for _, ep := range endpoints {
		for _, a := range auths {
			t.Run(ep.method+" "+ep.path+"/"+a.name, func(t *testing.T) {
				r := send(t, f.admin, adminCall(ep.method, ep.path, ep.body, a.header))
				wantError(t, r, http.StatusUnauthorized, "unauthorized", "")
			})
		}
	}
	t.Run("nothing was imported without the token", func(t *testing.T) {
		if lv := f.stockLevels(t)[skuQB]; lv != 0 {
			t.Errorf("stock = %d after unauthorized imports, want 0", lv)
		}
	})
	t.Run("right token", func(t *testing.T) {
		wantStatus(t, f.adminDo(t, http.MethodGet, "/v1/stock", nil), http.StatusOK)
	})
	t.Run("healthz needs no token", func(t *testing.T) {
		r := send(t, f.admin, adminCall(http.MethodGet, "/healthz", nil, ""))
		wantStatus(t, r, http.StatusOK)
		wantJSON(t, r)
	})
	t.Run("an empty configured token refuses everyone", func(t *testing.T) {
		open := httptest.NewServer(api.New(api.Options{Orders: f.engine, AdminToken: "", Now: f.clock.Now}).Admin())
		defer open.Close()
		for _, h := range []string{"", "Bearer ", "Bearer  "} {
			wantError(t, send(t, open, adminCall(http.MethodGet, "/v1/stock", nil, h)), http.StatusUnauthorized, "unauthorized", "")
		}
	})
	t.Run("unknown admin path with the token is a JSON 404", func(t *testing.T) {
		wantError(t, f.adminDo(t, http.MethodGet, "/v1/no-such-endpoint", nil), http.StatusNotFound, "not_found", "")
	})
	t.Run("wrong method with the token is a JSON 405", func(t *testing.T) {
		r := f.adminDo(t, http.MethodDelete, "/v1/stock/"+skuQB, nil)
		if r.status != http.StatusMethodNotAllowed {
			t.Fatalf("status = %d, want 405: %s", r.status, r.body)
		}
		r.apiError(t)
	})
}

// TestImportOf100000LinesAddsThemAll: a big file in one request.
func TestImportOf100000LinesAddsThemAll(t *testing.T) {
	if testing.Short() {
		t.Skip("imports 100,000 cards")
	}
	f := newFixture(t, fixtureOptions{})
	const n = 100_000
	var body bytes.Buffer
	body.Grow(n * 40)
	for i := range n {
		fmt.Fprintf(&body, "BULK%08d,PW%08dx,2027-12-31\n", i, i*7)
	}
	r := f.adminDo(t, http.MethodPost, "/v1/stock/"+skuQB, body.Bytes())
	wantStatus(t, r, http.StatusOK)
	wantJSON(t, r)
	if got, want := strings.TrimSpace(string(r.body)), `{"batch":1,"added":100000,"duplicates":0,"invalid":0}`; got != want {
		t.Errorf("answer = %s, want %s", got, want)
	}
	if lv := f.stockLevels(t)[skuQB]; lv != n {
		t.Errorf("stock level = %d, want %d", lv, n)
	}

	// The first card out is the first line in; a repeat of part of the file
	// adds nothing.
	wantStatus(t, f.post(t, "shop1", simpleOrder(t, "BULK-ORDER-1", skuQB, 1, "100.00")), http.StatusCreated)
	f.waitCallback(t, "1", "order.delivered")
	if o := f.getOrder(t, "shop1", "1"); len(o.Cards) != 1 || o.Cards[0] != (cardJSON{"BULK00000000", "PW00000000x", "2027-12-31"}) {
		t.Errorf("first card delivered = %+v, want the file's first line", o.Cards)
	}
	again := f.importStock(t, skuQB, strings.Join(strings.SplitAfter(body.String(), "\n")[:1000], ""))
	if again.Added != 0 || again.Duplicates != 1000 || again.Invalid != 0 {
		t.Errorf("re-import of the first 1000 lines = %+v, want 0 added, 1000 duplicates", again)
	}
}

// TestImportCountsAddedDuplicateAndInvalidLines: one file with every kind of
// line a shop's export has, and the cards that come out of it; each import
// answers its batch, numbered across SKUs.
func TestImportCountsAddedDuplicateAndInvalidLines(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	if res := f.importStock(t, skuJD, "JD-ELSEWHERE-1,pwj\n"); res.Added != 1 || res.Batch != 1 {
		t.Fatalf("setup import = %+v", res)
	}
	lines := []string{
		"\ufeffnumber,password,expires_at\r\n", // 1: BOM and header: skipped
		"MIX-0001,pw1,2027-12-31\r\n",          // 2: added
		"\r\n",                                 // 3: blank
		"MIX0002,pw2\n",                        // 4: added
		"mix-0001,another-password\n",          // 5: duplicate of line 2 (same normalized number)
		"MIX-0003\n",                           // 6: added, number only
		"MIX-0004,pw4,2027-12-31,x\n",          // 7: invalid, 4 fields
		"MIX-00\a05,pw5\n",                     // 8: invalid, control character
		"MIX-0006,pw6,2027-13-45\n",            // 9: invalid, bad date
		"   \t \n",                             // 10: blank
		"  MIX-0007 , pw7 , 2027/12/31  \n",    // 11: added, fields trimmed
		"MIX0002,pw2\n",                        // 12: duplicate, same line again
		"JD-ELSEWHERE-1,pwj\n",                 // 13: duplicate, in jd-50's stock
		",password-only\n",                     // 14: invalid, empty number
		"MIX-0008,pw8\rMIX-0009,pw9\n",         // 15, 16: lone CR ends a line: both added
		"MIX-0010,pw10,2027-12-31 23:59:59",    // 17: added, no final newline
	}
	res := f.importStock(t, skuQB, strings.Join(lines, ""))
	if res.Added != 7 || res.Duplicates != 3 || res.Invalid != 4 || res.Batch != 2 {
		t.Errorf("answer = added %d, duplicates %d, invalid %d, batch %d; want 7, 3, 4, 2", res.Added, res.Duplicates, res.Invalid, res.Batch)
	}
	var badLines []int
	for _, e := range res.Errors {
		badLines = append(badLines, e.Line)
		if e.Why == "" || strings.Contains(e.Why, "MIX") || strings.Contains(e.Why, "pw") || strings.Contains(e.Why, "password-only") {
			t.Errorf("line %d: why %q must explain without repeating the line", e.Line, e.Why)
		}
	}
	if !slices.Equal(badLines, []int{7, 8, 9, 14}) {
		t.Errorf("invalid lines reported = %v, want [7 8 9 14]", badLines)
	}
	if lv := f.stockLevels(t); lv[skuQB] != 7 || lv[skuJD] != 1 {
		t.Errorf("levels = %v, want qb-100 7, jd-50 1", lv)
	}

	// The cards come out oldest first, trimmed, exactly as imported.
	r := f.post(t, "shop1", simpleOrder(t, "MIX-ORDER", skuQB, 7, "700.00"))
	wantStatus(t, r, http.StatusCreated)
	id := r.order(t).ID
	f.waitCallback(t, id, "order.delivered")
	want := []cardJSON{
		{"MIX-0001", "pw1", "2027-12-31"}, {"MIX0002", "pw2", ""}, {"MIX-0003", "", ""},
		{"MIX-0007", "pw7", "2027/12/31"}, {"MIX-0008", "pw8", ""}, {"MIX-0009", "pw9", ""},
		{"MIX-0010", "pw10", "2027-12-31 23:59:59"},
	}
	if got := f.getOrder(t, "shop1", id).Cards; !slices.Equal(got, want) {
		t.Errorf("delivered cards = %+v\nwant %+v", got, want)
	}
}

// TestImportCountsKeysAlreadyDeliveredAsDuplicates: a key handed to an
// order is never stocked again, whether re-imported as it was or
// reformatted, into the same or another SKU (docs/lifecycle.md, invariant 2).
func TestImportCountsKeysAlreadyDeliveredAsDuplicates(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	keys := "USED-0001,pw1\nUSED-0002,pw2\nUSED-0003,pw3\n"
	if res := f.importStock(t, skuQB, keys); res.Added != 3 {
		t.Fatalf("first import = %+v, want 3 added", res)
	}
	r := f.post(t, "shop1", simpleOrder(t, "USE-TWO", skuQB, 2, "200.00"))
	wantStatus(t, r, http.StatusCreated)
	id := r.order(t).ID
	f.waitCallback(t, id, "order.delivered")
	if o := f.getOrder(t, "shop1", id); len(o.Cards) != 2 || o.Cards[0].Number != "USED-0001" || o.Cards[1].Number != "USED-0002" {
		t.Fatalf("delivered %+v, want USED-0001 and USED-0002", o.Cards)
	}

	for _, tc := range []struct {
		name, sku, lines string
		added, dups      int
	}{
		{"same file again (2 delivered, 1 in stock)", skuQB, keys, 0, 3},
		{"delivered keys lower-case without dashes", skuQB, "used0001,other\nused0002\n", 0, 2},
		{"delivered keys into another sku", skuJD, "USED-0001,pw1\nUSED-0002,pw2\n", 0, 2},
		{"a new key alongside", skuQB, "USED-0001,pw1\nUSED-0004,pw4\n", 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := f.importStock(t, tc.sku, tc.lines)
			if res.Added != tc.added || res.Duplicates != tc.dups || res.Invalid != 0 {
				t.Errorf("import = %+v, want added %d duplicates %d", res, tc.added, tc.dups)
			}
		})
	}
	if lv := f.stockLevels(t); lv[skuQB] != 2 || lv[skuJD] != 0 {
		t.Errorf("levels = %v, want qb-100 2 (USED-0003, USED-0004), jd-50 0", lv)
	}
}

// TestImportIntoASKUWithoutOwnStockIsRefused: an unconfigured SKU is 404, a
// SKU bought only from suppliers is 422 unknown_sku; neither stores a card.
func TestImportIntoASKUWithoutOwnStockIsRefused(t *testing.T) {
	f := newFixture(t, fixtureOptions{extraProducts: []config.Product{supplierOnlyProduct}})
	for _, tc := range []struct {
		name, sku string
		status    int
		code      string
	}{
		{"unknown sku", "qb-999", http.StatusNotFound, "not_found"},
		{"sku differing in case", "QB-100", http.StatusNotFound, "not_found"},
		{"sku sold only from a supplier", supplierOnlyProduct.SKU, http.StatusUnprocessableEntity, "unknown_sku"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := f.adminDo(t, http.MethodPost, "/v1/stock/"+tc.sku, []byte("NOWHERE-1,pw\n"))
			wantError(t, r, tc.status, tc.code, "sku")
		})
	}
	// The refused card was never fingerprinted: it imports fine now.
	if res := f.importStock(t, skuQB, "NOWHERE-1,pw\n"); res.Added != 1 {
		t.Errorf("import after refusals = %+v, want the card added", res)
	}
}

// TestImportOfALineLongerThan1MiBIsABadRequest: a file whose "line" is
// longer than the reader's 1 MiB buffer (e.g. a binary file picked by
// mistake) is the operator's mistake, not a server fault.
func TestImportOfALineLongerThan1MiBIsABadRequest(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	body := "BEFORE-LONG-1,pw\n" + strings.Repeat("x", 2<<20) + "\nAFTER-LONG-1,pw\n"
	r := f.adminDo(t, http.MethodPost, "/v1/stock/"+skuQB, []byte(body))
	if r.status >= 500 {
		t.Fatalf("a 2 MiB line answered %d: %s", r.status, r.body)
	}
	if r.status != http.StatusBadRequest && r.status != http.StatusOK {
		t.Errorf("status = %d, want 400 (or 200 counting the line invalid): %s", r.status, r.body)
	}
}

// TestImportSkipsAChineseHeaderLine: exports from Chinese card platforms
// start with a header such as "卡号,卡密"; it must not become a card.
func TestImportSkipsAChineseHeaderLine(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	res := f.importStock(t, skuQB, "卡号,卡密\nCN-0001,pw1\n")
	if res.Added != 1 {
		t.Errorf("import = %+v, want only CN-0001 added", res)
	}
}

// TestStockLevelsListEveryStockedSKU: GET /v1/stock lists each product with
// an own-stock source, sorted, including empty ones, and nothing else.
func TestStockLevelsListEveryStockedSKU(t *testing.T) {
	f := newFixture(t, fixtureOptions{extraProducts: []config.Product{supplierOnlyProduct}})
	f.importStock(t, skuQB, "LVL-1\nLVL-2\nLVL-3\n")
	r := f.adminDo(t, http.MethodGet, "/v1/stock", nil)
	wantStatus(t, r, http.StatusOK)
	wantJSON(t, r)
	if got, want := strings.TrimSpace(string(r.body)), `{"stock":[{"sku":"jd-50","level":0},{"sku":"qb-100","level":3}]}`; got != want {
		t.Errorf("GET /v1/stock = %s, want %s", got, want)
	}
	wantStatus(t, f.post(t, "shop1", simpleOrder(t, "LVL-ORDER", skuQB, 2, "1.00")), http.StatusCreated)
	f.waitCallback(t, "1", "order.delivered")
	if lv := f.stockLevels(t); lv[skuQB] != 1 {
		t.Errorf("after delivering 2: %v, want qb-100 1", lv)
	}
}

// --- order actions ----------------------------------------------------------

func actionPath(id, action string) string { return "/v1/orders/" + id + "/" + action }

// adminAs sends an admin request recorded as actor.
func (f *fixture) adminAs(t testing.TB, actor, method, path string, body []byte) *reply {
	t.Helper()
	c := adminCall(method, path, body, "Bearer "+adminToken)
	c.header.Set("X-Cardflow-Actor", actor)
	return send(t, f.admin, c)
}

// wantConflict expects 409 conflict whose message names the order's state.
func wantConflict(t testing.TB, r *reply, state string) {
	t.Helper()
	e := wantError(t, r, http.StatusConflict, "conflict", "-")
	if !regexp.MustCompile(`\b` + state + `\b`).MatchString(e.Message) {
		t.Errorf("conflict message %q does not say the order is %s", e.Message, state)
	}
}

func reviewFixture(t *testing.T) *fixture {
	return newFixture(t, fixtureOptions{screen: largeOrderScreener{over: 50000}, stockWait: time.Minute})
}

// TestApproveSendsAReviewedOrderOnAndASecondApproveIsAConflict: an order
// over 500 is held in review; approve moves it to pending (reason names the
// operator) and it is delivered; a second approve is a 409 that says what
// state the order is in.
func TestApproveSendsAReviewedOrderOnAndASecondApproveIsAConflict(t *testing.T) {
	f := reviewFixture(t)
	f.importStock(t, skuQB, "APPROVE-1,pw1\n")
	r := f.post(t, "shop1", simpleOrder(t, "BIG-0001", skuQB, 1, "600.00"))
	wantStatus(t, r, http.StatusCreated)
	held := r.order(t)
	if held.Status != "review" || held.Reason != "rule:large-order" {
		t.Fatalf("order over 500 = %s/%s, want review/rule:large-order", held.Status, held.Reason)
	}
	if o := f.getOrder(t, "shop1", held.ID); o.Status != "review" || len(o.Cards) != 0 {
		t.Fatalf("held order reads %s with %d cards", o.Status, len(o.Cards))
	}
	small := f.post(t, "shop1", simpleOrder(t, "SMALL-0001", skuJD, 1, "500.00"))
	wantStatus(t, small, http.StatusCreated)
	if o := small.order(t); o.Status != "pending" {
		t.Errorf("order of exactly 500.00 = %s, want pending (the rule is > 500)", o.Status)
	}

	r = f.adminAs(t, "alice", http.MethodPost, actionPath(held.ID, "approve"), nil)
	wantStatus(t, r, http.StatusOK)
	approved := r.order(t)
	if approved.ID != held.ID || approved.Status != "pending" || approved.Reason != "operator:claimed:alice" {
		t.Errorf("approve answered %s %s/%s, want order %s pending/operator:claimed:alice", approved.ID, approved.Status, approved.Reason, held.ID)
	}
	f.waitStatus(t, held.ID, storage.StatusDelivered)
	wantConflict(t, f.adminAs(t, "bob", http.MethodPost, actionPath(held.ID, "approve"), nil), "delivered")
	if o := f.getOrder(t, "shop1", held.ID); o.Status != "delivered" || len(o.Cards) != 1 || o.Cards[0].Number != "APPROVE-1" {
		t.Errorf("approved order = %s with %+v, want delivered with APPROVE-1", o.Status, o.Cards)
	}
}

// TestConcurrentApprovesSucceedOnce: two operators (or a double tap) racing
// on one order: exactly one 200, the rest 409.
func TestConcurrentApprovesSucceedOnce(t *testing.T) {
	f := reviewFixture(t)
	r := f.post(t, "shop1", simpleOrder(t, "BIG-RACE", skuQB, 1, "900.00"))
	wantStatus(t, r, http.StatusCreated)
	id := r.order(t).ID
	const n = 12
	replies := make([]*reply, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			c := adminCall(http.MethodPost, actionPath(id, "approve"), nil, "Bearer "+adminToken)
			c.header.Set("X-Cardflow-Actor", "op"+strconv.Itoa(i))
			<-start
			replies[i], errs[i] = roundTrip(context.Background(), f.admin, c)
		})
	}
	close(start)
	wg.Wait()
	ok := 0
	for i, r := range replies {
		if errs[i] != nil {
			t.Fatalf("approve %d: %v", i, errs[i])
		}
		switch r.status {
		case http.StatusOK:
			ok++
		case http.StatusConflict:
			wantError(t, r, http.StatusConflict, "conflict", "-")
		default:
			t.Errorf("approve %d = %s", i, r)
		}
	}
	if ok != 1 {
		t.Errorf("%d approves succeeded, want exactly 1", ok)
	}
}

// TestReissueDeliversNewCardsAndTheOldOnesStayUsed: reissue takes a
// delivered order back to pending without cards, new cards are delivered,
// and the replaced keys can never be stocked again.
func TestReissueDeliversNewCardsAndTheOldOnesStayUsed(t *testing.T) {
	f := reviewFixture(t)
	f.importStock(t, skuQB, "REISSUE-1,pw1\nREISSUE-2,pw2\n")
	r := f.post(t, "shop1", simpleOrder(t, "REISSUE-ORDER", skuQB, 1, "100.00"))
	wantStatus(t, r, http.StatusCreated)
	id := r.order(t).ID
	f.waitCallback(t, id, "order.delivered")

	r = f.adminDo(t, http.MethodPost, actionPath(id, "reissue"), nil)
	wantStatus(t, r, http.StatusOK)
	if o := r.order(t); o.Status != "pending" || o.Reason != "reissue" || len(o.Cards) != 0 || o.DeliveredAt != nil {
		t.Errorf("reissue answered %+v, want pending/reissue with no cards and no delivered_at", o)
	}
	f.waitTransitions(t, id, 2, "delivered", func(c processor.Change) bool { return c.To == storage.StatusDelivered })
	o := f.getOrder(t, "shop1", id)
	if o.Status != "delivered" || len(o.Cards) != 1 || o.Cards[0].Number != "REISSUE-2" {
		t.Errorf("after reissue: %s with %+v, want delivered with REISSUE-2", o.Status, o.Cards)
	}
	f.callbacks.wait(t, "a second order.delivered callback", func(cbs []storefront.Callback) bool {
		return countEvents(cbs, id, "order.delivered") >= 2
	})
	if cb := f.waitCallback(t, id, "order.delivered"); len(cb.Order.Cards) != 1 || cb.Order.Cards[0].Number != "REISSUE-2" {
		t.Errorf("second delivered callback carries %d cards, want REISSUE-2", len(cb.Order.Cards))
	}
	if res := f.importStock(t, skuQB, "REISSUE-1,pw1\n"); res.Added != 0 || res.Duplicates != 1 {
		t.Errorf("re-import of the replaced key = %+v, want a duplicate", res)
	}

	// Reissue of an order that is not delivered is refused.
	r = f.post(t, "shop1", simpleOrder(t, "REISSUE-WAITING", skuQB, 1, "100.00"))
	wantStatus(t, r, http.StatusCreated)
	waiting := r.order(t).ID
	f.waitCallback(t, waiting, "order.delayed")
	wantConflict(t, f.adminDo(t, http.MethodPost, actionPath(waiting, "reissue"), nil), "pending")
}

// TestRetryAndRefundOfAFailedOrder: an order that waited for stock past
// stock_wait fails; retry puts it back to pending once; refund ends it and
// the storefront hears order.refunded.
func TestRetryAndRefundOfAFailedOrder(t *testing.T) {
	f := reviewFixture(t)
	r := f.post(t, "shop1", simpleOrder(t, "FAIL-0001", skuJD, 1, "50.00"))
	wantStatus(t, r, http.StatusCreated)
	id := r.order(t).ID
	f.waitCallback(t, id, "order.delayed")
	wantConflict(t, f.adminDo(t, http.MethodPost, actionPath(id, "retry"), nil), "pending")

	f.clock.Advance(2 * time.Minute) // past stock_wait; the engine's sweep fails it
	f.waitCallback(t, id, "order.failed")
	if o := f.getOrder(t, "shop1", id); o.Status != "failed" || o.Reason != "out_of_stock" {
		t.Fatalf("expired order = %s/%s, want failed/out_of_stock", o.Status, o.Reason)
	}
	wantConflict(t, f.adminDo(t, http.MethodPost, actionPath(id, "approve"), nil), "failed")
	wantConflict(t, f.adminDo(t, http.MethodPost, actionPath(id, "reissue"), nil), "failed")

	r = f.adminDo(t, http.MethodPost, actionPath(id, "retry"), nil)
	wantStatus(t, r, http.StatusOK)
	if o := r.order(t); o.Status != "pending" || o.Reason != "operator:admin" {
		t.Errorf("retry answered %s/%s, want pending/operator:admin", o.Status, o.Reason)
	}
	wantConflict(t, f.adminDo(t, http.MethodPost, actionPath(id, "retry"), nil), "pending")
	// Let the retried look finish (a second delay) before refunding, so the
	// callback sequence below is deterministic.
	f.waitTransitions(t, id, 2, "waiting for stock", func(c processor.Change) bool {
		return c.To == storage.StatusPending && c.Reason == processor.ReasonOutOfStock
	})

	r = f.adminAs(t, "carol", http.MethodPost, actionPath(id, "refund"), []byte(`{"reason": "buyer cancelled"}`))
	wantStatus(t, r, http.StatusOK)
	if o := r.order(t); o.Status != "refunded" || o.Reason != "operator:claimed:carol" {
		t.Errorf("refund answered %s/%s, want refunded/operator:claimed:carol", o.Status, o.Reason)
	}
	f.waitCallback(t, id, "order.refunded")
	want := []string{"order.delayed", "order.failed", "order.delayed", "order.refunded"}
	if got := f.callbackTypes(id); !slices.Equal(got, want) {
		t.Errorf("callbacks = %v, want %v", got, want)
	}
}

// TestEveryActionOnARefundedOrderIsAConflict: refunded is final; each
// repeated or stale action is a 409 naming the state, and changes nothing.
func TestEveryActionOnARefundedOrderIsAConflict(t *testing.T) {
	f := reviewFixture(t)
	f.importStock(t, skuQB, "REFUND-1,pw1\n")
	r := f.post(t, "shop1", simpleOrder(t, "REFUND-0001", skuQB, 1, "100.00"))
	wantStatus(t, r, http.StatusCreated)
	id := r.order(t).ID
	f.waitCallback(t, id, "order.delivered")

	r = f.adminDo(t, http.MethodPost, actionPath(id, "refund"), nil)
	wantStatus(t, r, http.StatusOK)
	if o := r.order(t); o.Status != "refunded" {
		t.Fatalf("refund of a delivered order answered %s, want refunded", o.Status)
	}
	for _, action := range []string{"refund", "approve", "retry", "reissue"} {
		t.Run(action, func(t *testing.T) {
			wantConflict(t, f.adminDo(t, http.MethodPost, actionPath(id, action), nil), "refunded")
		})
	}
	f.waitCallback(t, id, "order.refunded")
	if got := f.callbackTypes(id); !slices.Equal(got, []string{"order.delivered", "order.refunded"}) {
		t.Errorf("callbacks = %v, want [order.delivered order.refunded]", got)
	}
	if o := f.getOrder(t, "shop1", id); o.Status != "refunded" {
		t.Errorf("order = %s, want refunded", o.Status)
	}
}

// TestOrderActionOnUnknownOrderOrActionIsNotFound.
func TestOrderActionOnUnknownOrderOrActionIsNotFound(t *testing.T) {
	f := reviewFixture(t)
	r := f.post(t, "shop1", simpleOrder(t, "ACT-0001", skuQB, 1, "900.00"))
	wantStatus(t, r, http.StatusCreated)
	id := r.order(t).ID
	for _, tc := range []struct{ name, path string }{
		{"unknown action cancel", actionPath(id, "cancel")},
		{"action in upper case", actionPath(id, "APPROVE")},
		{"order id not a number", actionPath("abc", "approve")},
		{"order id negative", actionPath("-1", "approve")},
		{"order that does not exist", actionPath("999", "approve")},
		{"order id 0", actionPath("0", "refund")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, f.adminDo(t, http.MethodPost, tc.path, nil), http.StatusNotFound, "not_found", "-")
		})
	}
	t.Run("malformed action body", func(t *testing.T) {
		wantError(t, f.adminDo(t, http.MethodPost, actionPath(id, "refund"), []byte(`{"reason":`)), http.StatusBadRequest, "invalid_request", "-")
	})
	if o := f.getOrder(t, "shop1", id); o.Status != "review" {
		t.Errorf("order after refused actions = %s, want still review", o.Status)
	}
}

// --- backup -------------------------------------------------------------------

// TestBackupIsACompleteDatabaseCopy: GET /v1/backup streams a file that
// storage.Open accepts with the same master key, holding the orders (with
// their sealed cards), stock and audit log; another key is refused.
func TestBackupIsACompleteDatabaseCopy(t *testing.T) {
	f := newFixture(t, fixtureOptions{boltFile: true})
	f.importStock(t, skuQB, "BACKUP-1,bpw1,2027-12-31\nBACKUP-2,bpw2\nBACKUP-3,bpw3\n")
	r := f.post(t, "shop1", simpleOrder(t, "BACKUP-ORDER", skuQB, 1, "100.00"))
	wantStatus(t, r, http.StatusCreated)
	id := r.order(t).ID
	f.waitCallback(t, id, "order.delivered")

	r = f.adminDo(t, http.MethodGet, "/v1/backup", nil)
	wantStatus(t, r, http.StatusOK)
	if ct := r.header.Get("Content-Type"); ct != "application/octet-stream" {
		t.Errorf("Content-Type = %q, want application/octet-stream", ct)
	}
	if cl := r.header.Get("Content-Length"); cl != strconv.Itoa(len(r.body)) {
		t.Errorf("Content-Length = %q, body has %d bytes", cl, len(r.body))
	}
	if cd := r.header.Get("Content-Disposition"); !regexp.MustCompile(`^attachment; filename="cardflow-\d{8}-\d{6}\.db"$`).MatchString(cd) {
		t.Errorf("Content-Disposition = %q", cd)
	}

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, storage.FileName), r.body, 0o600); err != nil {
		t.Fatal(err)
	}
	wrongKey := testkit.MasterKey()
	wrongKey[0] ^= 1
	if _, err := storage.Open(dir, wrongKey, storage.Options{}); !errors.Is(err, storage.ErrMasterKey) {
		t.Errorf("open backup with another key: %v, want ErrMasterKey", err)
	}
	copyStore := testkit.OpenStore(t, storage.Open, dir, storage.Options{})
	if err := copyStore.Check(); err != nil {
		t.Errorf("backup fails bbolt's check: %v", err)
	}
	err := copyStore.View(func(tx *storage.Tx) error {
		o, err := tx.OrderByExternal("shop1", "BACKUP-ORDER")
		if err != nil {
			return err
		}
		if strconv.FormatUint(o.ID, 10) != id || o.Status != storage.StatusDelivered || o.Amount != 10000 {
			t.Errorf("order in backup = %d %s %s, want %s delivered 100.00", o.ID, o.Status, o.Amount, id)
		}
		cards, err := tx.Vault().OpenAll(o.Cards)
		if err != nil {
			return err
		}
		if len(cards) != 1 || cards[0] != (card.Card{Number: "BACKUP-1", Password: "bpw1", ExpiresAt: "2027-12-31"}) {
			t.Errorf("cards in backup open to %d cards (first masked %v), want BACKUP-1", len(cards), cards)
		}
		if lv := tx.StockLevel(skuQB); lv != 2 {
			t.Errorf("stock level in backup = %d, want 2", lv)
		}
		audit, err := tx.AuditLast(10)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(audit, func(e storage.AuditEntry) bool { return e.Action == "stock.import" && e.Target == skuQB }) {
			t.Errorf("audit log in backup lacks the import: %+v", audit)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("read backup: %v", err)
	}

	// The live store goes on after a backup.
	wantStatus(t, f.post(t, "shop1", simpleOrder(t, "AFTER-BACKUP", skuQB, 1, "100.00")), http.StatusCreated)
	f.waitCallback(t, "2", "order.delivered")
}

// countEvents counts the distinct callback events of type typ for order id.
func countEvents(cbs []storefront.Callback, id, typ string) int {
	seen := map[string]bool{}
	for _, cb := range cbs {
		if cb.Order.ID == id && cb.Type == typ {
			seen[cb.EventID] = true
		}
	}
	return len(seen)
}

// partialImport is an import that fails after its first 5,000-card chunk was
// committed: 5,000 good lines, then a line longer than the reader's buffer.
// brokenUpload sends 5000 good card lines as a chunked body and then breaks
// the connection, as a client that dies half-way would; it returns once the
// server has committed what arrived.
func brokenUpload(t *testing.T, f *fixture, actor, sku string) {
	t.Helper()
	var b bytes.Buffer
	for i := range 5000 {
		fmt.Fprintf(&b, "PART-%05d,pw%05d\n", i, i)
	}
	body := io.MultiReader(&b, errReader{})
	req, err := http.NewRequest(http.MethodPost, f.admin.URL+"/v1/stock/"+sku, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+adminToken)
	req.Header.Set("X-Cardflow-Actor", actor)
	if resp, err := f.admin.Client().Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("the broken upload got an answer: %s", resp.Status)
	}
	testkit.Eventually(t, "the import to end and be audited", func() bool {
		var audit []storage.AuditEntry
		_ = f.store.View(func(tx *storage.Tx) (err error) { audit, err = tx.AuditLast(5); return err })
		return slices.ContainsFunc(audit, func(e storage.AuditEntry) bool { return e.Action == "stock.import" })
	})
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("client died") }

// TestAPartlyCommittedImportIsAudited: every operator action is in the
// audit log. An import that stops half-way has still added
// cards, so it must leave an entry saying so.
func TestAPartlyCommittedImportIsAudited(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	brokenUpload(t, f, "alice", skuQB)
	var audit []storage.AuditEntry
	err := f.store.View(func(tx *storage.Tx) error {
		var err error
		audit, err = tx.AuditLast(100)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(audit, func(e storage.AuditEntry) bool {
		return e.Action == "stock.import" && e.Actor.Name == "claimed:alice" && e.Target == skuQB && e.Outcome == "error" &&
			strings.Contains(e.Detail, "added=5000")
	}) {
		t.Errorf("5000 cards were added by alice but the audit log has no stock.import entry: %+v", audit)
	}
}

// TestAPartlyCommittedImportWakesWaitingOrders: cards that an import did
// add serve the orders waiting for them, even if the import then failed;
// otherwise those orders sit until stock_wait fails them with stock on hand.
func TestAPartlyCommittedImportWakesWaitingOrders(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	r := f.post(t, "shop1", simpleOrder(t, "WAITS-FOR-PARTIAL", skuQB, 1, "100.00"))
	wantStatus(t, r, http.StatusCreated)
	id := r.order(t).ID
	f.waitCallback(t, id, "order.delayed")
	brokenUpload(t, f, "admin", skuQB)
	f.waitCallback(t, id, "order.delivered")
}
