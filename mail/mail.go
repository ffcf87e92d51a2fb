// Package mail writes and sends the mails cardflow sends to buyers: a
// letter (an order event, the shop's name, the order, and for a delivery
// its keys) rendered in Chinese or English as plain text with an HTML
// alternative, and sent over a small pool of reused SMTP connections.
// What to mail and when is the outbox's (processor/outbox): this package
// only writes and sends one letter, and says whether a failure is worth
// another try (docs/mail.md).
package mail

import (
	"errors"
	"net/mail"
	"strings"
	"time"
)

// Letter is one mail to a buyer.
type Letter struct {
	// Event is the order event mailed (config.MailDelivered, ...).
	Event string
	// ID names the letter for good: the outbox event's id. The mail's
	// Message-ID is made from it, so every try of one letter carries the
	// same Message-ID and a mailbox can tell a repeat.
	ID       string
	Language string // zh | en
	Shop     string // the storefront's name
	To       string // the buyer's address
	At       time.Time

	OrderID    uint64 // cardflow's number, given as a reference
	ExternalID string // the shop's order number, which the buyer knows
	Product    string
	Quantity   int
	// Reissue marks keys that replace earlier ones.
	Reissue bool
	// Cards are the keys delivered; only an order.delivered letter has
	// them.
	Cards []Card
	// Claim is the after-sale claim a claim.resolved letter answers.
	Claim *Claim
}

// Claim is how an after-sale claim ended, as its buyer is told: the
// status (reissued, refunded or rejected) and the operator's note. A
// reissue's keys go out in their own delivery letter, never in this one.
type Claim struct {
	Status, Note string
}

// Card is one card key in full, as the buyer is to use it.
type Card struct {
	Number, Password, ExpiresAt string
}

// RejectedError is a refusal of one letter for good: the server answered
// its recipient or content with a permanent (5xx) reply, so sending it
// again would be refused again. Any other error of Send is worth another
// try (a 4xx, the server unreachable, a login refused: the operator can
// fix those).
type RejectedError struct {
	Code int    // the SMTP reply code, 0 for an address refused before sending
	Text string // what the server said; never a key
}

func (e *RejectedError) Error() string { return "mail refused: " + e.Text }

// IsRejected reports whether err refuses a letter for good.
func IsRejected(err error) bool {
	var r *RejectedError
	return errors.As(err, &r)
}

// IsAddress reports whether contact is a bare mail address, the only form
// of a buyer contact that is mailed: "a@example.com", not a name with an
// address, a phone number or a QQ number.
func IsAddress(contact string) bool {
	if contact == "" || len(contact) > 254 || strings.ContainsAny(contact, " \t\r\n<>\"") {
		return false
	}
	a, err := mail.ParseAddress(contact)
	if err != nil || a.Address != contact || a.Name != "" {
		return false
	}
	at := strings.LastIndexByte(contact, '@')
	return at > 0 && strings.Contains(contact[at+1:], ".")
}
