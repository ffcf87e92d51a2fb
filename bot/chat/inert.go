package chat

import (
	"strings"
	"unicode"
)

// Untrusted is text that a buyer, a storefront or a supplier controls —
// buyer ids and contacts, top-up accounts, external ids, card numbers,
// supplier errors, order reasons — or that someone typed as free text (a
// refund reason, a command a stranger sent). Formatted with %s or %v it
// prints inert on every channel:
//
//   - no control, format or bidi character (a terminal escape, an OSC 8
//     hyperlink, a right-to-left override, a zero-width joiner);
//   - no line break, so a value cannot fake a line of its own;
//   - nothing a chat app turns into a link: "://" becomes "[:]//", a dot
//     between a name and a letter (evil.com, www.x, a@b.cn) becomes "[.]",
//     as do the dots of an IPv4 address, and a leading "@name" (a Telegram
//     mention) becomes "[@]name". QQ also refuses a whole message holding a
//     domain it does not know, which would stall the chat queue;
//   - at most maxUntrusted characters.
//
// A reference typed back as shown ("shop1:T1[.]ab") still names its order:
// the order resolver undoes the defanging.
//
// Markup is the channel's business: QQ's markdown escapes the whole text
// it sends (bot/qq), Telegram and the console send plain text. Every
// reply also passes Clean on its way out, which drops control and format
// characters wherever they came from.
type Untrusted string

// maxUntrusted bounds one value in a message (a supplier's error page must
// not fill a phone screen).
const maxUntrusted = 200

// String implements fmt.Stringer: the inert form.
func (u Untrusted) String() string { return inert(string(u)) }

func inert(s string) string {
	rs := make([]rune, 0, len(s))
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r' || r == '\t' || r == '\v' || r == '\f' || r == '\u0085' || r == '\u2028' || r == '\u2029':
			rs = append(rs, ' ')
		case dropped(r):
		default:
			rs = append(rs, r)
		}
	}
	cut := false
	if len(rs) > maxUntrusted {
		rs, cut = rs[:maxUntrusted], true
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case r == ':' && i+2 < len(rs) && rs[i+1] == '/' && rs[i+2] == '/':
			b.WriteString("[:]")
		case isDot(r) && i > 0 && i+1 < len(rs) && isLabel(rs[i-1]) && (unicode.IsLetter(rs[i+1]) || dottedQuad(rs, i)):
			b.WriteString("[.]")
		case r == '@' && (i == 0 || !isWord(rs[i-1])) && i+1 < len(rs) && isWord(rs[i+1]):
			b.WriteString("[@]")
		default:
			b.WriteRune(r)
		}
	}
	if cut {
		b.WriteRune('…')
	}
	return b.String()
}

// dropped are runes no operator needs to see and a hostile value could use:
// control characters (C0, C1: terminal escapes) and format characters
// (bidi overrides and isolates, zero-width characters, the BOM).
func dropped(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }

// isDot is a full stop as link detectors read one, full-width and
// ideographic ones included.
func isDot(r rune) bool { return r == '.' || r == '．' || r == '。' || r == '｡' }

// isLabel is a rune of a domain label.
func isLabel(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_' }

func isWord(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' }

// dottedQuad reports whether the dot at i is inside a run of digits and
// dots with at least three dots (an IPv4 address), not a decimal number.
func dottedQuad(rs []rune, i int) bool {
	start, end := i, i
	for start > 0 && (unicode.IsDigit(rs[start-1]) || isDot(rs[start-1])) {
		start--
	}
	for end+1 < len(rs) && (unicode.IsDigit(rs[end+1]) || isDot(rs[end+1])) {
		end++
	}
	dots := 0
	for _, r := range rs[start : end+1] {
		if isDot(r) {
			dots++
		}
	}
	return dots >= 3 && unicode.IsDigit(rs[i+1])
}

// Clean drops control and format characters (line breaks aside) from a
// reply's text and button labels, wherever they came from: the last step
// before a reply leaves the operator layer.
func Clean(r Reply) Reply {
	r.Text = cleanText(r.Text)
	if len(r.Buttons) > 0 {
		bs := make([]Button, len(r.Buttons))
		for i, b := range r.Buttons {
			bs[i] = Button{Label: cleanText(b.Label), Data: b.Data}
		}
		r.Buttons = bs
	}
	return r
}

func cleanText(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return r != '\n' && dropped(r) || r == '\u2028' || r == '\u2029' }) {
		return s
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n':
			return r
		case r == '\u2028' || r == '\u2029':
			return ' '
		case dropped(r):
			return -1
		}
		return r
	}, s)
}

// Hidden reports whether s holds a control or format character: nothing
// the service writes does, so data holding one was forged (button data
// comes from the client and can be anything).
func Hidden(s string) bool { return strings.ContainsFunc(s, dropped) }
