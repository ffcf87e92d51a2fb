package bot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"cardflow/processor"
	"cardflow/storage"
)

// HandleImport imports a card-key file an operator sent with the caption
// "/import <sku>" (a Telegram document). It reports false when the caption
// is not an import. Importing stock is for admins.
func (b *Bot) HandleImport(ctx context.Context, from Identity, caption string, body io.Reader) (Reply, bool) {
	r, ok := b.handleImport(ctx, from, caption, body)
	if !ok || r.Text == "" {
		return Reply{}, false
	}
	return Clean(r), true
}

func (b *Bot) handleImport(_ context.Context, from Identity, caption string, body io.Reader) (Reply, bool) {
	name, args, ok := ParseCommand(caption)
	if !ok || name != "import" {
		return Reply{}, false
	}
	op, ok := b.auth.Operator(from)
	if !ok {
		return b.strangerReply(from, "/import"), true
	}
	if op.Role < RoleAdmin {
		b.refuse(from, op, "/import")
		return Reply{Text: T(b.lang, "not_allowed", op.Role, "/import")}, true
	}
	if len(args) != 1 {
		return Reply{Text: T(b.lang, "usage", "/import <sku>（作为文件说明）")}, true
	}
	sku := args[0]
	res, err := b.engine.ImportStock(storage.Actor{Name: op.Name, Platform: from.Platform}, sku, body)
	switch {
	case errors.Is(err, storage.ErrNotFound), errors.Is(err, processor.ErrNotStocked):
		return Reply{Text: T(b.lang, "stock_unknown", Untrusted(sku))}, true
	case errors.Is(err, processor.ErrImportRead):
		return Reply{Text: T(b.lang, "import_broken", res.Added)}, true
	case err != nil:
		return b.errorReply(sku, err), true
	}
	text := T(b.lang, "import_done", Untrusted(sku), res.Added, res.Duplicates, res.Invalid)
	var bad []string
	for _, le := range res.Errors[:min(len(res.Errors), 5)] {
		bad = append(bad, fmt.Sprintf("  %d: %s", le.Line, Untrusted(le.Why)))
	}
	if len(bad) > 0 {
		text += "\n" + strings.Join(bad, "\n")
	}
	return Reply{Text: text}, true
}
