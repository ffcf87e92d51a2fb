package processor

import (
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"cardflow/alert"
	"cardflow/config"
	"cardflow/internal/money"
	"cardflow/internal/testkit"
	"cardflow/mail"
	"cardflow/mail/smtpfake"
	"cardflow/processor/outbox"
	"cardflow/storage"
)

// mailFixture is the engine fixture with shop mailing the events given to
// buyers, through a real SMTP server on loopback (STARTTLS with a login,
// trusted through the test's own root).
func mailFixture(t *testing.T, events []string, tweak func(*config.Email, *mail.Options)) (*fixture, *smtpfake.Server) {
	return mailFixtureWith(t, events, tweak, nil)
}

func mailFixtureWith(t *testing.T, events []string, tweak func(*config.Email, *mail.Options), opts func(*Options)) (*fixture, *smtpfake.Server) {
	t.Helper()
	tlsConfig, roots, err := smtpfake.SelfSigned()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := smtpfake.Start(smtpfake.Options{Security: smtpfake.StartTLS, TLS: tlsConfig, Username: "noreply@shop.example.com", Password: "smtp-pass"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	e := config.Email{Host: srv.Host(), Port: srv.Port(), Security: config.SecurityStartTLS, Username: "noreply@shop.example.com",
		Password: "smtp-pass", From: "Shop <noreply@shop.example.com>"}
	mo := mail.Options{Connections: 2, Timeout: 5 * time.Second, RootCAs: roots, Log: zerolog.Nop()}
	if tweak != nil {
		tweak(&e, &mo)
	}
	sender, err := mail.New(e, mo)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sender.Close)
	f := newFixture(t, func(o *Options) {
		o.Mail = &outbox.Mail{Sender: sender, Products: map[string]string{"qb-10": "Q币 10元", "jd-100": "京东E卡"},
			Shops: map[string]outbox.MailShop{"shop": {Events: events, Name: "某某商城", Language: "zh"}}}
		if opts != nil {
			opts(o)
		}
	})
	return f, srv
}

func (f *fixture) submitFor(ext, sku string, qty int, amount money.Amount, contact string) *storage.Order {
	f.t.Helper()
	o, _, err := f.engine.Submit(Request{Storefront: "shop", ExternalID: ext, SKU: sku, Quantity: qty, Amount: amount,
		Buyer: storage.Buyer{ID: "u-" + ext, Contact: contact}})
	if err != nil {
		f.t.Fatalf("submit %s: %v", ext, err)
	}
	return o
}

func (a *alertLog) count(typ alert.Kind, resolved bool) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, al := range a.alerts {
		if al.Type == typ && al.Resolved == resolved {
			n++
		}
	}
	return n
}

func (a *alertLog) find(typ alert.Kind) (storage.Alert, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, al := range a.alerts {
		if al.Type == typ {
			return al, true
		}
	}
	return storage.Alert{}, false
}

func (f *fixture) storedMails() int {
	n := 0
	for _, ev := range f.storedEvents() {
		if ev.Kind == outbox.KindMail {
			n++
		}
	}
	return n
}

func parsed(t *testing.T, m smtpfake.Mail) smtpfake.Parsed {
	t.Helper()
	p, err := m.Parse()
	if err != nil {
		t.Fatalf("parse mail: %v", err)
	}
	return p
}

func TestADeliveredOrderMailsItsKeysToTheBuyer(t *testing.T) {
	f, srv := mailFixture(t, []string{config.MailDelivered}, nil)
	f.importCards("qb-10", "ML", 2)
	o := f.submitFor("ML-1", "qb-10", 2, 2000, "buyer@example.com")
	f.waitCallbacks(o.ID, CallbackDelivered)
	testkit.Eventually(t, "the mail", func() bool { return srv.Received() == 1 })
	m := srv.Mails()[0]
	if len(m.To) != 1 || m.To[0] != "buyer@example.com" {
		t.Errorf("mailed to %v", m.To)
	}
	p := parsed(t, m)
	for _, part := range []string{p.Text, p.HTML} {
		for _, want := range []string{"ML-00000", "pw0", "ML-00001", "pw1", "ML-1", "Q币 10元", "× 2", fmt.Sprintf("#%d", o.ID)} {
			if !strings.Contains(part, want) {
				t.Errorf("mail lacks %q:\n%s", want, part)
			}
		}
	}
	if !strings.Contains(p.Subject, "某某商城") || !strings.Contains(p.From, "某某商城") {
		t.Errorf("subject %q from %q, want the shop's name", p.Subject, p.From)
	}
	f.waitOutboxEmpty()
}

