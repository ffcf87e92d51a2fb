package operator

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"cardflow/alert"
	"cardflow/processor/health"

	"cardflow/bot/bind"
	"cardflow/bot/chat"
	"cardflow/bot/silence"
	"cardflow/config"
	"cardflow/internal/money"
	"cardflow/processor"
	"cardflow/report"
	"cardflow/rules"
	"cardflow/storage"
)

// The fuzzed operator layer runs over a recording engine that knows one
// order, #12 (external id T-12, in review, 100.00 yuan), one supplier and
// one SKU. Every call that changes something is logged as one line; reads
// are not.

const (
	fuzzOrderID  = 12
	fuzzExternal = "T-12"
)

type recordingEngine struct{ actions []string }

func (e *recordingEngine) log(format string, args ...any) {
	e.actions = append(e.actions, fmt.Sprintf(format, args...))
}

func (e *recordingEngine) order() *storage.Order {
	return &storage.Order{ID: fuzzOrderID, ExternalID: fuzzExternal, Storefront: "shop", SKU: "qb-100", Kind: config.KindCard,
		Quantity: 1, Amount: money.Amount(10000), Status: storage.StatusReview, Reason: "rule:large-order",
		CreatedAt: time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC), UpdatedAt: time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)}
}

// ResolveOrder knows #12, shop:T-12 and the bare 12 and T-12.
func (e *recordingEngine) ResolveOrder(ref string) (*storage.Order, error) {
	if fuzzRef(ref) {
		return e.order(), nil
	}
	return nil, storage.ErrNotFound
}

func fuzzRef(ref string) bool {
	switch ref {
	case "#" + strconv.Itoa(fuzzOrderID), strconv.Itoa(fuzzOrderID), fuzzExternal, "shop:" + fuzzExternal:
		return true
	}
	return false
}

func (e *recordingEngine) FindBuyerOrders(who string, limit int) (processor.BuyerOrders, error) {
	if fuzzRef(who) {
		return processor.BuyerOrders{Orders: []*storage.Order{e.order()}, Matched: 1, Scanned: 1}, nil
	}
	return processor.BuyerOrders{Scanned: 1}, nil
}

func (e *recordingEngine) Order(id uint64) (*storage.Order, error) {
	if id != fuzzOrderID {
		return nil, storage.ErrNotFound
	}
	return e.order(), nil
}

func (e *recordingEngine) RefundDelivered(_ storage.Actor, id uint64, note string, _ int) (*storage.Order, error) {
	return e.act("refund delivered "+strconv.Quote(note), id)
}

func (e *recordingEngine) ReissueDelivered(_ storage.Actor, id uint64, _ int) (*storage.Order, error) {
	return e.act("reissue delivered", id)
}

func (e *recordingEngine) Unbind(actor storage.Actor, operator string) (int, error) {
	e.log("unbind %q by %s", operator, actor.Name)
	return 0, nil
}

func (e *recordingEngine) OpenOrders(s storage.Status, _ int) ([]*storage.Order, int, error) {
	if s == storage.StatusReview {
		return []*storage.Order{e.order()}, 1, nil
	}
	return nil, 0, nil
}

// ClaimByID knows claim 3, on order #12.
func (e *recordingEngine) ClaimByID(id uint64) (*storage.Claim, error) {
	if id != 3 {
		return nil, storage.ErrNotFound
	}
	return &storage.Claim{ID: 3, OrderID: fuzzOrderID, Status: storage.ClaimOpen}, nil
}

// ClaimsOf knows claim 3 of order #12, open.
func (e *recordingEngine) ClaimsOf(id uint64) ([]*storage.Claim, error) {
	if id != fuzzOrderID {
		return nil, nil
	}
	cl, _ := e.ClaimByID(3)
	return []*storage.Claim{cl}, nil
}

func (e *recordingEngine) Claims(s storage.ClaimStatus, _ int) ([]*storage.Claim, int, error) {
	if s != storage.ClaimOpen {
		return nil, 0, nil
	}
	cl, _ := e.ClaimByID(3)
	return []*storage.Claim{cl}, 1, nil
}

