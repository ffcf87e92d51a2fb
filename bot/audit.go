package bot

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"cardflow/storage"
)

// auditShown is how many entries /audit shows unless asked.
const auditShown = 10

// cmdAudit is /audit [n]: the newest entries of the audit log (admins).
func (b *Bot) cmdAudit(_ context.Context, _ Operator, _ Identity, args []string) Reply {
	n := auditShown
	if len(args) == 1 {
		v, err := strconv.Atoi(args[0])
		if err != nil || v < 1 || v > 50 {
			return Reply{Text: T(b.lang, "usage", "/audit [1-50]")}
		}
		n = v
	}
	entries, err := b.engine.AuditLog(n)
	if err != nil {
		return b.errorReply("", err)
	}
	if len(entries) == 0 {
		return Reply{Text: T(b.lang, "audit_empty")}
	}
	lines := []string{T(b.lang, "audit_header", len(entries))}
	for _, e := range entries {
		lines = append(lines, auditLine(b, e))
	}
	return Reply{Text: strings.Join(lines, "\n")}
}

func auditLine(b *Bot, e storage.AuditEntry) string {
	line := fmt.Sprintf("%s %s@%s %s", b.clock(e.At), e.Actor.Name, e.Actor.Platform, e.Action)
	if e.Target != "" {
		line += " " + e.Target
	}
	line += " → " + e.Outcome
	if e.Detail != "" {
		line += " (" + e.Detail + ")"
	}
	return line
}