// TestOnlySubscribedEventsToAMailAddressAreMailed tries a phone number, a
// name with an address, no contact, and an event the shop does not mail.
func TestOnlySubscribedEventsToAMailAddressAreMailed(t *testing.T) {
	f, srv := mailFixture(t, []string{config.MailDelivered}, nil)
	f.importCards("qb-10", "NM", 3)
	for i, contact := range []string{"13800138000", "Alice <a@example.com>", ""} {
		o := f.submitFor(fmt.Sprintf("NM-%d", i), "qb-10", 1, 1000, contact)
		f.waitCallbacks(o.ID, CallbackDelivered)
	}
	// A refund of an order never delivered: order.refunded, not mailed here.
	r := f.submitFor("NM-R", "jd-100", 1, 1000, "buyer@example.com")
	f.waitCallbacks(r.ID, CallbackDelayed)
	if _, err := f.engine.Refund(storage.Actor{Name: "alice", Platform: "test"}, r.ID, "no stock"); err != nil {
		t.Fatal(err)
	}
	f.waitCallbacks(r.ID, CallbackDelayed, CallbackRefunded)
	f.waitOutboxEmpty()
	if n := srv.Received(); n != 0 {
		t.Errorf("%d mails went out, want none", n)
	}
}

func TestDelayAndRefundMailsCarryNoKeys(t *testing.T) {
	f, srv := mailFixture(t, []string{config.MailDelayed, config.MailRefunded}, nil)
	o := f.submitFor("DR-1", "jd-100", 1, 1000, "buyer@example.com")
	f.waitCallbacks(o.ID, CallbackDelayed)
	if _, err := f.engine.Refund(storage.Actor{Name: "alice", Platform: "test"}, o.ID, "no stock"); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "two mails", func() bool { return srv.Received() == 2 })
	subjects := []string{parsed(t, srv.Mails()[0]).Subject, parsed(t, srv.Mails()[1]).Subject}
	if !strings.Contains(subjects[0], "正在处理") || !strings.Contains(subjects[1], "已退款") {
		t.Errorf("subjects %q, want the delay then the refund", subjects)
	}
}

// TestATemporaryRefusalIsRetriedWithBackoffAndTheMailArrivesOnce: a 451,
// one alert, a retry after the backoff, one mail, the alert resolved.
func TestATemporaryRefusalIsRetriedWithBackoffAndTheMailArrivesOnce(t *testing.T) {
	f, srv := mailFixture(t, []string{config.MailDelivered}, nil)
	srv.Refuse(451, 1)
	f.importCards("qb-10", "TR", 1)
	o := f.submitFor("TR-1", "qb-10", 1, 1000, "buyer@example.com")
	f.waitCallbacks(o.ID, CallbackDelivered)
	testkit.Eventually(t, "the failed try recorded", func() bool {
		ev := f.storedEvents()
		return len(ev) == 1 && ev[0].Kind == outbox.KindMail && ev[0].Attempts == 1
	})
	testkit.Eventually(t, "mail_failing raised", func() bool { return f.alerts.count(alert.MailFailing, false) == 1 })
	if a, _ := f.alerts.find(alert.MailFailing); !strings.Contains(a.Detail, "451") || a.Target != srv.Addr() {
		t.Errorf("alert %+v, want the 451 and the server", a)
	}
	f.tickUntil("the mail", 2*time.Second, func() bool { return srv.Received() == 1 })
	f.waitOutboxEmpty()
	testkit.Eventually(t, "mail_failing resolved", func() bool { return f.alerts.count(alert.MailFailing, true) == 1 })
	if srv.Received() != 1 || f.alerts.count(alert.MailFailing, false) != 1 {
		t.Errorf("%d mails, %d alerts raised; want 1 and 1", srv.Received(), f.alerts.count(alert.MailFailing, false))
	}
}

