package operator

import (
	"cardflow/bot/chat"
	"context"
	"strconv"
	"strings"
)

// findShown is how many orders /find lists.
const findShown = 10

// cmdFind is /find <buyer id|contact>: a buyer's newest orders, for the
// after-sale question "what did this buyer get". Viewers may ask.
func (h *Handler) cmdFind(_ context.Context, _ Operator, _ chat.Message, args []string) chat.Reply {
	if len(args) != 1 {
		return chat.Reply{Text: chat.T(h.lang, "usage", "/find <buyer id|contact>")}
	}
	who := undefang.Replace(args[0])
	res, err := h.engine.FindBuyerOrders(who, findShown)
	if err != nil {
		return h.errorReply(args[0], err)
	}
	if len(res.Orders) == 0 {
		text := chat.T(h.lang, "find_none", chat.Untrusted(who), res.Scanned)
		if res.Capped {
			text += chat.T(h.lang, "find_capped")
		}
		return chat.Reply{Text: text}
	}
	lines := []string{chat.T(h.lang, "find_header", chat.Untrusted(who), res.Matched, res.Scanned)}
	var buttons []chat.Button
	for _, o := range res.Orders {
		lines = append(lines, h.orderLine(o)+" · "+chat.Untrusted(o.Storefront).String()+":"+chat.Untrusted(o.ExternalID).String())
		buttons = append(buttons, chat.Button{Label: "#" + strconv.FormatUint(o.ID, 10), Data: orderButton(btnDetails, o.ID).encode()})
	}
	if more := res.Matched - len(res.Orders); more > 0 {
		lines = append(lines, chat.T(h.lang, "pending_more", more))
	}
	if res.Capped {
		lines = append(lines, strings.TrimSpace(chat.T(h.lang, "find_capped")))
	}
	return chat.Reply{Text: strings.Join(lines, "\n"), Buttons: buttons}
}
