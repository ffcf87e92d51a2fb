package bot

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"cardflow/card"
	"cardflow/storage"
)

// formatOrder renders an order for a phone: id first, ¥ amount, short lines,
// card keys masked to their last four characters. Everything the buyer,
// the storefront or a supplier sent is Untrusted.
func (b *Bot) formatOrder(o *storage.Order) string {
	lines := []string{
		T(b.lang, "order_title", o.ID, Untrusted(o.SKU), o.Quantity, o.Amount),
		T(b.lang, "order_status", StatusName(b.lang, string(o.Status))),
	}
	if o.Reason != "" {
		lines = append(lines, T(b.lang, "order_reason", Untrusted(o.Reason)))
	}
	lines = append(lines, T(b.lang, "order_external", Untrusted(o.ExternalID), Untrusted(o.Storefront)))
	if buyer := nonEmpty(o.Buyer.ID, o.Buyer.Contact); len(buyer) > 0 {
		shown := make([]string, len(buyer))
		for i, v := range buyer {
			shown[i] = Untrusted(v).String()
		}
		lines = append(lines, T(b.lang, "order_buyer", strings.Join(shown, " · ")))
	}
	if o.Account != "" {
		lines = append(lines, T(b.lang, "order_account", Untrusted(o.Account)))
	}
	if masked := b.maskedCards(o.Cards); masked != "" {
		lines = append(lines, T(b.lang, "order_cards", masked))
	}
	lines = append(lines, T(b.lang, "order_created", b.clock(o.CreatedAt)))
	if !o.DeliveredAt.IsZero() {
		lines = append(lines, T(b.lang, "order_delivered", b.clock(o.DeliveredAt)))
	}
	lines = append(lines, T(b.lang, "order_history"))
	start := max(0, len(o.History)-5)
	for _, h := range o.History[start:] {
		line := fmt.Sprintf("  %s %s", b.clock(h.At), StatusName(b.lang, string(h.To)))
		if h.Reason != "" {
			line += " · " + Untrusted(h.Reason).String()
		}
		if h.Actor.Platform != "system" {
			line += " · " + Untrusted(h.Actor.Name).String()
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n")
}

// orderLine is a one-line summary for lists.
func (b *Bot) orderLine(o *storage.Order) string {
	line := fmt.Sprintf("#%d %s ×%d ¥%s %s", o.ID, Untrusted(o.SKU), o.Quantity, o.Amount, StatusName(b.lang, string(o.Status)))
	if o.Reason != "" {
		line += " · " + Untrusted(o.Reason).String()
	}
	return line
}

// orderButtons are the actions that fit the order's state.
func (b *Bot) orderButtons(o *storage.Order) []Button {
	switch o.Status {
	case storage.StatusReview:
		return []Button{
			{T(b.lang, "btn_approve"), pressData(pressApprove, o.ID)},
			{T(b.lang, "btn_refund"), refundData(o.ID, storage.StatusReview)},
		}
	case storage.StatusFailed:
		return []Button{
			{T(b.lang, "btn_retry"), pressData(pressRetry, o.ID)},
			{T(b.lang, "btn_refund"), refundData(o.ID, storage.StatusFailed)},
		}
	}
	return nil
}

// maskedCards shows the last four characters of each card number (a
// supplier's: untrusted).
func (b *Bot) maskedCards(sealed []storage.SealedCard) string {
	if len(sealed) == 0 {
		return ""
	}
	cards, err := b.engine.Vault().OpenAll(sealed)
	if err != nil {
		return strconv.Itoa(len(sealed)) + " × ****"
	}
	masked := make([]string, len(cards))
	for i, c := range cards {
		masked[i] = Untrusted(card.Mask(c.Number)).String()
	}
	return strings.Join(masked, ", ")
}

// clock shows a time in the shop's zone, without the year.
func (b *Bot) clock(t time.Time) string { return t.In(b.loc).Format("01-02 15:04:05") }

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}
