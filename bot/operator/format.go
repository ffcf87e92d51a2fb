package operator

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"cardflow/bot/chat"
	"cardflow/card"
	"cardflow/storage"
)

// formatOrder renders an order for a phone: id first, ¥ amount, short lines,
// card keys masked to their last four characters. Everything the buyer,
// the storefront or a supplier sent is Untrusted.
func (h *Handler) formatOrder(o *storage.Order) string {
	lines := []string{
		chat.T(h.lang, "order_title", o.ID, chat.Untrusted(o.SKU), o.Quantity, o.Amount),
		chat.T(h.lang, "order_status", chat.StatusName(h.lang, string(o.Status))),
	}
	if o.Reason != "" {
		lines = append(lines, chat.T(h.lang, "order_reason", chat.Untrusted(o.Reason)))
	}
	lines = append(lines, chat.T(h.lang, "order_external", chat.Untrusted(o.ExternalID), chat.Untrusted(o.Storefront)))
	if buyer := nonEmpty(o.Buyer.ID, o.Buyer.Contact); len(buyer) > 0 {
		shown := make([]string, len(buyer))
		for i, v := range buyer {
			shown[i] = chat.Untrusted(v).String()
		}
		lines = append(lines, chat.T(h.lang, "order_buyer", strings.Join(shown, " · ")))
	}
	if o.Account != "" {
		lines = append(lines, chat.T(h.lang, "order_account", chat.Untrusted(o.Account)))
	}
	if masked := h.maskedCards(o.Cards); masked != "" {
		lines = append(lines, chat.T(h.lang, "order_cards", masked))
	}
	lines = append(lines, chat.T(h.lang, "order_created", h.clock(o.CreatedAt)))
	if !o.DeliveredAt.IsZero() {
		lines = append(lines, chat.T(h.lang, "order_delivered", h.clock(o.DeliveredAt)))
	}
	lines = append(lines, chat.T(h.lang, "order_history"))
	start := max(0, len(o.History)-5)
	for _, step := range o.History[start:] {
		line := fmt.Sprintf("  %s %s", h.clock(step.At), chat.StatusName(h.lang, string(step.To)))
		if step.Reason != "" {
			line += " · " + chat.Untrusted(step.Reason).String()
		}
		if step.Actor.Platform != "system" {
			line += " · " + chat.Untrusted(step.Actor.Name).String()
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n")
}

// orderLine is a one-line summary for lists.
func (h *Handler) orderLine(o *storage.Order) string {
	line := fmt.Sprintf("#%d %s ×%d ¥%s %s", o.ID, chat.Untrusted(o.SKU), o.Quantity, o.Amount, chat.StatusName(h.lang, string(o.Status)))
	if o.Reason != "" {
		line += " · " + chat.Untrusted(o.Reason).String()
	}
	return line
}

// orderButtons are the actions that fit the order's state.
func (h *Handler) orderButtons(o *storage.Order) []chat.Button {
	switch o.Status {
	case storage.StatusReview:
		return []chat.Button{
			{Label: chat.T(h.lang, "btn_approve"), Data: orderButton(btnApprove, o.ID).encode()},
			{Label: chat.T(h.lang, "btn_refund"), Data: refundButtonFrom(o.ID, storage.StatusReview).encode()},
		}
	case storage.StatusFailed:
		return []chat.Button{
			{Label: chat.T(h.lang, "btn_retry"), Data: orderButton(btnRetry, o.ID).encode()},
			{Label: chat.T(h.lang, "btn_refund"), Data: refundButtonFrom(o.ID, storage.StatusFailed).encode()},
		}
	}
	return nil
}

// maskedCards shows the last four characters of each card number (a
// supplier's: untrusted).
func (h *Handler) maskedCards(sealed []storage.SealedCard) string {
	if len(sealed) == 0 {
		return ""
	}
	cards, err := h.engine.Vault().OpenAll(sealed)
	if err != nil {
		return strconv.Itoa(len(sealed)) + " × ****"
	}
	masked := make([]string, len(cards))
	for i, c := range cards {
		masked[i] = chat.Untrusted(card.Mask(c.Number)).String()
	}
	return strings.Join(masked, ", ")
}

// clock shows a time in the shop's zone, without the year.
func (h *Handler) clock(t time.Time) string { return t.In(h.loc).Format("01-02 15:04:05") }

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}
