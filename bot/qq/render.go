package qq

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/tencent-connect/botgo/dto"
	"github.com/tencent-connect/botgo/dto/keyboard"

	ops "cardflow/bot"
)

// Rendering levels: what the platform lets this bot send.
const (
	levelButtons  = 0 // markdown with a keyboard of callback buttons
	levelMarkdown = 1 // markdown, the buttons written as commands to type
	levelText     = 2 // plain text, the same
)

const buttonsPerRow = 2

// render turns a reply into a QQ message at a level. Buttons that cannot
// be sent become lines such as "批准 → @机器人 /approve 12".
func render(r ops.Reply, level int, lang string) *dto.MessageToCreate {
	text := r.Text
	if r.Photo != nil {
		// Charts need QQ's rich-media upload, which this channel does not
		// do; the figures are in the text.
		text += "\n" + ops.T(lang, "qq_no_chart")
	}
	if level >= levelMarkdown && len(r.Buttons) > 0 {
		lines := make([]string, 0, len(r.Buttons))
		for _, b := range r.Buttons {
			if b.Data == NextBatch {
				lines = append(lines, fmt.Sprintf("%s → /inbox", b.Label))
				continue
			}
			if cmd := ops.ButtonCommand(b.Data); cmd != "" {
				lines = append(lines, fmt.Sprintf("%s → %s", b.Label, cmd))
			}
		}
		if len(lines) > 0 {
			text += "\n" + ops.T(lang, "qq_type_commands") + "\n" + strings.Join(lines, "\n")
		}
	}
	if level == levelText {
		return &dto.MessageToCreate{MsgType: dto.TextMsg, Content: text}
	}
	m := &dto.MessageToCreate{MsgType: dto.MarkdownMsg, Markdown: &dto.Markdown{Content: text}}
	if level == levelButtons && len(r.Buttons) > 0 {
		m.Keyboard = &keyboard.MessageKeyboard{Content: &keyboard.CustomKeyboard{Rows: rows(r.Buttons)}}
	}
	return m
}

func rows(buttons []ops.Button) []*keyboard.Row {
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
