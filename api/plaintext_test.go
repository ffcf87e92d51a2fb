package api_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cardflow/card"
	"cardflow/internal/testkit"
	"cardflow/storage"
)

// plainCard is a card key made to be found: a distinctive number, and a
// password with characters that JSON escapes (<, >, &, ", \) and non-ASCII.
func plainCard(i int) cardJSON {
	return cardJSON{
		Number:    fmt.Sprintf("PLAIN-%04d-Q7Z%06d", i, i*7919%1000000),
		Password:  fmt.Sprintf(`pw<%04d>&"卡密"\%d!`, i, i*31337),
		ExpiresAt: "2027-12-31",
	}
}

// forms are the ways a secret could sit in a file if it were stored
// unencrypted: as is, normalized (as fingerprinted), JSON-escaped once or
// twice (a card inside a JSON string inside JSON), and each of those as
// base64 at the three byte alignments (a []byte field in JSON).
func forms(t testing.TB, secret string) []string {
	t.Helper()
	escape := func(s string) string {
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		return string(b[1 : len(b)-1])
	}
	texts := []string{secret, escape(secret), escape(escape(secret))}
	out := append([]string{card.Normalize(secret)}, texts...)
	for _, text := range texts {
		for shift := range 3 {
			enc := base64.StdEncoding.EncodeToString(append(make([]byte, shift), text...))
			// Keep only the characters that depend on text alone: drop the
			// group mixed with the shift bytes and the last partial group.
			from := (shift + 2) / 3 * 4
			to := (shift + len(text)) / 3 * 4
			if to-from >= 8 {
				out = append(out, enc[from:to])
			}
		}
	}
	return out
}

