package mail_test

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"cardflow/config"
	"cardflow/mail"
	"cardflow/mail/smtpfake"
)

// serve starts a fake mail server and a Sender for it.
func serve(t *testing.T, security string, login bool, trust bool, tweak func(*config.Email, *mail.Options)) (*smtpfake.Server, *mail.Sender) {
	t.Helper()
	opts := smtpfake.Options{Security: security}
	var pool *x509.CertPool
	if security != smtpfake.None {
		cfg, p, err := smtpfake.SelfSigned()
		if err != nil {
			t.Fatal(err)
		}
		opts.TLS, pool = cfg, p
	}
	if login {
		opts.Username, opts.Password = "noreply@shop.example.com", "right-password"
	}
	srv, err := smtpfake.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	e := config.Email{Host: srv.Host(), Port: srv.Port(), Security: security, From: "某某商城 <noreply@shop.example.com>"}
	if login {
		e.Username, e.Password = opts.Username, config.Secret(opts.Password)
	}
	mo := mail.Options{Timeout: 5 * time.Second, Log: zerolog.New(zerolog.NewTestWriter(t))}
	if trust {
		mo.RootCAs = pool
	}
	if tweak != nil {
		tweak(&e, &mo)
	}
	s, err := mail.New(e, mo)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return srv, s
}

func delivery(id string) mail.Letter {
	return mail.Letter{Event: config.MailDelivered, ID: id, Language: "zh", Shop: "某某商城", To: "buyer@example.com",
		At: time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC), OrderID: 12, ExternalID: "T20261125-0001", Product: "Q币 100元", Quantity: 2,
		Cards: []mail.Card{{Number: "CARD-NUMBER-0001-LONG-ENOUGH-TO-WRAP-A-QUOTED-PRINTABLE-LINE-FOR-SURE", Password: "PW-0001"},
			{Number: "CARD-NUMBER-0002", Password: "PW-0002", ExpiresAt: "2027-12-31"}}}
}

func parse(t *testing.T, m smtpfake.Mail) smtpfake.Parsed {
	t.Helper()
	p, err := m.Parse()
	if err != nil {
		t.Fatalf("parse mail: %v\n%s", err, m.Data)
	}
	return p
}

func TestADeliveryMailCarriesTheKeysInItsTextAndHTMLParts(t *testing.T) {
	srv, s := serve(t, smtpfake.None, false, false, nil)
	if err := s.Send(context.Background(), delivery("ev_7_abc")); err != nil {
		t.Fatal(err)
	}
	mails := srv.Mails()
	if len(mails) != 1 {
		t.Fatalf("%d mails arrived", len(mails))
	}
	m := mails[0]
	if m.From != "noreply@shop.example.com" || len(m.To) != 1 || m.To[0] != "buyer@example.com" {
		t.Errorf("envelope from %q to %v", m.From, m.To)
	}
	p := parse(t, m)
	if p.From != `"某某商城" <noreply@shop.example.com>` && p.From != "某某商城 <noreply@shop.example.com>" {
		t.Errorf("From = %q, want the shop's name", p.From)
	}
	if p.Subject != "【某某商城】订单 T20261125-0001 已发货" {
		t.Errorf("subject = %q", p.Subject)
	}
	if p.MessageID != "<ev_7_abc@shop.example.com>" {
		t.Errorf("Message-ID = %q, want one made of the event id", p.MessageID)
	}
	if got := p.Header.Get("Auto-Submitted"); got != "auto-generated" {
		t.Errorf("Auto-Submitted = %q", got)
	}
	for _, part := range []struct{ name, body string }{{"text", p.Text}, {"HTML", p.HTML}} {
		for _, want := range []string{"CARD-NUMBER-0001-LONG-ENOUGH-TO-WRAP-A-QUOTED-PRINTABLE-LINE-FOR-SURE", "PW-0001",
			"CARD-NUMBER-0002", "PW-0002", "2027-12-31", "T20261125-0001", "Q币 100元", "× 2", "#12", "某某商城"} {
			if !strings.Contains(part.body, want) {
				t.Errorf("%s part lacks %q:\n%s", part.name, want, part.body)
			}
		}
	}
}