func (e *recordingEngine) ResolveClaim(_ storage.Actor, id uint64, action, note string) (*storage.Claim, *storage.Order, error) {
	cl, err := e.ClaimByID(id)
	if err != nil {
		return nil, nil, err
	}
	o, err := e.act("claim "+action+" "+strconv.Quote(note), cl.OrderID)
	return cl, o, err
}

func (e *recordingEngine) act(what string, id uint64) (*storage.Order, error) {
	if id != fuzzOrderID {
		return nil, storage.ErrNotFound
	}
	e.log("%s %d", what, id)
	return e.order(), nil
}

func (e *recordingEngine) Approve(_ storage.Actor, id uint64) (*storage.Order, error) {
	return e.act("approve", id)
}

func (e *recordingEngine) Retry(_ storage.Actor, id uint64) (*storage.Order, error) {
	return e.act("retry", id)
}

func (e *recordingEngine) Refund(_ storage.Actor, id uint64, note string) (*storage.Order, error) {
	return e.act("refund "+strconv.Quote(note), id)
}

func (e *recordingEngine) RefundFrom(_ storage.Actor, id uint64, note string, from ...storage.Status) (*storage.Order, error) {
	return e.act(fmt.Sprintf("refund %q from %v", note, from), id)
}

func (e *recordingEngine) Reissue(_ storage.Actor, id uint64) (*storage.Order, error) {
	return e.act("reissue", id)
}

func (e *recordingEngine) StockLevels() (map[string]int, error) {
	return map[string]int{"qb-100": 3}, nil
}

func (e *recordingEngine) Balances() ([]processor.Balance, error) {
	return []processor.Balance{{Storefront: "cardflow-dj1", Balance: 1000, CreditLimit: 0}}, nil
}

func (e *recordingEngine) AdjustBalance(_ storage.Actor, shop string, amount money.Amount, reason string) (money.Amount, error) {
	e.log("credit %s %s %q", shop, amount, reason)
	return 1000 + amount, nil
}

func (e *recordingEngine) Product(sku string) (config.Product, bool) {
	return config.Product{SKU: sku, Name: "Q币 100元", LowStock: 5}, sku == "qb-100"
}

func (e *recordingEngine) Waiting(string) int { return 0 }
func (e *recordingEngine) BatchClaims(string) ([]storage.BatchClaims, error) {
	return nil, nil
}
func (e *recordingEngine) Vault() *storage.Vault          { return nil }
func (e *recordingEngine) Audit(storage.AuditEntry) error { return nil }

func (e *recordingEngine) ImportStock(_ storage.Actor, sku string, _ io.Reader) (processor.ImportResult, error) {
	e.log("import %q", sku)
	return processor.ImportResult{}, nil
}

func (e *recordingEngine) AuditLog(int) ([]storage.AuditEntry, error) { return nil, nil }

func (e *recordingEngine) Silence(_ storage.Actor, pattern string, d time.Duration) (time.Time, error) {
	e.log("silence %q %s", pattern, d)
	return time.Date(2026, 11, 25, 4, 0, 0, 0, time.UTC), nil
}

func (e *recordingEngine) Pause(_ storage.Actor, name string) error  { return e.pause("pause", name) }
func (e *recordingEngine) Resume(_ storage.Actor, name string) error { return e.pause("resume", name) }

func (e *recordingEngine) pause(what, name string) error {
	if name != "fulu" && name != "qb-100" {
		return processor.ErrUnknownTarget
	}
	e.log("%s %q", what, name)
	return nil
}

func (e *recordingEngine) Suppliers() ([]processor.SupplierState, error) {
	return []processor.SupplierState{{Name: "fulu", Type: "fulu", Breaker: "closed"}}, nil
}

func (e *recordingEngine) Scorecards() []health.Scorecard {
	return []health.Scorecard{{Supplier: "fulu", SupplierFigures: report.SupplierFigures{Succeeded: 9, Failed: 1}, Score: 0.9}}
}

