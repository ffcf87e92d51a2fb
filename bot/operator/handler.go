// Package operator is the platform-neutral operator layer: it turns
// operators' commands and button presses into engine calls, checks who may
// do what, and renders orders and alerts as short phone-readable messages in
// Chinese or English. Chat adapters (bot/console, bot/telegram, bot/qq)
// translate their platform's updates into chat.Message and chat.Press, and
// chat.Reply back; bot/pager delivers the alerts it renders.
package operator

import (
	"context"
	"errors"
	"io"
	"strings"
	"time"

	"cardflow/bot/chat"
	"cardflow/internal/money"
	"cardflow/processor/health"
	"cardflow/report/daily"

	"github.com/rs/zerolog"

	"cardflow/config"
	"cardflow/processor"
	"cardflow/storage"
)

// Role is what an operator may do.
type Role int

// Roles, from least to most.
const (
	RoleViewer Role = iota + 1
	RoleOperator
	RoleAdmin
)

func (r Role) String() string {
	switch r {
	case RoleViewer:
		return "viewer"
	case RoleOperator:
		return "operator"
	case RoleAdmin:
		return "admin"
	}
	return "none"
}

// Operator is an identity the shop trusts.
type Operator struct {
	Name string
	Role Role
}

// Authorizer says which operator, if any, an identity is.
type Authorizer interface {
	Operator(chat.Identity) (Operator, bool)
}

// Orders is the order engine as the operator layer uses it: lookups, the
// operator actions, stock, pauses and the audit log.
type Orders interface {
	Order(id uint64) (*storage.Order, error)
	ResolveOrder(ref string) (*storage.Order, error)
	FindBuyerOrders(who string, limit int) (processor.BuyerOrders, error)
	OpenOrders(s storage.Status, limit int) ([]*storage.Order, int, error)
	Approve(actor storage.Actor, id uint64) (*storage.Order, error)
	Retry(actor storage.Actor, id uint64) (*storage.Order, error)
	Refund(actor storage.Actor, id uint64, note string) (*storage.Order, error)
	RefundFrom(actor storage.Actor, id uint64, note string, from ...storage.Status) (*storage.Order, error)
	Reissue(actor storage.Actor, id uint64) (*storage.Order, error)
	RefundDelivered(actor storage.Actor, id uint64, note string, transitions int) (*storage.Order, error)
	ReissueDelivered(actor storage.Actor, id uint64, transitions int) (*storage.Order, error)
	StockLevels() (map[string]int, error)
	Balances() ([]processor.Balance, error)
	AdjustBalance(actor storage.Actor, storefront string, amount money.Amount, reason string) (money.Amount, error)
	Product(sku string) (config.Product, bool)
	Waiting(sku string) int
	BatchClaims(sku string) ([]storage.BatchClaims, error)
	Vault() *storage.Vault
	ImportStock(actor storage.Actor, sku string, r io.Reader) (processor.ImportResult, error)
	Audit(storage.AuditEntry) error
	AuditLog(n int) ([]storage.AuditEntry, error)
	Pause(actor storage.Actor, name string) error
	Resume(actor storage.Actor, name string) error
	Suppliers() ([]processor.SupplierState, error)
	Scorecards() []health.Scorecard
	ClaimByID(id uint64) (*storage.Claim, error)
	ClaimsOf(orderID uint64) ([]*storage.Claim, error)
	Claims(status storage.ClaimStatus, limit int) ([]*storage.Claim, int, error)
	ResolveClaim(actor storage.Actor, claimID uint64, action, note string) (*storage.Claim, *storage.Order, error)
}

// Bindings issues and uses bind codes (bind.Bindings).
type Bindings interface {
	Issue(actor storage.Actor, operator string) (string, time.Time, error)
	Bind(actor storage.Actor, identity, code string) (string, error)
	Unbind(actor storage.Actor, operator string) (int, error)
}

// Silences mutes alerts (silence.Silencer).
type Silences interface {
	Silence(actor storage.Actor, key string, d time.Duration) (time.Time, error)
}