// TestLettersOtherThanADeliveryCarryNoKeys renders each event in each
// language, with keys handed in by mistake.
func TestLettersOtherThanADeliveryCarryNoKeys(t *testing.T) {
	_, s := serve(t, smtpfake.None, false, false, nil)
	for _, ev := range []string{config.MailDelayed, config.MailRefunded} {
		for _, lang := range []string{"zh", "en"} {
			l := delivery("ev_1")
			l.Event, l.Language = ev, lang
			r, err := s.Render(l)
			if err != nil {
				t.Fatalf("%s %s: %v", ev, lang, err)
			}
			all := r.Subject + r.Text + r.HTML
			if strings.Contains(all, "CARD-NUMBER") || strings.Contains(all, "PW-0001") {
				t.Errorf("%s %s letter shows a key:\n%s", ev, lang, all)
			}
			if !strings.Contains(r.Text, "T20261125-0001") || !strings.Contains(r.HTML, "Q币 100元") || !strings.Contains(r.Subject, "某某商城") {
				t.Errorf("%s %s letter lacks the order, product or shop:\n%s\n%s", ev, lang, r.Subject, r.Text)
			}
		}
	}
}

func TestLettersAreWrittenInTheStorefrontsLanguage(t *testing.T) {
	_, s := serve(t, smtpfake.None, false, false, nil)
	l := delivery("ev_1")
	l.Language = "en"
	r, err := s.Render(l)
	if err != nil {
		t.Fatal(err)
	}
	if r.Subject != "[某某商城] Your order T20261125-0001 is delivered" || !strings.Contains(r.Text, "Number: CARD-NUMBER-0002") {
		t.Errorf("English letter:\n%s\n%s", r.Subject, r.Text)
	}
	l.Reissue = true
	if r, _ = s.Render(l); !strings.Contains(r.Subject, "New keys") || !strings.Contains(r.Text, "earlier ones no longer count") {
		t.Errorf("reissue letter:\n%s\n%s", r.Subject, r.Text)
	}
}

// TestHTMLEscapesWhatTheShopAndTheSupplierWrote puts markup in the shop's
// name, the product, the order number and a key.
func TestHTMLEscapesWhatTheShopAndTheSupplierWrote(t *testing.T) {
	_, s := serve(t, smtpfake.None, false, false, nil)
	l := delivery("ev_1")
	l.Shop, l.Product, l.ExternalID = `<b>Shop</b>`, `<img src=x onerror=alert(1)>`, `"><script>`
	l.Cards[0].Number = `<script>alert(1)</script>`
	r, err := s.Render(l)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"<b>Shop", "<img", "<script>"} {
		if strings.Contains(r.HTML, bad) {
			t.Errorf("HTML carries %q unescaped:\n%s", bad, r.HTML)
		}
	}
	if !strings.Contains(r.HTML, "&lt;script&gt;alert(1)&lt;/script&gt;") || !strings.Contains(r.Text, "<script>alert(1)</script>") {
		t.Errorf("the key is not shown as written:\n%s\n%s", r.HTML, r.Text)
	}
}

func TestStartTLSWithALoginDeliversToAServerTheTestTrusts(t *testing.T) {
	srv, s := serve(t, smtpfake.StartTLS, true, true, nil)
	if err := s.Send(context.Background(), delivery("ev_1")); err != nil {
		t.Fatal(err)
	}
	if srv.Received() != 1 || srv.Logins() != 1 {
		t.Errorf("received %d after %d logins", srv.Received(), srv.Logins())
	}
}

func TestImplicitTLSWithALoginDelivers(t *testing.T) {
	srv, s := serve(t, smtpfake.TLS, true, true, nil)
	if err := s.Send(context.Background(), delivery("ev_1")); err != nil {
		t.Fatal(err)
	}
	if srv.Received() != 1 || srv.Logins() != 1 {
		t.Errorf("received %d after %d logins", srv.Received(), srv.Logins())
	}
}

// TestACertificateNotTrustedIsRetriedNotRejected: the same servers without
// their root: the operator's to fix, so the letter waits.
func TestACertificateNotTrustedIsRetriedNotRejected(t *testing.T) {
	for _, security := range []string{smtpfake.StartTLS, smtpfake.TLS} {
		srv, s := serve(t, security, false, false, nil)
		err := s.Send(context.Background(), delivery("ev_1"))
		if err == nil || mail.IsRejected(err) || !strings.Contains(err.Error(), "certificate") {
			t.Errorf("%s with an untrusted certificate: %v, want a certificate error worth retrying", security, err)
		}
		if srv.Received() != 0 {
			t.Errorf("%s: mail arrived over an untrusted connection", security)
		}
	}
}

// TestBadCredentialsAreRetriedNotRejected: a 535 is the operator's config,
// not the buyer's fault: the letter is kept for another try, and the error
// names the reply without the password.
func TestBadCredentialsAreRetriedNotRejected(t *testing.T) {
	srv, s := serve(t, smtpfake.StartTLS, true, true, func(e *config.Email, _ *mail.Options) { e.Password = "wrong-password" })
	err := s.Send(context.Background(), delivery("ev_1"))
	if err == nil || mail.IsRejected(err) || !strings.Contains(err.Error(), "535") {
		t.Fatalf("bad login: %v, want a 535 worth retrying", err)
	}
	if strings.Contains(err.Error(), "wrong-password") {
		t.Errorf("the error shows the password: %v", err)
	}
	if srv.Received() != 0 {
		t.Errorf("mail arrived without a login")
	}
}