func (e *recordingEngine) Figures(from, to time.Time, loc *time.Location) (*report.Figures, error) {
	e.log("figures %s %s", from.In(loc).Format(time.RFC3339), to.In(loc).Format(time.RFC3339))
	return &report.Figures{From: from, To: to, Orders: 3, Paid: 30000, Delivered: 2, FailReasons: map[string]int{},
		RuleHits: map[string]int{}, Suppliers: map[string]*report.SupplierFigures{}, Cohort: map[storage.Status]money.Amount{}}, nil
}

func (e *recordingEngine) Issue(actor storage.Actor, operator string) (string, time.Time, error) {
	e.log("issue bind code for %s by %s", operator, actor.Name)
	return "ABCD2345", time.Date(2026, 11, 25, 3, 15, 0, 0, time.UTC), nil
}

func (e *recordingEngine) Bind(actor storage.Actor, identity, code string) (string, error) {
	e.log("bind %s with %s", identity, code)
	if code != "ABCD2345" {
		return "", bind.ErrBadCode
	}
	return "alice", nil
}

func (e *recordingEngine) Reconcile(f *report.Figures, alert bool) (*report.Reconciliation, error) {
	e.log("reconcile alert=%v", alert)
	return &report.Reconciliation{Paid: f.Paid}, nil
}

// recordingRules is the rule book, logging into the same engine.
type recordingRules struct{ e *recordingEngine }

func (r recordingRules) List() ([]rules.Status, error) {
	return []rules.Status{{Rule: rules.Rule{Name: "large-order", When: "order.amount > 500", Action: "review"}}}, nil
}

func (r recordingRules) Test(string) (rules.TestResult, error) {
	return rules.TestResult{Orders: 3}, nil
}

func (r recordingRules) Set(_ storage.Actor, name, action, when string) error {
	r.e.log("rule set %q %q %q", name, action, when)
	return nil
}

func (r recordingRules) Off(_ storage.Actor, name string) error {
	r.e.log("rule off %q", name)
	return nil
}

// fuzzIdentities are who speaks, by a fuzzed byte: a stranger and one
// operator of each role.
var fuzzIdentities = []chat.Identity{strangerID, viewerID, aliceID, adminID}

// fuzzBot is a fresh operator layer over a fresh recording engine.
func fuzzBot(lang string) (*Handler, *recordingEngine) {
	e := &recordingEngine{}
	return New(Options{Orders: e, Reports: e, Bindings: e, Silences: e, Rules: recordingRules{e}, Auth: operators, Language: lang, RefundLimit: 50000}), e
}

