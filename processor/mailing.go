package processor

import (
	"cardflow/mail"
	"cardflow/processor/outbox"
	"cardflow/storage"
)

// mailing is which order events each storefront mails to its buyers
// (config email_events), read once at start.
type mailing map[string]map[string]bool

func mailingOf(m *outbox.Mail) mailing {
	if m == nil {
		return nil
	}
	out := mailing{}
	for id, shop := range m.Shops {
		for _, ev := range shop.Events {
			if out[id] == nil {
				out[id] = map[string]bool{}
			}
			out[id][ev] = true
		}
	}
	return out
}

// mails reports whether an order event is mailed: its storefront mails
// this event, and the buyer's contact is a mail address.
func (m mailing) mails(o *storage.Order, typ string) bool {
	return m[o.Storefront][typ] && mail.IsAddress(o.Buyer.Contact)
}
