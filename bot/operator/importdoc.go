package operator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"cardflow/bot/chat"
	"cardflow/processor"
	"cardflow/storage"
)

// HandleImport imports a card-key file an operator sent with the caption
// "/import <sku>" (a Telegram document). It reports false when the caption
// is not an import. Importing stock is for admins.
func (h *Handler) HandleImport(ctx context.Context, from chat.Identity, caption string, body io.Reader) (chat.Reply, bool) {
	r, ok := h.handleImport(ctx, from, caption, body)
	if !ok || r.Text == "" {
		return chat.Reply{}, false
	}
	return chat.Clean(r), true
}

func (h *Handler) handleImport(_ context.Context, from chat.Identity, caption string, body io.Reader) (chat.Reply, bool) {
	name, args, ok := ParseCommand(caption)
	if !ok || name != "import" {
		return chat.Reply{}, false
	}
	op, r, ok := h.gate(from, RoleAdmin, "/import", "/import")
	if !ok {
		return r, true
	}
	if len(args) != 1 {
		return chat.Reply{Text: chat.T(h.lang, "usage", "/import <sku>（作为文件说明）")}, true
	}
	sku := args[0]
	res, err := h.engine.ImportStock(storage.Actor{Name: op.Name, Platform: from.Platform}, sku, body)
	switch {
	case errors.Is(err, storage.ErrNotFound), errors.Is(err, processor.ErrNotStocked):
		return chat.Reply{Text: chat.T(h.lang, "stock_unknown", chat.Untrusted(sku))}, true
	case errors.Is(err, processor.ErrImportRead):
		return chat.Reply{Text: chat.T(h.lang, "import_broken", res.Added)}, true
	case err != nil:
		return h.errorReply(sku, err), true
	}
	text := chat.T(h.lang, "import_done", chat.Untrusted(sku), res.Added, res.Duplicates, res.Invalid)
	if res.Added > 0 {
		text += chat.T(h.lang, "import_batch", res.Batch) // a claim on own stock names it (/stock)
	}
	var bad []string
	for _, le := range res.Errors[:min(len(res.Errors), 5)] {
		bad = append(bad, fmt.Sprintf("  %d: %s", le.Line, chat.Untrusted(le.Why)))
	}
	if len(bad) > 0 {
		text += "\n" + strings.Join(bad, "\n")
	}
	return chat.Reply{Text: text}, true
}