// FuzzCommand types arbitrary text as a stranger, a viewer, an operator or
// an admin. Properties: no panic; ParseCommand gives a lowercase name and
// arguments without white space, and parses its own canonical form the
// same; Handle is deterministic; a text that is not a command gets no
// reply; every command gets a reply; and the engine is changed exactly
// when the command grammar and the speaker's role call for it, with the
// arguments as typed.
func FuzzCommand(f *testing.F) {
	for _, text := range []string{
		"/approve 12", "/approve #12", "/approve T-12", "/approve shop:T-12", "/approve #T-12", "/approve 13", "/approve", "/approve 12 13",
		"/refund 12 buyer asked", "/refund@cardflow_bot 12 买家 申请退款", "@bot /retry 12", "/reissue 12",
		"/pause fulu", "/resume qb-100", "/pause nope", "/silence supplier_down:fulu 1h", "/silence low_stock 169h",
		"/silence x -1s", "/silence r 168h", "/silence review:12 1h", "/bind alice", "/unbind alice", "/confirm ABC234", "/rules set big refund order.amount > 100", "/rules off big", "/rules test order.quantity > 3",
		"/claims", "/reject 12 已核实可用", "/reject #12", "/reject 13 no", "/claim 3 reject", "/claim 3 reject 已核实", "/claim #3 refund",
		"/claim 3 reissue 换卡", "/claim 03 refund", "/claim 0 refund",
		"/rules", "/order 12", "/pending", "/stock", "/suppliers", "/audit 5", "/help", "/start", "/REFUND\u300012",
		"/退款 12", "/", "order 12", "", "/import qb-100",
	} {
		f.Add(text, byte(3), false)
	}
	f.Add("/approve 12", byte(0), true)
	f.Add("/refund 12", byte(1), true)
	f.Add("/pause fulu", byte(2), false)

	f.Fuzz(func(t *testing.T, text string, who byte, english bool) {
		name, args, ok := ParseCommand(text)
		if ok {
			if name == "" || name != strings.ToLower(name) || strings.ContainsFunc(name, unicode.IsSpace) || strings.Contains(name, "@") {
				t.Fatalf("ParseCommand(%q) name %q", text, name)
			}
			for _, a := range args {
				if a == "" || strings.ContainsFunc(a, unicode.IsSpace) {
					t.Fatalf("ParseCommand(%q) argument %q", text, a)
				}
			}
			canonical := strings.Join(append([]string{"/" + name}, args...), " ")
			if n2, a2, ok2 := ParseCommand(canonical); !ok2 || n2 != name || !slices.Equal(a2, args) {
				t.Fatalf("ParseCommand(%q) = %q %q, but its canonical form %q parses as %q %q %v", text, name, args, canonical, n2, a2, ok2)
			}
		}

		lang := chat.LangZH
		if english {
			lang = chat.LangEN
		}
		id := fuzzIdentities[int(who)%len(fuzzIdentities)]
		b1, e1 := fuzzBot(lang)
		r1, replied := b1.Handle(context.Background(), chat.Message{From: id, Text: text})
		b2, e2 := fuzzBot(lang)
		r2, replied2 := b2.Handle(context.Background(), chat.Message{From: id, Text: text})
		if replied != replied2 || r1.Text != r2.Text || !slices.Equal(e1.actions, e2.actions) {
			t.Fatalf("Handle(%q) is not deterministic: %q %v then %q %v", text, r1.Text, e1.actions, r2.Text, e2.actions)
		}
		if replied != ok {
			t.Fatalf("Handle(%q) replied=%v, but ParseCommand ok=%v", text, replied, ok)
		}
		if ok && strings.TrimSpace(r1.Text) == "" {
			t.Fatalf("Handle(%q) gave an empty reply", text)
		}
		var want []string
		if ok {
			want = expectedActions(name, args, operators[id.Platform+"/"+id.UserID].Role)
		}
		if !slices.Equal(e1.actions, want) {
			t.Fatalf("%s typed %q: engine got %q, want %q (reply %q)", id.Name, text, e1.actions, want, r1.Text)
		}
		cmd, known := b1.commands.find(name)
		if known = known && !cmd.channel; ok && !known && role(id) > 0 && r1.Text != chat.Clean(chat.Reply{Text: chat.T(lang, "unknown_command", chat.Untrusted("/"+name))}).Text {
			t.Fatalf("unknown command %q answered %q", name, r1.Text)
		}
	})
}

// claimRef is the claim id a typed /claim names, as "3", "#3" or "03".
func claimRef(arg string) uint64 {
	n, _ := strconv.ParseUint(strings.TrimPrefix(arg, "#"), 10, 64)
	return n
}

func role(id chat.Identity) Role { return operators[id.Platform+"/"+id.UserID].Role }