// TestAPermanentRefusalGivesTheMailUpWithAnAlert: a 550 to the buyer's
// address: the mail is dropped, operators hear which storefront and why,
// never the keys.
func TestAPermanentRefusalGivesTheMailUpWithAnAlert(t *testing.T) {
	f, srv := mailFixture(t, []string{config.MailDelivered}, nil)
	srv.Refuse(550, 1)
	f.importCards("qb-10", "PR", 1)
	o := f.submitFor("PR-1", "qb-10", 1, 1000, "gone@example.com")
	f.waitCallbacks(o.ID, CallbackDelivered)
	testkit.Eventually(t, "mail_rejected", func() bool { return f.alerts.count(alert.MailRejected, false) == 1 })
	f.waitOutboxEmpty()
	a, _ := f.alerts.find(alert.MailRejected)
	if a.Target != "shop" || a.OrderID != o.ID || !strings.Contains(a.Detail, "550") || !strings.Contains(a.Detail, "order.delivered") {
		t.Errorf("alert %+v, want the storefront, the order and the 550", a)
	}
	if strings.Contains(a.Detail+a.Key, "PR-00000") || strings.Contains(a.Detail, "pw0") {
		t.Errorf("the alert shows a key: %+v", a)
	}
	if srv.Received() != 0 || f.alerts.count(alert.MailFailing, false) != 0 {
		t.Errorf("%d mails, %d mail_failing alerts; want none", srv.Received(), f.alerts.count(alert.MailFailing, false))
	}
}

// TestAMailServerDownRaisesOneAlertAndResolvesItWhenMailFlows: three
// orders while the server is down, one alert; back up, three mails, the
// alert resolved.
func TestAMailServerDownRaisesOneAlertAndResolvesItWhenMailFlows(t *testing.T) {
	f, srv := mailFixture(t, []string{config.MailDelivered}, nil)
	srv.Down()
	f.importCards("qb-10", "DN", 3)
	for i := range 3 {
		o := f.submitFor(fmt.Sprintf("DN-%d", i), "qb-10", 1, 1000, fmt.Sprintf("b%d@example.com", i))
		f.waitCallbacks(o.ID, CallbackDelivered)
	}
	testkit.Eventually(t, "every mail tried", func() bool {
		for _, ev := range f.storedEvents() {
			if ev.Attempts == 0 {
				return false
			}
		}
		return f.storedMails() == 3
	})
	if n := f.alerts.count(alert.MailFailing, false); n != 1 {
		t.Errorf("%d mail_failing alerts for three mails, want one", n)
	}
	if err := srv.Up(); err != nil {
		t.Fatal(err)
	}
	f.tickUntil("three mails", 2*time.Second, func() bool { return srv.Distinct() == 3 })
	testkit.Eventually(t, "mail_failing resolved", func() bool { return f.alerts.count(alert.MailFailing, true) == 1 })
}

// TestBadCredentialsKeepTheMailAndAlert: a 535 is the operator's to fix;
// the buyer's mail waits.
func TestBadCredentialsKeepTheMailAndAlert(t *testing.T) {
	f, srv := mailFixture(t, []string{config.MailDelivered}, func(e *config.Email, _ *mail.Options) { e.Password = "wrong" })
	f.importCards("qb-10", "BC", 1)
	o := f.submitFor("BC-1", "qb-10", 1, 1000, "buyer@example.com")
	f.waitCallbacks(o.ID, CallbackDelivered)
	testkit.Eventually(t, "mail_failing raised", func() bool { return f.alerts.count(alert.MailFailing, false) == 1 })
	a, _ := f.alerts.find(alert.MailFailing)
	if !strings.Contains(a.Detail, "535") || strings.Contains(a.Detail, "wrong") {
		t.Errorf("alert detail %q, want the 535 and no password", a.Detail)
	}
	f.tick(10 * time.Second)
	testkit.Eventually(t, "tried again", func() bool { ev := f.storedEvents(); return len(ev) == 1 && ev[0].Attempts >= 2 })
	if srv.Received() != 0 || f.alerts.count(alert.MailRejected, false) != 0 {
		t.Errorf("the mail was sent or given up")
	}
}

