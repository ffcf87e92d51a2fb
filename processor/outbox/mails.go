package outbox

import (
	"context"
	"fmt"
	"strings"

	"cardflow/alert"
	"cardflow/card"
	"cardflow/config"
	"cardflow/mail"
	"cardflow/storage"
)

// A buyer's mail is an outbox event of kind mail, written in the same write
// as the storefront callback of the same order event, so it is as durable
// as the callback and never lost across a restart. It waits in its own
// lane (one per order: mails of one order go out in order) and its own
// class of sends, so neither a slow mail server nor a backlog of mails
// holds an order's callbacks. The mail server failing (a 4xx, no answer,
// a refused login or certificate) keeps the mail for another try with the
// outbox's backoff and raises one mail_failing alert, resolved by the next
// mail that goes out; a 5xx to one mail gives that mail up with a
// mail_rejected alert naming the storefront and the reply (docs/mail.md).

// Mailer sends one letter: *mail.Sender.
type Mailer interface {
	Send(ctx context.Context, l mail.Letter) error
	Connections() int // how many letters go out at once
	Server() string   // host:port, named in alerts
}

// MailShop is what one storefront mails to its buyers, and how.
type MailShop struct {
	Events   []string // the order events mailed (config email_events)
	Name     string   // the shop's name in the mails
	Language string   // zh | en
}

// Mail is the deliverer of buyers' mails.
type Mail struct {
	Sender   Mailer
	Shops    map[string]MailShop // by storefront id
	Products map[string]string   // product names by SKU
	store    *storage.Store
}

// reasonReissue is the reason of an order delivered anew by a reissue
// (processor.ReasonReissue): its mail says the keys replace earlier ones.
const reasonReissue = "reissue"

// mailAlertKey is the one key of the mail server's trouble.
var mailAlertKey = string(alert.MailFailing) + ":smtp"

// Deliver writes the mail of one order event from the order as stored and
// sends it.
func (m *Mail) Deliver(ctx context.Context, ev *storage.Event) error {
	shop, ok := m.Shops[ev.Target]
	if !ok {
		return nil // the storefront no longer mails (config changed): nothing to send
	}
	o, cl, err := readOrder(m.store, ev)
	if err != nil {
		return err
	}
	if !mail.IsAddress(o.Buyer.Contact) {
		return nil // checked when queued; a restored backup may differ
	}
	product := m.Products[o.SKU]
	if product == "" {
		product = o.SKU
	}
	l := mail.Letter{Event: ev.Type, ID: ev.ID, Language: shop.Language, Shop: shop.Name, To: o.Buyer.Contact, At: ev.CreatedAt,
		OrderID: o.ID, ExternalID: o.ExternalID, Product: product, Quantity: o.Quantity, Reissue: ev.Reason == reasonReissue}
	if cl != nil {
		l.Claim = &mail.Claim{Status: string(cl.Status), Note: cl.Note}
	}
	var keys []card.Card
	if ev.Type == config.MailDelivered && !ev.DeliveredAt.IsZero() {
		if keys, err = m.store.Vault().OpenAll(o.SetOf(ev.CardSet)); err != nil {
			return fmt.Errorf("open cards: %w", err)
		}
		for _, c := range keys {
			l.Cards = append(l.Cards, mail.Card{Number: c.Number, Password: c.Password, ExpiresAt: c.ExpiresAt})
		}
	}
	err = m.Sender.Send(ctx, l)
	switch {
	case err == nil:
		return nil
	case mail.IsRejected(err):
		return &Refused{Err: err, Alert: storage.Alert{Key: fmt.Sprintf("%s:%d:%d", alert.MailRejected, o.ID, ev.Seq),
			Type: alert.MailRejected, OrderID: o.ID, Target: ev.Target, Detail: ev.Type + ": " + masked(err.Error(), keys)}}
	}
	return &Troubled{Err: err, Alert: storage.Alert{Key: mailAlertKey, Type: alert.MailFailing, OrderID: o.ID,
		Target: m.Sender.Server(), Detail: masked(err.Error(), keys)}}
}

// Recovered resolves the mail server's alert: a mail went out, or the
// server answered it for good.
func (m *Mail) Recovered() []storage.Alert {
	return []storage.Alert{{Key: mailAlertKey, Type: alert.MailFailing, Target: m.Sender.Server(), Resolved: true}}
}

// masked keeps a key out of an alert, should a server quote one back.
func masked(s string, keys []card.Card) string {
	for _, k := range keys {
		for _, v := range []string{k.Number, k.Password} {
			if len(v) >= 4 {
				s = strings.ReplaceAll(s, v, card.Mask(v))
			}
		}
	}
	return truncate(s, 200)
}