// Options configure the operator layer.
type Options struct {
	Orders      Orders
	Reports     daily.Reports
	Bindings    Bindings
	Silences    Silences
	Rules       RuleBook // nil: no rule commands
	Auth        Authorizer
	Language    string
	RefundLimit int64 // fen; operators above it need an admin
	Location    *time.Location
	Log         zerolog.Logger
	Now         func() time.Time // the clock of reports; time.Now when nil
	// Roster is every configured operator's role, by name: who /bind may
	// issue codes for.
	Roster map[string]Role
}

// Handler is the operator layer.
type Handler struct {
	engine      Orders
	report      *daily.Writer
	bindings    Bindings
	silences    Silences
	rules       RuleBook
	auth        Authorizer
	lang        string
	refundLimit int64
	loc         *time.Location
	log         zerolog.Logger
	now         func() time.Time
	roster      map[string]Role
	strangers   *strangerGate
	confirms    *confirmations
	commands    commandTable
}

// New builds the operator layer.
func New(opts Options) *Handler {
	if opts.Location == nil {
		opts.Location = chat.Shanghai()
	}
	if opts.Auth == nil {
		opts.Auth = AnyOf{} // nobody is an operator
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	var (
		stock daily.Stock
		shops daily.Shops
	)
	if opts.Orders != nil {
		stock, shops = opts.Orders, opts.Orders
	}
	report := daily.New(daily.Options{Reports: opts.Reports, Stock: stock, Shops: shops, Language: opts.Language, Location: opts.Location,
		Log: opts.Log})
	return &Handler{engine: opts.Orders, report: report, bindings: opts.Bindings, silences: opts.Silences,
		rules: opts.Rules, auth: opts.Auth, lang: opts.Language, refundLimit: opts.RefundLimit,
		loc: opts.Location, log: opts.Log.With().Str("component", "bot").Logger(), now: opts.Now,
		roster: opts.Roster, strangers: newStrangerGate(), confirms: newConfirmations(),
		commands: newCommandTable()}
}

// Lang is the language replies are written in.
func (h *Handler) Lang() string { return h.lang }

// Handle answers one message. Texts that are not commands get no reply,
// and neither does a stranger refused again within the minute (see
// strangerGate).
func (h *Handler) Handle(ctx context.Context, m chat.Message) (chat.Reply, bool) {
	name, args, ok := ParseCommand(m.Text)
	if !ok {
		return chat.Reply{}, false
	}
	r := h.run(ctx, m, name, args)
	if r.Text == "" {
		return chat.Reply{}, false
	}
	return chat.Clean(r), true
}

// ParseCommand splits "/refund@cardflow_bot 12 buyer asked" into "refund"
// and its arguments. Leading @mentions (QQ) are skipped.
func ParseCommand(text string) (string, []string, bool) {
	fields := strings.Fields(text)
	for len(fields) > 0 && strings.HasPrefix(fields[0], "@") {
		fields = fields[1:]
	}
	if len(fields) == 0 || !strings.HasPrefix(fields[0], "/") {
		return "", nil, false
	}
	name, _, _ := strings.Cut(fields[0][1:], "@")
	if name == "" {
		return "", nil, false
	}
	return strings.ToLower(name), fields[1:], true
}

// actor is how an operator appears in the order history and audit log.
func actor(op Operator, id chat.Identity) storage.Actor {
	return storage.Actor{Name: op.Name, Platform: id.Platform}
}

// errorReply turns an engine error into an operator-facing answer.
func (h *Handler) errorReply(ref string, err error) chat.Reply {
	var st *processor.StateError
	switch {
	case errors.As(err, &st):
		return chat.Reply{Text: h.already(st)}
	case errors.Is(err, storage.ErrNotFound):
		return chat.Reply{Text: chat.T(h.lang, "not_found", chat.Untrusted(ref))}
	}
	h.log.Error().Err(err).Str("ref", ref).Msg("operator command failed")
	return chat.Reply{Text: chat.T(h.lang, "internal")}
}

// already says what happened before a stale press: "已由 alice 于 03:12 批准".
func (h *Handler) already(st *processor.StateError) string {
	verb := chat.ActionName(h.lang, processor.ActionOf(st.Last))
	who := st.Last.Actor.Name
	if who == "" {
		who = "system"
	}
	return chat.T(h.lang, "already", st.Order.ID, chat.StatusName(h.lang, string(st.Order.Status)), chat.Untrusted(who),
		st.Last.At.In(h.loc).Format("01-02 15:04"), verb)
}
