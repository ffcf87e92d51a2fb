package qq

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tencent-connect/botgo/dto"

	"cardflow/alert"
	"cardflow/bot/chat"
	"cardflow/bot/operator"
	"cardflow/internal/chatcheck"
	"cardflow/internal/money"
	"cardflow/internal/testkit"
	"cardflow/storage"
)

// checkQQ fails when a rendered QQ message could show markup, a link or a
// control sequence: markdown must be fully escaped and read inert; plain
// text must be inert.
func checkQQ(t *testing.T, what string, m *dto.MessageToCreate) {
	t.Helper()
	if m.Markdown != nil {
		if err := chatcheck.MarkdownInert(m.Markdown.Content); err != nil {
			t.Errorf("%s: %v in markdown:\n%s", what, err, m.Markdown.Content)
		}
		if err := chatcheck.Inert(chatcheck.Unescape(m.Markdown.Content)); err != nil {
			t.Errorf("%s: %v in markdown:\n%s", what, err, m.Markdown.Content)
		}
		return
	}
	if err := chatcheck.Inert(m.Content); err != nil {
		t.Errorf("%s: %v in text:\n%s", what, err, m.Content)
	}
}

// TestHostileValuesCannotMarkUpQQMessages stores orders whose every field
// a buyer, the storefront or a supplier controls is a hostile value (a
// markdown link, a <qqbot-cmd-input> tag, a bare domain QQ would refuse
// the whole message for, terminal escapes, a forged line, …) and asks for
// them in the group: the markdown QQ gets shows each value as written,
// with no link, tag, emphasis, heading, list or control character.
func TestHostileValuesCannotMarkUpQQMessages(t *testing.T) {
	h := newHarness(t, nil)
	for i, v := range chatcheck.Hostile {
		o := &storage.Order{ExternalID: fmt.Sprintf("H%d", i), Storefront: "shop", SKU: "qb-10" + v, Kind: "card", Quantity: 1,
			Amount: money.Amount(1000), Buyer: storage.Buyer{ID: v, Contact: v}, Account: v, Status: storage.StatusReview,
			Reason: v, History: []storage.Transition{{To: storage.StatusReview, Reason: v, Actor: storage.Actor{Name: v, Platform: "admin-api"}}}}
		if err := h.ad.store.Update(func(tx *storage.Tx) error { return tx.CreateOrder(o) }); err != nil {
			t.Fatal(err)
		}
		before := len(h.fake.Messages(testGroup))
		h.say(fmt.Sprintf("/order #%d", o.ID))
		testkit.Eventually(h.t, "the answer", func() bool { return len(h.fake.Messages(testGroup)) > before })
		m := h.fake.Messages(testGroup)[before]
		if !strings.Contains(chatcheck.Unescape(m.Content+m.Markdown), fmt.Sprintf("#%d", o.ID)) {
			t.Fatalf("value %q: the answer is not the order: %q", v, m.Content+m.Markdown)
		}
		what := fmt.Sprintf("value %q", v)
		if m.Markdown != "" {
			checkQQ(t, what, &dto.MessageToCreate{Markdown: &dto.Markdown{Content: m.Markdown}})
		} else {
			checkQQ(t, what, &dto.MessageToCreate{Content: m.Content})
		}
	}
}

// TestRenderedAlertsAreInertAtEveryLevel renders every alert type with
// hostile values as markdown with buttons, markdown with typed commands
// and plain text.
func TestRenderedAlertsAreInertAtEveryLevel(t *testing.T) {
	for _, lang := range []string{chat.LangZH, chat.LangEN} {
		b := operator.New(operator.Options{Language: lang})
		for _, v := range chatcheck.Hostile {
			for _, typ := range append(alert.Kinds(), "other") {
				// A supplier's name is the config's, and so are the keys
				// of the alerts with a Silence button: buttons carry them
				// as data. Everything else may come from an order.
				target, key := v, string(typ)+":"+v
				if typ == alert.SupplierDown || typ == alert.DuplicateCard || typ == alert.SupplierVerifying {
					target, key = "fulu", string(typ)+":fulu"
				}
				if typ == alert.Backlog {
					key = "backlog:outbox"
				}
				if typ == alert.MailFailing {
					key = "mail_failing:smtp"
				}
				r := b.RenderAlert(storage.Alert{Key: key, Type: typ, OrderID: 7, SKU: v, Target: target, Detail: v})
				for _, level := range []int{levelButtons, levelMarkdown, levelText} {
					checkQQ(t, fmt.Sprintf("%s alert with %q at level %d", typ, v, level), render(r, level, lang))
				}
			}
		}
	}
}

// FuzzEscapeMarkdown: whatever the text, its escaped form has no markup
// and reads as the text itself.
func FuzzEscapeMarkdown(f *testing.F) {
	for _, v := range chatcheck.Hostile {
		f.Add(v)
	}
	f.Add("1. first\n  - second\n\\[x\\](y)")
	f.Fuzz(func(t *testing.T, s string) {
		md := escapeMarkdown(s)
		if err := chatcheck.MarkdownInert(md); err != nil {
			t.Fatalf("escapeMarkdown(%q) = %q: %v", s, md, err)
		}
		if got := chatcheck.Unescape(md); got != string([]rune(s)) { // invalid UTF-8 reads as U+FFFD
			t.Fatalf("escapeMarkdown(%q) = %q reads as %q", s, md, got)
		}
	})
}
