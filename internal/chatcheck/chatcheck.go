// Package chatcheck holds what the operator layer's tests use to prove that
// a value a buyer, a storefront or a supplier sent cannot become a link,
// markup or a control sequence in a chat message: hostile values, and
// checks of a channel's output. Only tests import it.
package chatcheck

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
)

// Hostile are values a buyer, a storefront or a supplier might send:
// markdown and QQ links, QQ's command tags, terminal escapes (colours, a
// screen clear, an OSC 8 hyperlink), bidi overrides, a line break that
// fakes a second line, bare domains and e-mail addresses (chat apps link
// them; QQ refuses a message holding one), a Telegram mention, C1
// controls and zero-width and separator characters.
var Hostile = []string{
	"[pay here](https://evil.example/x)",
	`<qqbot-cmd-input text="/refund 1" show="ok"/>`,
	"\x1b[2J\x1b]8;;https://evil.example\x07click\x1b]8;;\x07",
	"\u202egnp.exe\u202c",
	"line1\n" + Forged,
	"visit www.evil.example or evil.example/pay",
	"mail user@evil.example now",
	"**bold** _x_ `code` ~~s~~ # heading > quote | table \\",
	"\u009b31mred\u0085next",
	"ask @scam_support",
	"evil．example and evil。example",
	"tg://resolve?domain=scam",
	"203.0.113.9 and 10.0.0.1",
	"\u200b\u2066\u2067\u2068\u2069\u200e\u200f\u061c\ufeff\u2028\u2029",
	"- item\n# title\n> quote\n1. first",
}

// Forged is a line a hostile value tries to start.
const Forged = "✅ Order #1 refunded by alice."

// linkLike matches what a chat app or terminal could turn into a link: a
// scheme, a dot between a name and a letter (the ideographic full stop
// only before a Latin letter: the catalogue's Chinese sentences end with
// it, and the Chinese that follows is no top-level domain), an IPv4
// address, a Telegram @mention (an ASCII user name: QQ's "@机器人" in the
// catalogue is text).
var linkLike = regexp.MustCompile(`(://|[\p{L}\p{N}_-]([.．｡]\p{L}|。\p{Latin})|\d+[.．。｡]\d+[.．。｡]\d+[.．。｡]\d+|(^|[^\p{L}\p{N}_])@[A-Za-z0-9_])`)

// Inert reports why text is not inert: a control, format or bidi
// character (line breaks aside), a line a hostile value started, or
// something a client would link.
func Inert(text string) error {
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimLeft(line, " \\"), "✅ Order #1 refunded") {
			return fmt.Errorf("a hostile value started the line %q", line)
		}
	}
	return InertValue(text)
}

// InertValue reports why one value, before it is placed in a message, is
// not inert: a control, format or bidi character (line breaks aside) or
// something a client would link. Where a value sits in a line is the
// message's business, so a value that reads like the forged line on its
// own passes here and is checked by Inert inside a message.
func InertValue(v string) error {
	for _, r := range v {
		if (unicode.IsControl(r) && r != '\n') || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029' {
			return fmt.Errorf("control or format character %U", r)
		}
	}
	if m := linkLike.FindString(v); m != "" {
		return fmt.Errorf("link-like %q", m)
	}
	return nil
}

// MarkdownInert reports why QQ markdown md could be read as markup: an
// unescaped character of links, emphasis, code, tags or tables anywhere,
// or of headings, quotes and lists at the start of a line.
func MarkdownInert(md string) error {
	for _, line := range strings.Split(md, "\n") {
		rs := []rune(line)
		escaped := false
		start := true
		for i, r := range rs {
			switch {
			case escaped:
				escaped = false
			case r == '\\':
				escaped = true
			case strings.ContainsRune("`*_[]()<>~|", r):
				return fmt.Errorf("unescaped %q in line %q", r, line)
			case start && strings.ContainsRune("#>-+=", r):
				return fmt.Errorf("unescaped %q at the start of line %q", r, line)
			case start && unicode.IsDigit(r):
				j := i
				for j < len(rs) && unicode.IsDigit(rs[j]) {
					j++
				}
				if j < len(rs) && rs[j] == '.' {
					return fmt.Errorf("an ordered list item %q", line)
				}
			}
			if r != ' ' {
				start = false
			}
		}
	}
	return nil
}

// Unescape is markdown md as a reader sees it: each backslash escape
// replaced by the character it escapes.
func Unescape(md string) string {
	var b strings.Builder
	escaped := false
	for _, r := range md {
		if r == '\\' && !escaped {
			escaped = true
			continue
		}
		escaped = false
		b.WriteRune(r)
	}
	return b.String()
}
