// Package routes decides what the storefront listener serves: cardflow's
// own API and health routes, and the paths a config mounts beside them
// (supplier notify paths, chat webhooks). Config validation and the server
// both go through it, so a config that `cardflow check` passes cannot make
// the server's ServeMux panic, and the server reports a bad mount as an
// error, never a panic.
package routes

import (
	"errors"
	"fmt"
	"net/http"
	"path"
	"strings"
)

// cardflow's own routes on the storefront listener.
const (
	CreateOrder = "POST /v1/orders"
	GetOrder    = "GET /v1/orders/{id}"
	FindOrder   = "GET /v1/orders"
	CreateClaim = "POST /v1/orders/{id}/claims"
	Healthz     = "GET /healthz"
	Readyz      = "GET /readyz"
)

// Storefront lists them.
var Storefront = []string{CreateOrder, GetOrder, FindOrder, CreateClaim, Healthz, Readyz}

// DujiaoNext is the tree a Dujiao-Next shop calls (docs/docking.md): its
// client fixes every path under it.
const DujiaoNext = "/api/v1/upstream"

// AcgFaka is the tree an acg-faka shop calls (docs/acgfaka.md), its
// shared store: the shop appends /shared/<controller>/<action> to the
// address it was given.
const AcgFaka = "/shared"

// reserved are paths and prefixes kept for cardflow's own routes, today's
// and tomorrow's: a webhook there would shadow an API route or be shadowed
// by one.
var reserved = []string{"/v1", "/healthz", "/readyz", "/metrics", "/debug", DujiaoNext, AcgFaka}

// Mount is a path a config serves on the storefront listener, and the
// config key that chose it.
type Mount struct {
	Owner string // e.g. "qq.webhook_path"
	Path  string
}

// CheckPath says whether p can be mounted: a clean literal path of its
// own. ServeMux would read "{x}" as a wildcard and "/a/" as a whole subtree,
// and refuse or redirect unclean paths.
func CheckPath(p string) error {
	switch {
	case !strings.HasPrefix(p, "/"):
		return errors.New("must be a path starting with \"/\"")
	case p == "/" || strings.HasSuffix(p, "/"):
		return errors.New("must not end with \"/\" (that would catch every path below it)")
	case strings.IndexFunc(p, func(r rune) bool { return !pathRune(r) }) >= 0:
		return errors.New("may hold only letters, digits and . _ ~ - /")
	case path.Clean(p) != p:
		return errors.New("must be a clean path, without \"//\", \".\" or \"..\" segments")
	}
	for _, r := range reserved {
		if p == r || strings.HasPrefix(p, r+"/") {
			return fmt.Errorf("is under %s, which cardflow keeps for its own routes", r)
		}
	}
	return nil
}

func pathRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._~-/", r)
}

// Table is the routes of one storefront listener.
type Table struct {
	mux    *http.ServeMux
	owners map[string]string // pattern → who added it
}

// Handlers serve cardflow's own routes, one field per pattern of
// Storefront.
type Handlers struct {
	CreateOrder, GetOrder, FindOrder, CreateClaim, Healthz, Readyz http.Handler
}

// NewTable returns a table serving cardflow's own routes.
func NewTable(h Handlers) *Table {
	t := &Table{mux: http.NewServeMux(), owners: map[string]string{}}
	for _, r := range []struct {
		pattern string
		h       http.Handler
	}{{CreateOrder, h.CreateOrder}, {GetOrder, h.GetOrder}, {FindOrder, h.FindOrder}, {CreateClaim, h.CreateClaim},
		{Healthz, h.Healthz}, {Readyz, h.Readyz}} {
		t.mux.Handle(r.pattern, r.h) // fixed, distinct patterns: cannot conflict
		t.owners[r.pattern] = "the storefront API"
	}
	return t
}

// Mux is the table's ServeMux, for serving and for looking up patterns.
func (t *Table) Mux() *http.ServeMux { return t.mux }

// Mount serves POST m.Path with h, or returns a *MountError saying why it
// cannot.
func (t *Table) Mount(m Mount, h http.Handler) error {
	err := CheckPath(m.Path)
	if err == nil && h == nil {
		err = errors.New("has no handler")
	}
	if err == nil {
		err = t.add("POST "+m.Path, m.Owner, h)
	}
	if err != nil {
		return &MountError{Mount: m, Err: err}
	}
	return nil
}

// Tree serves every method and path under prefix (one of the docking
// protocols' trees, like DujiaoNext) and prefix itself with h, which
// answers unknown paths in its protocol's own words: ServeMux would
// otherwise redirect the bare prefix, which a shop's client does not
// follow.
func (t *Table) Tree(prefix, owner string, h http.Handler) error {
	if h == nil {
		return fmt.Errorf("%s: %q has no handler", owner, prefix)
	}
	for _, pattern := range []string{prefix + "/", prefix} {
		if err := t.add(pattern, owner, h); err != nil {
			return fmt.Errorf("%s: %q %w", owner, prefix, err)
		}
	}
	return nil
}

// add registers a pattern. ServeMux panics on a conflict; CheckPath leaves
// none but exact duplicates, which are caught first, and the recover
// catches what that reasoning may have missed.
func (t *Table) add(pattern, owner string, h http.Handler) (err error) {
	if other, dup := t.owners[pattern]; dup {
		return fmt.Errorf("is already served for %s", other)
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("cannot be served: %v", p)
		}
	}()
	t.mux.Handle(pattern, h)
	t.owners[pattern] = owner
	return nil
}

// Check mounts every path on a table of cardflow's own routes and returns
// the problems, one *MountError per mount that failed, in order. Config
// validation calls it; the server meets the same rules when it mounts.
func Check(mounts []Mount) []error {
	nop := http.NotFoundHandler()
	t := NewTable(Handlers{CreateOrder: nop, GetOrder: nop, FindOrder: nop, CreateClaim: nop, Healthz: nop, Readyz: nop})
	var errs []error
	for _, m := range mounts {
		if err := t.Mount(m, nop); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// MountError is a mount refused; Err is the bare reason.
type MountError struct {
	Mount Mount
	Err   error
}

func (e *MountError) Error() string {
	return fmt.Sprintf("%s: %q %v", e.Mount.Owner, e.Mount.Path, e.Err)
}
func (e *MountError) Unwrap() error { return e.Err }