// TestCardKeysAreNeverStoredInPlaintext checks that card keys are encrypted
// at rest: after importing a few hundred known card keys and delivering some
// of them (so they sit in stock, in order records and behind outbox callbacks
// that could not be delivered), neither the database file nor a backup
// contains any card number or password in any readable form — while the API
// still hands them, decrypted, to the storefront that owns the order.
func TestCardKeysAreNeverStoredInPlaintext(t *testing.T) {
	f := newFixture(t, fixtureOptions{failCallbacks: true, boltFile: true})
	const total, half = 300, 150
	cards := make(map[string]cardJSON, total)
	var qbLines, jdLines strings.Builder
	for i := range total {
		c := plainCard(i)
		cards[c.Number] = c
		lines := &qbLines
		if i >= half {
			lines = &jdLines
		}
		fmt.Fprintf(lines, "%s,%s,%s\n", c.Number, c.Password, c.ExpiresAt)
	}
	if res := f.importStock(t, skuQB, "number,password,expires_at\n"+qbLines.String()); res.Added != half || res.Invalid != 0 {
		t.Fatalf("import qb-100 = %+v, want %d added", res, half)
	}
	if res := f.importStock(t, skuJD, jdLines.String()+"\n"); res.Added != total-half || res.Invalid != 0 {
		t.Fatalf("import jd-50 = %+v, want %d added", res, total-half)
	}

	// 24 orders, 1-3 cards each, from both storefronts and both SKUs.
	type placed struct{ id, shop, other string }
	var orders []placed
	delivered := 0
	for i := range 24 {
		shop, other := "shop1", "shop2"
		if i%3 == 2 {
			shop, other = other, shop
		}
		sku := []string{skuQB, skuJD}[i%2]
		qty := 1 + i%3
		r := f.post(t, shop, simpleOrder(t, fmt.Sprintf("PLAIN-ORDER-%02d", i), sku, qty, "100.00"))
		wantStatus(t, r, http.StatusCreated)
		orders = append(orders, placed{id: r.order(t).ID, shop: shop, other: other})
		delivered += qty
	}

	// The API gives each owner its cards, decrypted and exactly as
	// imported; no card reaches two orders; others get 404.
	owner := map[string]string{}
	for _, p := range orders {
		f.waitStatus(t, p.id, storage.StatusDelivered)
		o := f.getOrder(t, p.shop, p.id)
		if o.Status != "delivered" || len(o.Cards) != o.Quantity {
			t.Fatalf("order %s: %s with %d cards for quantity %d", p.id, o.Status, len(o.Cards), o.Quantity)
		}
		for _, c := range o.Cards {
			if want, ok := cards[c.Number]; !ok || c != want {
				t.Errorf("order %s got a card that was not imported like this: number %q", p.id, c.Number)
			}
			if prev, ok := owner[c.Number]; ok {
				t.Errorf("card %s went to orders %s and %s", c.Number, prev, p.id)
			}
			owner[c.Number] = p.id
		}
		wantError(t, f.get(t, p.other, "/v1/orders/"+p.id), http.StatusNotFound, "not_found", "")
	}
	if len(owner) != delivered {
		t.Fatalf("%d cards delivered, want %d", len(owner), delivered)
	}

	// The storefront refuses every callback, so the delivered callbacks
	// stay in the outbox and are in the file and the backup too.
	testkit.Eventually(t, "a callback attempt per order", func() bool { return f.callbackPosts.Load() >= int64(len(orders)) })
	if got := f.engine.Backlog(); got < len(orders) {
		t.Fatalf("outbox backlog = %d, want at least the %d undelivered callbacks", got, len(orders))
	}
	if st := f.receiver.Stats(); st.Accepted != 0 || st.Rejected != 0 {
		t.Fatalf("receiver stats %+v: callbacks should be verified and then refused", st)
	}

	backup := f.adminDo(t, http.MethodGet, "/v1/backup", nil)
	wantStatus(t, backup, http.StatusOK)
	dbPath := f.store.Path()
	f.shutdown(t)
	db, err := os.ReadFile(dbPath)
	if err != nil {
		t.Fatalf("read database file: %v", err)
	}
	if filepath.Base(dbPath) != storage.FileName {
		t.Errorf("database file is %s, want %s", filepath.Base(dbPath), storage.FileName)
	}

	files := map[string][]byte{"database file": db, "backup": backup.body, "logs": []byte(f.logs.String())}

	// Controls: the search would find plaintext that is there — the files
	// hold the orders' external ids and the pending callbacks (their kind
	// and type, length-prefixed in the binary form) in the clear.
	for _, name := range []string{"database file", "backup"} {
		for _, want := range []string{"PLAIN-ORDER-07", "\x08callback", "\x0forder.delivered"} {
			if !bytes.Contains(files[name], []byte(want)) {
				t.Fatalf("control: %s does not contain %q; the search below would prove nothing", name, want)
			}
		}
	}

	for name, data := range files {
		t.Run(name, func(t *testing.T) {
			leaks := 0
			for _, c := range cards {
				for _, secret := range []string{c.Number, c.Password} {
					for _, form := range forms(t, secret) {
						if bytes.Contains(data, []byte(form)) {
							leaks++
							if leaks <= 5 {
								t.Errorf("%s contains card %s in readable form %q", name, card.Mask(c.Number), card.Mask(form))
							}
						}
					}
				}
			}
			if leaks > 5 {
				t.Errorf("... %d readable card forms in %s in all", leaks, name)
			}
			for _, secret := range []string{string(shop1Secret), string(shop2Secret), adminToken} {
				if bytes.Contains(data, []byte(secret)) {
					t.Errorf("%s contains a configured secret (%s)", name, card.Mask(secret))
				}
			}
		})
	}
}

// TestPlaintextSearchFindsEveryStoredForm guards the check above: each way
// a careless store could keep a card (raw, inside JSON, as a []byte field at
// any offset, fingerprint input) is found by the forms it searches for.
func TestPlaintextSearchFindsEveryStoredForm(t *testing.T) {
	c := plainCard(42)
	cardJSON, err := json.Marshal(card.Card{Number: c.Number, Password: c.Password, ExpiresAt: c.ExpiresAt})
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string][]byte{
		"raw line":        []byte(c.Number + "," + c.Password),
		"JSON":            cardJSON,
		"normalized":      []byte(card.Normalize(c.Number) + card.Normalize(c.Password)),
		"JSON in JSON":    mustJSON(t, map[string]string{"card": string(cardJSON)}),
		"[]byte, shift 0": mustJSON(t, map[string][]byte{"box": cardJSON}),
		"[]byte, shift 1": mustJSON(t, map[string][]byte{"box": append([]byte{1}, cardJSON...)}),
		"[]byte, shift 2": mustJSON(t, map[string][]byte{"box": append([]byte{1, 2}, cardJSON...)}),
	}
	for name, data := range stored {
		t.Run(name, func(t *testing.T) {
			for _, secret := range []string{c.Number, c.Password} {
				found := false
				for _, form := range forms(t, secret) {
					found = found || bytes.Contains(data, []byte(form))
				}
				if !found {
					t.Errorf("a card stored as %s is not found by the forms of %q", name, secret)
				}
			}
		})
	}
}