// expectedActions is the command grammar: what the engine must be
// asked to do when someone of role r (0: not an operator) types the
// command name with args.
func expectedActions(name string, args []string, r Role) []string {
	order := fuzzRef
	switch {
	case r >= RoleOperator && (name == "approve" || name == "retry") && len(args) == 1 && order(args[0]):
		return []string{fmt.Sprintf("%s %d", name, fuzzOrderID)}
	case r >= RoleAdmin && name == "reissue" && len(args) == 1 && order(args[0]):
		return []string{fmt.Sprintf("reissue %d", fuzzOrderID)}
	case r >= RoleOperator && name == "refund" && len(args) >= 1 && order(args[0]):
		// 100.00 yuan is under the 500.00 refund limit.
		return []string{fmt.Sprintf("refund %q %d", strings.Join(args[1:], " "), fuzzOrderID)}
	case r >= RoleOperator && name == "reject" && len(args) >= 2 && order(args[0]):
		return []string{fmt.Sprintf("claim reject %q %d", strings.Join(args[1:], " "), fuzzOrderID)}
	case name == "claim" && len(args) >= 2 && claimRef(args[0]) == 3:
		// Claim 3 is of order #12 (100.00 yuan, under the refund limit); a
		// reissue is an admin's, a rejection needs its reason.
		note := strings.Join(args[2:], " ")
		switch action := strings.ToLower(args[1]); {
		case action == "reissue" && r >= RoleAdmin, action == "refund" && r >= RoleOperator,
			action == "reject" && r >= RoleOperator && note != "":
			return []string{fmt.Sprintf("claim %s %q %d", action, note, fuzzOrderID)}
		}
		return nil
	case r >= RoleAdmin && (name == "pause" || name == "resume") && len(args) == 1 && (args[0] == "fulu" || args[0] == "qb-100"):
		return []string{fmt.Sprintf("%s %q", name, args[0])}
	case r >= RoleOperator && name == "silence" && len(args) == 2:
		// The engine checks the key and the bounds; a whole type is for
		// admins.
		d, err := time.ParseDuration(args[1])
		if err != nil || d <= 0 || (silence.IsAlertType(args[0]) && silence.Silenceable(alert.Kind(args[0])) && r < RoleAdmin) {
			return nil
		}
		return []string{fmt.Sprintf("silence %q %s", args[0], d)}
	case r >= RoleAdmin && name == "unbind" && len(args) == 1:
		return []string{fmt.Sprintf("unbind %q by %s", args[0], "carol")}
	case r >= RoleAdmin && name == "rules" && len(args) == 2 && strings.EqualFold(args[0], "off"):
		return []string{fmt.Sprintf("rule off %q", args[1])}
	case r >= RoleAdmin && name == "rules" && len(args) >= 4 && strings.EqualFold(args[0], "set"):
		return []string{fmt.Sprintf("rule set %q %q %q", args[1], strings.ToLower(args[2]), strings.Join(args[3:], " "))}
	}
	return nil
}

// FuzzButtonPress presses buttons with arbitrary data. Properties: no
// panic; deterministic; every press gets a reply; the engine acts only for
// data of the forms the handler hands out ("o:ap|rt|rf:<id>", "o:rf:<id>:r|f",
// "s:pa:<supplier>", "s:si:<alert>") pressed by someone allowed to; and a
// press that acts does what ButtonCommand says it stands for; and data
// that decodes encodes to data that decodes to the same button.
func FuzzButtonPress(f *testing.F) {
	for _, data := range []string{
		"o:ap:12", "o:rf:12", "o:rf:12:r", "o:rf:12:f", "o:rt:12", "o:dt:12", "o:ap:13", "o:ap:012", "o:ap:T-12",
		"o:dt:12:r", "o:ap:12:r", "o:zz:12", "o:ap", "o:ap:12:r:x", "s:pa:fulu", "s:pa:nope", "s:si:supplier_down:fulu",
		"s:si:", "k:ri:3", "k:rf:3", "k:rj:3", "k:rj:4", "k:rf:03", "k:ri:", "p:ap:12", "", ":", "o::", "o:ap:18446744073709551616", "c:ABC234", "c:", "s:si: backlog:outbox ",
	} {
		f.Add(data, byte(3))
	}
	f.Add("o:ap:12", byte(0))
	f.Add("o:rf:12:r", byte(1))
	f.Add("s:pa:fulu", byte(2))

	f.Fuzz(func(t *testing.T, data string, who byte) {
		id := fuzzIdentities[int(who)%len(fuzzIdentities)]
		b1, e1 := fuzzBot(chat.LangEN)
		r1 := b1.HandlePress(context.Background(), chat.Press{From: id, Data: data})
		b2, e2 := fuzzBot(chat.LangEN)
		r2 := b2.HandlePress(context.Background(), chat.Press{From: id, Data: data})
		if r1.Text != r2.Text || r1.Replace != r2.Replace || !slices.Equal(e1.actions, e2.actions) {
			t.Fatalf("HandlePress(%q) is not deterministic", data)
		}
		if strings.TrimSpace(r1.Text) == "" {
			t.Fatalf("HandlePress(%q) gave an empty reply", data)
		}
		if btn, ok := decodeButton(data); ok {
			if again, ok := decodeButton(btn.encode()); !ok || again != btn {
				t.Fatalf("%q decodes to %+v, which encodes to %q, which decodes to %+v %v", data, btn, btn.encode(), again, ok)
			}
		}
		want := expectedPress(data, role(id))
		if !slices.Equal(e1.actions, want) {
			t.Fatalf("%s pressed %q: engine got %q, want %q (reply %q)", id.Name, data, e1.actions, want, r1.Text)
		}
		// The typed command a button stands for must do the same (a
		// Refund button also pins the state it was shown in, so compare
		// the verb and the order). Alert keys and supplier names hold no
		// white space, which a typed command could not carry.
		if len(want) == 0 || strings.ContainsFunc(data, unicode.IsSpace) {
			return
		}
		typed := ButtonCommand(data)
		b3, e3 := fuzzBot(chat.LangEN)
		b3.Handle(context.Background(), chat.Message{From: id, Text: typed})
		verb := func(actions []string) string {
			if len(actions) != 1 {
				return fmt.Sprint(actions)
			}
			f := strings.Fields(actions[0])
			return f[0] + " " + f[len(f)-1]
		}
		if verb(e3.actions) != verb(e1.actions) {
			t.Fatalf("button %q did %q, its command %q does %q", data, e1.actions, typed, e3.actions)
		}
	})
}

