package qq

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/tencent-connect/botgo/dto"
	"github.com/tencent-connect/botgo/dto/keyboard"

	"cardflow/bot/chat"
	"cardflow/bot/operator"
)

// Rendering levels: what the platform lets this bot send.
const (
	levelButtons  = 0 // markdown with a keyboard of callback buttons
	levelMarkdown = 1 // markdown, the buttons written as commands to type
	levelText     = 2 // plain text, the same
)

const buttonsPerRow = 2

// render turns a reply into a QQ message at a level. Buttons that cannot
// be sent become lines such as "批准 → /approve #12". Markdown is escaped
// whole: cardflow sends no markup, so nothing in a message — least of all
// a buyer's or a supplier's text, which the operator layer has already
// made inert (no control characters, no links) — can become a link, a
// tag such as <qqbot-cmd-input>, emphasis, a heading or a list.
func render(r chat.Reply, level int, lang string) *dto.MessageToCreate {
	text := r.Text
	if r.Photo != nil {
		// Charts need QQ's rich-media upload, which this channel does not
		// do; the figures are in the text.
		text += "\n" + chat.T(lang, "qq_no_chart")
	}
	if level >= levelMarkdown && len(r.Buttons) > 0 {
		lines := make([]string, 0, len(r.Buttons))
		for _, b := range r.Buttons {
			if b.Data == NextBatch {
				lines = append(lines, fmt.Sprintf("%s → /inbox", b.Label))
				continue
			}
			if cmd := operator.ButtonCommand(b.Data); cmd != "" {
				lines = append(lines, fmt.Sprintf("%s → %s", b.Label, cmd))
			}
		}
		if len(lines) > 0 {
			text += "\n" + chat.T(lang, "qq_type_commands") + "\n" + strings.Join(lines, "\n")
		}
	}
	text = chat.Clean(chat.Reply{Text: text}).Text // messages queued by an older version were not cleaned
	if level == levelText {
		return &dto.MessageToCreate{MsgType: dto.TextMsg, Content: text}
	}
	m := &dto.MessageToCreate{MsgType: dto.MarkdownMsg, Markdown: &dto.Markdown{Content: escapeMarkdown(text)}}
	if level == levelButtons && len(r.Buttons) > 0 {
		m.Keyboard = &keyboard.MessageKeyboard{Content: &keyboard.CustomKeyboard{Rows: rows(r.Buttons)}}
	}
	return m
}

// markdownSpecial are the characters QQ's markdown could read as markup
// anywhere in a line: links and images, emphasis and strike-through,
// code, tags (QQ's own <qqbot-cmd-input> among them), tables, and the
// escape itself.
const markdownSpecial = "\\`*_[]()<>~|"

// lineStartSpecial start headings, lists and rules at the start of a line
// (a quote's ">" is escaped everywhere).
const lineStartSpecial = "#-+="

// escapeMarkdown backslash-escapes what markdown could read as markup, so
// that the text shows as written.
func escapeMarkdown(s string) string {
	var b strings.Builder
	b.Grow(len(s) + len(s)/8)
	for i, line := range strings.Split(s, "\n") {
		if i > 0 {
			b.WriteByte('\n')
		}
		rest := strings.TrimLeft(line, " ")
		b.WriteString(line[:len(line)-len(rest)])
		if rest != "" && strings.IndexByte(lineStartSpecial, rest[0]) >= 0 {
			b.WriteByte('\\')
		}
		if n := listNumber(rest); n > 0 { // "1. first" is a list item
			b.WriteString(rest[:n])
			b.WriteString("\\.")
			rest = rest[n+1:]
		}
		for _, r := range rest {
			if strings.ContainsRune(markdownSpecial, r) {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

// listNumber is the length in bytes of the digits of s when a dot follows
// them. Any Unicode decimal digit counts: CommonMark only takes ASCII ones,
// but QQ's renderer is not known to be CommonMark (found by
// FuzzEscapeMarkdown with "߀.").
func listNumber(s string) int {
	i := 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !unicode.IsDigit(r) {
			break
		}
		i += size
	}
	if i > 0 && i < len(s) && s[i] == '.' {
		return i
	}
	return 0
}

func rows(buttons []chat.Button) []*keyboard.Row {
	var out []*keyboard.Row
	for i, b := range buttons {
		if i%buttonsPerRow == 0 {
			out = append(out, &keyboard.Row{})
		}
		row := out[len(out)-1]
		row.Buttons = append(row.Buttons, &keyboard.Button{
			ID:         strconv.Itoa(i + 1),
			RenderData: &keyboard.RenderData{Label: b.Label, VisitedLabel: b.Label, Style: 1},
			Action: &keyboard.Action{Type: keyboard.ActionTypeCallback, Data: b.Data,
				// Everyone may press; the operator layer decides who may act.
				Permission: &keyboard.Permission{Type: keyboard.PermissionTypAll}},
		})
	}
	return out
}
