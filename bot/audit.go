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

// auditLine shows one entry. Names, commands and reasons in it may have
// been typed by anyone (a stranger's command, an operator's reason, the
// admin API's claimed actor): all are Untrusted.
func auditLine(b *Bot, e storage.AuditEntry) string {
	line := fmt.Sprintf("%s %s@%s %s", b.clock(e.At), Untrusted(e.Actor.Name), Untrusted(e.Actor.Platform), Untrusted(e.Action))
	if e.Target != "" {
		line += " " + Untrusted(e.Target).String()
	}
	line += " → " + Untrusted(e.Outcome).String()
	if e.Detail != "" {
		line += " (" + Untrusted(e.Detail).String() + ")"
	}
	return line
}