// expectedPress is what a press of data by someone of role r must ask of
// the engine.
func expectedPress(data string, r Role) []string {
	if strings.ContainsFunc(data, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }) {
		return nil // no button the handler hands out holds one
	}
	parts := strings.Split(data, ":")
	switch {
	case len(parts) == 3 && parts[0] == "s" && parts[1] == "pa":
		if r >= RoleAdmin && (parts[2] == "fulu" || parts[2] == "qb-100") {
			return []string{fmt.Sprintf("pause %q", parts[2])}
		}
		return nil
	case len(parts) >= 3 && parts[0] == "s" && parts[1] == "si":
		key := strings.TrimSpace(strings.Join(parts[2:], ":"))
		if key != "" && r >= RoleOperator && (r >= RoleAdmin || !silence.IsAlertType(key) || !silence.Silenceable(alert.Kind(key))) {
			return []string{fmt.Sprintf("silence %q %s", key, time.Hour)}
		}
		return nil
	case len(parts) == 3 && parts[0] == "k" && parts[2] == "3":
		// Claim 3's Reissue (admins) and Refund (operators) resolve it;
		// Reject asks for the reason and does nothing.
		if parts[1] == "ri" && r >= RoleAdmin || parts[1] == "rf" && r >= RoleOperator {
			return []string{fmt.Sprintf("claim %s %q %d", map[string]string{"ri": "reissue", "rf": "refund"}[parts[1]], "", fuzzOrderID)}
		}
		return nil
	case len(parts) < 3 || len(parts) > 4 || parts[0] != "o" || parts[2] != strconv.Itoa(fuzzOrderID) || r < RoleOperator:
		return nil
	}
	from := map[string]string{"r": "[review]", "f": "[failed]"}
	switch verb := parts[1]; {
	case len(parts) == 4 && (verb != "rf" || from[parts[3]] == ""):
		return nil
	case verb == "ap":
		return []string{fmt.Sprintf("approve %d", fuzzOrderID)}
	case verb == "rt":
		return []string{fmt.Sprintf("retry %d", fuzzOrderID)}
	case verb == "rf" && len(parts) == 4:
		return []string{fmt.Sprintf("refund %q from %s %d", "", from[parts[3]], fuzzOrderID)}
	case verb == "rf":
		return []string{fmt.Sprintf("refund %q from [review failed] %d", "", fuzzOrderID)}
	}
	return nil
}