func TestATemporaryRefusalIsWorthAnotherTryAndTheNextTryDelivers(t *testing.T) {
	srv, s := serve(t, smtpfake.None, false, false, nil)
	srv.Refuse(451, 1)
	err := s.Send(context.Background(), delivery("ev_1"))
	if err == nil || mail.IsRejected(err) || !strings.Contains(err.Error(), "451") {
		t.Fatalf("451: %v, want an error worth retrying", err)
	}
	if err := s.Send(context.Background(), delivery("ev_1")); err != nil {
		t.Fatal(err)
	}
	if srv.Received() != 1 || srv.Sessions() != 1 {
		t.Errorf("received %d over %d connections, want 1 over 1", srv.Received(), srv.Sessions())
	}
}

func TestAPermanentRefusalRejectsTheLetter(t *testing.T) {
	srv, s := serve(t, smtpfake.None, false, false, nil)
	srv.Refuse(550, 1)
	err := s.Send(context.Background(), delivery("ev_1"))
	var rej *mail.RejectedError
	if !errors.As(err, &rej) || rej.Code != 550 || !strings.Contains(rej.Text, "550") {
		t.Fatalf("550: %v, want a rejection with its code", err)
	}
	if strings.Contains(err.Error(), "CARD-NUMBER") {
		t.Errorf("the rejection shows a key: %v", err)
	}
	// The connection stays usable for the next letter.
	if err := s.Send(context.Background(), delivery("ev_2")); err != nil {
		t.Fatal(err)
	}
	if srv.Sessions() != 1 {
		t.Errorf("%d connections, want the first one reused", srv.Sessions())
	}
}

func TestAContactThatIsNoMailAddressIsRejectedBeforeSending(t *testing.T) {
	srv, s := serve(t, smtpfake.None, false, false, nil)
	l := delivery("ev_1")
	l.To = "13800138000"
	if err := s.Send(context.Background(), l); !mail.IsRejected(err) {
		t.Errorf("send to a phone number: %v, want a rejection", err)
	}
	if srv.Sessions() != 0 {
		t.Errorf("dialled the server for a letter that cannot go out")
	}
}

// TestABurstGoesOutOverAFewReusedConnections sends 200 letters at once
// through a pool of 3.
func TestABurstGoesOutOverAFewReusedConnections(t *testing.T) {
	srv, s := serve(t, smtpfake.None, false, false, func(_ *config.Email, o *mail.Options) { o.Connections = 3 })
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for i := range 200 {
		wg.Go(func() { errs <- s.Send(context.Background(), delivery(fmt.Sprintf("ev_%d", i))) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if srv.Distinct() != 200 || srv.Sessions() > 3 {
		t.Errorf("%d distinct mails over %d connections, want 200 over at most 3", srv.Distinct(), srv.Sessions())
	}
}

// TestAConnectionTheServerDroppedIsDialledAgain: the server goes down and
// comes back between two letters; the pooled connection is dead, and the
// second letter still goes out at once.
func TestAConnectionTheServerDroppedIsDialledAgain(t *testing.T) {
	srv, s := serve(t, smtpfake.None, false, false, nil)
	if err := s.Send(context.Background(), delivery("ev_1")); err != nil {
		t.Fatal(err)
	}
	srv.Down()
	if err := s.Send(context.Background(), delivery("ev_2")); err == nil || mail.IsRejected(err) {
		t.Fatalf("send to a server that is down: %v, want an error worth retrying", err)
	}
	if err := srv.Up(); err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), delivery("ev_3")); err != nil {
		t.Fatalf("send after the server came back: %v", err)
	}
	if srv.Distinct() != 2 {
		t.Errorf("%d mails, want 2", srv.Distinct())
	}
}

// TestIsAddressTakesOnlyABareAddress tries the contacts buyers leave.
func TestIsAddressTakesOnlyABareAddress(t *testing.T) {
	for contact, want := range map[string]bool{
		"a@example.com": true, "first.last+tag@mail.example.cn": true, "用户@例子.中国": true,
		"": false, "13800138000": false, "qq:12345": false, "a@b": false, "Alice <a@example.com>": false,
		"a@example.com, b@example.com": false, "a@example.com\r\nBcc: x@evil.example": false, "a @example.com": false,
		"@example.com": false, "a@": false, "\"a\"@example.com": false,
	} {
		if got := mail.IsAddress(contact); got != want {
			t.Errorf("IsAddress(%q) = %v, want %v", contact, got, want)
		}
	}
}
