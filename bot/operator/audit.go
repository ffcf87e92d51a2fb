package operator

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"cardflow/bot/chat"
	"cardflow/storage"
)

// auditShown is how many entries /audit shows unless asked.
const auditShown = 10

// cmdAudit is /audit [n]: the newest entries of the audit log (admins).
func (h *Handler) cmdAudit(_ context.Context, _ Operator, _ chat.Message, args []string) chat.Reply {
	n := auditShown
	if len(args) == 1 {
		v, err := strconv.Atoi(args[0])
		if err != nil || v < 1 || v > 50 {
			return chat.Reply{Text: chat.T(h.lang, "usage", "/audit [1-50]")}
		}
		n = v
	}
	entries, err := h.engine.AuditLog(n)
	if err != nil {
		return h.errorReply("", err)
	}
	if len(entries) == 0 {
		return chat.Reply{Text: chat.T(h.lang, "audit_empty")}
	}
	lines := []string{chat.T(h.lang, "audit_header", len(entries))}
	for _, e := range entries {
		lines = append(lines, auditLine(h, e))
	}
	return chat.Reply{Text: strings.Join(lines, "\n")}
}

// auditLine shows one entry. Names, commands and reasons in it may have
// been typed by anyone (a stranger's command, an operator's reason, the
// admin API's claimed actor): all are Untrusted.
func auditLine(h *Handler, e storage.AuditEntry) string {
	line := fmt.Sprintf("%s %s@%s %s", h.clock(e.At), chat.Untrusted(e.Actor.Name), chat.Untrusted(e.Actor.Platform), chat.Untrusted(e.Action))
	if e.Target != "" {
		line += " " + chat.Untrusted(e.Target).String()
	}
	line += " → " + chat.Untrusted(e.Outcome).String()
	if e.Detail != "" {
		line += " (" + chat.Untrusted(e.Detail).String() + ")"
	}
	return line
}
