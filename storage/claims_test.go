package storage

import (
	"errors"
	"testing"
	"time"

	"cardflow/internal/testkit"
)

// TestClaimsAreIndexedByOrderExternalIDStatusAndBuyer: a claim is found by
// its id, its order, the storefront's claim id and as open; resolving it
// takes it off the open list; a buyer's claims are counted across orders;
// everything survives a reopen.
func TestClaimsAreIndexedByOrderExternalIDStatusAndBuyer(t *testing.T) {
	dir := t.TempDir()
	s := testkit.OpenStore(t, openTest, dir, Options{})
	at := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	buyer := "id:shop1/u-1"
	var first, second, other *Claim
	must(t, s.Update(func(tx *Tx) error {
		first = &Claim{OrderID: 7, Storefront: "shop1", ClaimID: "T-1", Reason: "card_invalid", CardSet: 1, Cards: []int{0},
			Sources: []string{"fulu"}, Status: ClaimOpen, CreatedAt: at}
		second = &Claim{OrderID: 9, Storefront: "shop1", Reason: "not_received", Status: ClaimOpen, CreatedAt: at}
		other = &Claim{OrderID: 8, Storefront: "shop2", ClaimID: "T-1", Reason: "other", Status: ClaimOpen, CreatedAt: at}
		for _, c := range []struct {
			c     *Claim
			buyer string
		}{{first, buyer}, {second, buyer}, {other, "contact:b@example.com"}} {
			if err := tx.Claims().Create(c.c, c.buyer); err != nil {
				return err
			}
		}
		// Seen in the write that made them.
		if n := tx.Claims().BuyerCount(buyer); n != 2 {
			t.Errorf("buyer count in the write = %d, want 2", n)
		}
		return nil
	}))
	if first.ID != 1 || second.ID != 2 || other.ID != 3 {
		t.Fatalf("ids %d %d %d, want 1 2 3", first.ID, second.ID, other.ID)
	}
	must(t, s.Update(func(tx *Tx) error {
		c, err := tx.Claims().Get(first.ID)
		if err != nil {
			return err
		}
		c.Status, c.ResolvedAt, c.ResolvedBy, c.ReplacedBy = ClaimReissued, at.Add(time.Hour), Actor{Name: "alice", Platform: "telegram"}, 2
		return tx.Claims().Put(c)
	}))
	testkit.CloseStore(t, s)
	s = testkit.OpenStore(t, openTest, dir, Options{})
	must(t, s.View(func(tx *Tx) error {
		c, err := tx.Claims().ByExternal("shop1", "T-1")
		if err != nil || c.ID != first.ID || c.Status != ClaimReissued || c.ResolvedBy.Name != "alice" || c.ReplacedBy != 2 ||
			len(c.Cards) != 1 || c.Sources[0] != "fulu" {
			t.Errorf("shop1's T-1 = %+v, %v", c, err)
		}
		if c, err := tx.Claims().ByExternal("shop2", "T-1"); err != nil || c.ID != other.ID {
			t.Errorf("shop2's T-1 = %+v, %v: claim ids are per storefront", c, err)
		}
		if _, err := tx.Claims().ByExternal("shop1", "T-2"); !errors.Is(err, ErrNotFound) {
			t.Errorf("an unknown claim id: %v, want ErrNotFound", err)
		}
		if _, err := tx.Claims().Get(99); !errors.Is(err, ErrNotFound) {
			t.Errorf("an unknown claim: %v, want ErrNotFound", err)
		}
		if cs, err := tx.Claims().OfOrder(7); err != nil || len(cs) != 1 || cs[0].ID != first.ID {
			t.Errorf("claims of order 7 = %v, %v", cs, err)
		}
		if cs, err := tx.Claims().OfOrder(70); err != nil || len(cs) != 0 {
			t.Errorf("claims of order 70 = %v, %v", cs, err)
		}
		open, n, err := tx.Claims().Open(1)
		if err != nil || n != 2 || len(open) != 1 || open[0].ID != second.ID {
			t.Errorf("open (1 shown) = %v of %d, %v; want claim 2 of 2", open, n, err)
		}
		if got, err := tx.Claims().Recent(ClaimReissued, 10, 100); err != nil || len(got) != 1 || got[0].ID != first.ID {
			t.Errorf("reissued = %v, %v", got, err)
		}
		if got, err := tx.Claims().Recent("", 10, 100); err != nil || len(got) != 3 || got[0].ID != other.ID {
			t.Errorf("all, newest first = %v, %v", got, err)
		}
		if n := tx.Claims().BuyerCount(buyer); n != 2 {
			t.Errorf("buyer's claims = %d, want 2", n)
		}
		if n := tx.Claims().BuyerCount(""); n != 0 {
			t.Errorf("no buyer: %d claims, want 0", n)
		}
		return nil
	}))
}

// TestPuttingAClaimThatWasNeverCreatedFails: Put rewrites, it never creates
// a claim without its indexes.
func TestPuttingAClaimThatWasNeverCreatedFails(t *testing.T) {
	s := testkit.NewStore(t, openTest)
	err := s.Update(func(tx *Tx) error { return tx.Claims().Put(&Claim{ID: 5, Status: ClaimOpen}) })
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("put of an unknown claim: %v, want ErrNotFound", err)
	}
}

// TestClaimBuyerIsTheBuyerIDElseTheContact: IPs and accounts never make a
// claim history.
func TestClaimBuyerIsTheBuyerIDElseTheContact(t *testing.T) {
	for _, tc := range []struct {
		buyer   Buyer
		account string
		want    string
	}{
		{Buyer{ID: "u-1", Contact: "A@x.com", IP: "1.2.3.4"}, "", "id:shop1/u-1"},
		{Buyer{Contact: "A@x.com", IP: "1.2.3.4"}, "", "contact:a@x.com"},
		{Buyer{IP: "1.2.3.4"}, "12345", ""},
	} {
		o := &Order{Storefront: "shop1", Buyer: tc.buyer, Account: tc.account}
		if got := ClaimBuyer(o); got != tc.want {
			t.Errorf("ClaimBuyer(%+v) = %q, want %q", tc.buyer, got, tc.want)
		}
	}
}
