package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"cardflow/internal/storefront"
	"cardflow/internal/testkit"
	"cardflow/mail/smtpfake"
)

// TestABuyerGetsTheKeysByMailAcrossAKill: shop1 mails order.delivered to
// buyers through a mail server on loopback that is down when the order is
// delivered. The binary is killed with SIGKILL while the mail waits in its
// outbox, the mail server comes back, the binary restarts, and the buyer
// gets one mail (one Message-ID, received once) with the order's keys in
// its text and HTML parts.
func TestABuyerGetsTheKeysByMailAcrossAKill(t *testing.T) {
	srv, err := smtpfake.Start(smtpfake.Options{Security: smtpfake.None})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	s := newService(t, fmt.Sprintf("[email]\nhost = %q\nport = %d\nsecurity = \"none\"\nfrom = \"Shop <noreply@shop.example.com>\"\n",
		srv.Host(), srv.Port()))
	mailEvents(t, s, "shop1", `["order.delivered"]`)
	srv.Down()
	p := s.start(t)
	ctx := context.Background()
	res, err := s.adminClient().ImportStock(ctx, "qb-10", strings.NewReader("MAIL-KEY-0001,MAIL-PW-1\nMAIL-KEY-0002,MAIL-PW-2\n"))
	if err != nil || res.Added != 2 {
		t.Fatalf("import: %+v %v", res, err)
	}
	o, _, err := submit(ctx, s.client(), storefront.NewOrder{ExternalID: "MAIL-1", SKU: "qb-10", Quantity: 2, Amount: "20.00",
		Buyer: storefront.Buyer{ID: "u1", Contact: "buyer@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "the delivered callback", func() bool { return s.receiver.Delivered(o.ID) })
	testkit.Eventually(t, "a failed try of the mail", func() bool { return strings.Contains(p.logs(), "event delivery failed") })
	p.kill()
	if err := srv.Up(); err != nil {
		t.Fatal(err)
	}
	p = s.start(t)
	testkit.Eventually(t, "the mail", func() bool { return srv.Received() >= 1 })
	testkit.Eventually(t, "the outbox drained", func() bool { return strings.Contains(s.scrape(t), "cardflow_outbox_backlog 0\n") })
	if srv.Received() != 1 || srv.Distinct() != 1 {
		t.Errorf("%d mails with %d Message-IDs, want one", srv.Received(), srv.Distinct())
	}
	m := srv.Mails()[0]
	parsed, err := m.Parse()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.To) != 1 || m.To[0] != "buyer@example.com" || !strings.Contains(parsed.From, "某某商城") {
		t.Errorf("mail to %v from %q", m.To, parsed.From)
	}
	for _, part := range []string{parsed.Text, parsed.HTML} {
		for _, want := range []string{"MAIL-KEY-0001", "MAIL-PW-1", "MAIL-KEY-0002", "MAIL-PW-2", "MAIL-1", "Q币 10元"} {
			if !strings.Contains(part, want) {
				t.Errorf("the mail lacks %q:\n%s", want, part)
			}
		}
	}
	p.interrupt(t)
}

// mailEvents makes storefront id of the service's config, named 某某商城,
// mail the events given (a TOML array) to its buyers.
func mailEvents(t *testing.T, s *service, id, events string) {
	t.Helper()
	cfg, err := os.ReadFile(s.config)
	if err != nil {
		t.Fatal(err)
	}
	block := fmt.Sprintf("id = %q", id)
	if !strings.Contains(string(cfg), block) {
		t.Fatalf("the config has no storefront %s", id)
	}
	text := strings.Replace(string(cfg), block, block+"\nname = \"某某商城\"\nemail_events = "+events, 1)
	if err := os.WriteFile(s.config, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}
