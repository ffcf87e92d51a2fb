package telegram

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"cardflow/bot/bind"

	"github.com/rs/zerolog"

	"cardflow/bot/operator"
	"cardflow/config"
	"cardflow/internal/chatcheck"
	"cardflow/internal/money"
	"cardflow/storage"
)

// TestHostileOrderFieldsReachTelegramAsInertPlainText stores orders whose
// every field a buyer, the storefront or a supplier controls is a hostile
// value and asks for them in the group: Telegram gets plain text (no parse
// mode: nothing is read as markup) in which no value is a link, a mention
// or a control character, and none starts a line of its own.
func TestHostileOrderFieldsReachTelegramAsInertPlainText(t *testing.T) {
	f := newFixture(t)
	f.start()
	var handled int64
	for i, v := range chatcheck.Hostile {
		o := &storage.Order{ExternalID: fmt.Sprintf("H%d", i), Storefront: "shop", SKU: "qb-10" + v, Kind: "card", Quantity: 1,
			Amount: money.Amount(1000), Buyer: storage.Buyer{ID: v, Contact: v}, Account: v, Status: storage.StatusReview,
			Reason: v, History: []storage.Transition{{To: storage.StatusReview, Reason: v, Actor: storage.Actor{Name: v, Platform: "admin-api"}}}}
		if err := f.store.Update(func(tx *storage.Tx) error { return tx.CreateOrder(o) }); err != nil {
			t.Fatal(err)
		}
		before := len(f.fake.Messages(group))
		f.fake.SendText(group, aliceUID, fmt.Sprintf("/order #%d", o.ID))
		handled++
		f.settle(handled)
		got := f.after(group, before)
		if len(got) != 1 || !strings.Contains(got[0].Text, fmt.Sprintf("#%d", o.ID)) {
			t.Fatalf("value %q: answer %+v", v, got)
		}
		if got[0].ParseMode != "" {
			t.Errorf("value %q: sent with parse mode %q", v, got[0].ParseMode)
		}
		if err := chatcheck.Inert(got[0].Text); err != nil {
			t.Errorf("value %q: %v in:\n%s", v, err, got[0].Text)
		}
	}
}

// TestBindCodeIsGivenOnlyInAPrivateTelegramChat: an admin's "/bind alice"
// in the group is refused with a hint; in a private chat with the bot it
// answers a code.
func TestBindCodeIsGivenOnlyInAPrivateTelegramChat(t *testing.T) {
	f := newFixture(t)
	roster := []config.Operator{{Name: "alice", Role: config.RoleOperator}, {Name: "carol", Role: config.RoleAdmin}}
	f.ad.handler = operator.New(operator.Options{Orders: f.engine, Bindings: bind.New(f.store, nil), Auth: operators, Language: "zh", Roster: operator.Roster(roster),
		Log: zerolog.Nop(), Now: time.Now})
	f.start()
	code := regexp.MustCompile(`[2-9A-Z]{5}-[2-9A-Z]{5}-[2-9A-Z]{5}`)

	before := len(f.fake.Messages(group))
	f.fake.SendText(group, adminUID, "/bind alice")
	f.settle(1)
	got := f.after(group, before)
	if len(got) != 1 || code.MatchString(got[0].Text) || !strings.Contains(got[0].Text, "私聊") {
		t.Fatalf("/bind in the group answered %+v", got)
	}

	f.fake.SendText(adminUID, adminUID, "/bind alice")
	f.settle(2)
	got = f.fake.Messages(adminUID)
	if len(got) != 1 || !code.MatchString(got[0].Text) {
		t.Fatalf("/bind in a private chat answered %+v", got)
	}
}
