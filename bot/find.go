package bot

import (
	"context"
	"strconv"
	"strings"
)

// findShown is how many orders /find lists.
const findShown = 10

// cmdFind is /find <buyer id|contact>: a buyer's newest orders, for the
// after-sale question "what did this buyer get". Viewers may ask.
func (b *Bot) cmdFind(_ context.Context, _ Operator, _ Identity, args []string) Reply {
	if len(args) != 1 {
		return Reply{Text: T(b.lang, "usage", "/find <buyer id|contact>")}
	}
	who := undefang.Replace(args[0])
	res, err := b.engine.FindBuyerOrders(who, findShown)
	if err != nil {
		return b.errorReply(args[0], err)
	}
	if len(res.Orders) == 0 {
		text := T(b.lang, "find_none", Untrusted(who), res.Scanned)
		if res.Capped {
			text += T(b.lang, "find_capped")
		}
		return Reply{Text: text}
	}
	lines := []string{T(b.lang, "find_header", Untrusted(who), res.Matched, res.Scanned)}
	var buttons []Button
	for _, o := range res.Orders {
		lines = append(lines, b.orderLine(o)+" · "+Untrusted(o.Storefront).String()+":"+Untrusted(o.ExternalID).String())
		buttons = append(buttons, Button{Label: "#" + strconv.FormatUint(o.ID, 10), Data: pressData(pressDetails, o.ID)})
	}
	if more := res.Matched - len(res.Orders); more > 0 {
		lines = append(lines, T(b.lang, "pending_more", more))
	}
	if res.Capped {
		lines = append(lines, strings.TrimSpace(T(b.lang, "find_capped")))
	}
	return Reply{Text: strings.Join(lines, "\n"), Buttons: buttons}
}