// TestMailsSurviveARestart: the server is down when the order is
// delivered; the engine restarts with the mail still queued; the server
// comes back and the mail arrives once.
func TestMailsSurviveARestart(t *testing.T) {
	f, srv := mailFixture(t, []string{config.MailDelivered}, nil)
	srv.Down()
	f.importCards("qb-10", "RS", 1)
	o := f.submitFor("RS-1", "qb-10", 1, 1000, "buyer@example.com")
	f.waitCallbacks(o.ID, CallbackDelivered)
	testkit.Eventually(t, "the failed try recorded", func() bool { ev := f.storedEvents(); return len(ev) == 1 && ev[0].Attempts >= 1 })
	id := f.storedEvents()[0].ID
	f.restart()
	if ev := f.storedEvents(); len(ev) != 1 || ev[0].ID != id || ev[0].Kind != outbox.KindMail {
		t.Fatalf("after the restart: %+v, want the mail %s", ev, id)
	}
	if err := srv.Up(); err != nil {
		t.Fatal(err)
	}
	f.tickUntil("the mail", 2*time.Second, func() bool { return srv.Received() == 1 })
	if got := parsed(t, srv.Mails()[0]).MessageID; !strings.Contains(got, id) {
		t.Errorf("Message-ID %q, want the event id %s", got, id)
	}
	f.waitOutboxEmpty()
}

func TestAReissueMailsTheNewKeys(t *testing.T) {
	f, srv := mailFixture(t, []string{config.MailDelivered}, nil)
	f.importCards("qb-10", "RI", 2)
	o := f.submitFor("RI-1", "qb-10", 1, 1000, "buyer@example.com")
	f.waitCallbacks(o.ID, CallbackDelivered)
	testkit.Eventually(t, "the first mail", func() bool { return srv.Received() == 1 })
	first := parsed(t, srv.Mails()[0]).Text
	if _, err := f.engine.Reissue(storage.Actor{Name: "alice", Platform: "test"}, o.ID); err != nil {
		t.Fatal(err)
	}
	f.waitCallbacks(o.ID, CallbackDelivered, CallbackDelivered)
	testkit.Eventually(t, "the second mail", func() bool { return srv.Received() == 2 })
	second := parsed(t, srv.Mails()[1])
	old, fresh := "RI-00000", "RI-00001"
	if !strings.Contains(first, old) {
		old, fresh = fresh, old
	}
	if !strings.Contains(second.Text, fresh) || strings.Contains(second.Text, old) || !strings.Contains(second.HTML, fresh) {
		t.Errorf("the reissue mail shows %q, want the new key %s only", second.Text, fresh)
	}
	if !strings.Contains(second.Subject, "补发") {
		t.Errorf("subject %q, want it to say the keys are reissued", second.Subject)
	}
}

// TestAMailServerThatHangsNeverHoldsCallbacks points the mail at a server
// that accepts connections and never answers: 80 orders' callbacks still
// arrive at once (more than the 64 sends callbacks have: mails hold none).
func TestAMailServerThatHangsNeverHoldsCallbacks(t *testing.T) {
	hole, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var held []net.Conn
	go func() {
		for {
			c, err := hole.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = hole.Close()
		mu.Lock()
		for _, c := range held {
			_ = c.Close()
		}
		mu.Unlock()
	})
	f, _ := mailFixture(t, []string{config.MailDelivered}, func(e *config.Email, o *mail.Options) {
		_, port, _ := net.SplitHostPort(hole.Addr().String())
		_, _ = fmt.Sscan(port, &e.Port)
		e.Security, e.Username, e.Password = config.SecurityNone, "", ""
		o.Timeout = time.Minute
	})
	f.importCards("qb-10", "HG", 80)
	start := time.Now()
	for i := range 80 {
		o := f.submitFor(fmt.Sprintf("HG-%d", i), "qb-10", 1, 1000, "buyer@example.com")
		f.waitCallbacks(o.ID, CallbackDelivered)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("80 callbacks took %v behind a hanging mail server", d)
	}
	stopped := time.Now()
	f.stop() // cuts the hanging sends short
	if d := time.Since(stopped); d > 5*time.Second {
		t.Errorf("stopping took %v with mails hanging", d)
	}
}

// TestMailsPilingUpNeverKeepCallbacksOutOfMemory: the outbox holds 10
// events in memory, mails 2 of them; with the mail server down, 12 orders'
// mails pile up in the store while all 12 callbacks arrive; back up, every
// mail arrives once.
func TestMailsPilingUpNeverKeepCallbacksOutOfMemory(t *testing.T) {
	f, srv := mailFixtureWith(t, []string{config.MailDelivered}, nil, func(o *Options) { o.OutboxInMemory = 10 })
	srv.Down()
	f.importCards("qb-10", "SP", 12)
	for i := range 12 {
		o := f.submitFor(fmt.Sprintf("SP-%d", i), "qb-10", 1, 1000, fmt.Sprintf("b%d@example.com", i))
		f.waitCallbacks(o.ID, CallbackDelivered)
		if n := f.engine.outbox.InMemory(); n > 12 {
			t.Fatalf("%d events in memory, over the caps of 10 and 2", n)
		}
	}
	testkit.Eventually(t, "mails waiting", func() bool { return f.storedMails() == 12 })
	if err := srv.Up(); err != nil {
		t.Fatal(err)
	}
	f.tickUntil("twelve mails", 2*time.Second, func() bool { return srv.Distinct() == 12 })
	f.waitOutboxEmpty()
	if srv.Received() != 12 {
		t.Errorf("%d mails for 12 orders", srv.Received())
	}
}

// TestAResolvedClaimIsMailedWithItsOutcomeAndNoKeys: a shop that mails
// claim.resolved only; one claim rejected with a note, one reissued. Each
// buyer gets one letter saying how the claim ended (the note too), and no
// key: a reissue's keys go out in a delivery letter, which this shop does
// not send.
func TestAResolvedClaimIsMailedWithItsOutcomeAndNoKeys(t *testing.T) {
	f, srv := mailFixture(t, []string{config.MailClaimResolved}, nil)
	f.importCards("qb-10", "CM", 4)
	alice := storage.Actor{Name: "alice", Platform: "test"}
	var orders []*storage.Order
	for i, action := range []string{ActionReject, ActionReissue} {
		o := f.submitFor(fmt.Sprintf("CM-%d", i), "qb-10", 1, 1000, "buyer@example.com")
		o = f.waitStatus(o.ID, storage.StatusDelivered)
		cl, _, err := f.engine.OpenClaim("shop", o.ID, ClaimRequest{Reason: "card_invalid", Message: "提示已使用"})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.engine.ResolveClaim(alice, cl.ID, action, "已核实可用"); err != nil {
			t.Fatalf("%s: %v", action, err)
		}
		testkit.Eventually(t, "the letter of the "+action, func() bool { return srv.Received() == i+1 })
		orders = append(orders, o)
	}
	f.waitStatus(orders[1].ID, storage.StatusDelivered)
	wants := [][]string{{"未获通过", "处理说明：已核实可用", "CM-0"}, {"补发新的卡密", "CM-1"}}
	for i, m := range srv.Mails() {
		p := parsed(t, m)
		if !strings.Contains(p.Subject, "售后已处理") {
			t.Errorf("letter %d: subject %q", i, p.Subject)
		}
		for _, part := range []string{p.Text, p.HTML} {
			for _, want := range wants[i] {
				if !strings.Contains(part, want) {
					t.Errorf("letter %d lacks %q:\n%s", i, want, part)
				}
			}
			if strings.Contains(part, "CM-0000") || strings.Contains(part, "pw") {
				t.Errorf("letter %d carries a key:\n%s", i, part)
			}
		}
	}
	f.waitOutboxEmpty()
	if n := srv.Received(); n != 2 {
		t.Errorf("%d letters, want one per claim", n)
	}
}
