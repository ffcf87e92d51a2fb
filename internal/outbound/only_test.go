package outbound

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestEveryClientIsBuiltHere parses every non-test Go file of the module and
// fails on a client that could follow redirects: an http.Client value (a
// literal, new(http.Client), a variable or field that is not a pointer),
// http.DefaultClient, the package-level http.Get, Head, Post and PostForm,
// or a CheckRedirect set anywhere but here. Such a client is how a callback
// came to follow a storefront's 302 and post card keys after a 307.
func TestEveryClientIsBuiltHere(t *testing.T) {
	root := moduleRoot(t)
	here, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	files := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "vendor") || path == here {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		files++
		for _, p := range redirectingClients(fset, f) {
			rel, _ := filepath.Rel(root, p.file)
			t.Errorf("%s:%d: %s; build clients with cardflow/internal/outbound (New or Guard), which refuse redirects", rel, p.line, p.what)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 50 {
		t.Fatalf("parsed only %d files under %s; is this the module root?", files, root)
	}
}

// TestTheScanFindsEveryForm keeps the scan honest: each form it must refuse
// is found in a sample file, and pointer types are not.
func TestTheScanFindsEveryForm(t *testing.T) {
	src := `package p

import web "net/http"

type holder struct {
	ok  *web.Client
	bad web.Client
}

func f(c *web.Client) {
	_ = &web.Client{}
	_ = new(web.Client)
	var v web.Client
	_ = v
	_ = web.DefaultClient
	_, _ = web.Get("http://x")
	_, _ = web.Post("http://x", "", nil)
	_, _ = web.PostForm("http://x", nil)
	_, _ = web.Head("http://x")
	c.CheckRedirect = nil
}
`
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "sample.go", src, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	var lines []int
	for _, p := range redirectingClients(fset, f) {
		lines = append(lines, p.line)
	}
	want := []int{7, 11, 12, 13, 15, 16, 17, 18, 19, 20}
	if !slices.Equal(lines, want) {
		t.Errorf("found lines %v, want %v", lines, want)
	}
}

type finding struct {
	file string
	line int
	what string
}

// redirectingClients lists the places in f that make or use a client that
// may follow redirects.
func redirectingClients(fset *token.FileSet, f *ast.File) []finding {
	name := ""
	for _, imp := range f.Imports {
		if p, _ := strconv.Unquote(imp.Path.Value); p == "net/http" {
			name = "http"
			if imp.Name != nil {
				name = imp.Name.Name
			}
		}
	}
	var out []finding
	add := func(n ast.Node, what string) {
		pos := fset.Position(n.Pos())
		out = append(out, finding{file: pos.Filename, line: pos.Line, what: what})
	}
	isHTTP := func(e ast.Expr, sel string) bool {
		s, ok := e.(*ast.SelectorExpr)
		if !ok || s.Sel.Name != sel {
			return false
		}
		id, ok := s.X.(*ast.Ident)
		return ok && name != "" && id.Name == name
	}
	pointed := map[ast.Expr]bool{} // http.Client under a '*': a pointer type is fine
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.StarExpr:
			pointed[n.X] = true
		case *ast.SelectorExpr:
			switch {
			case isHTTP(n, "Client") && !pointed[n]:
				add(n, "an http.Client made outside internal/outbound")
			case isHTTP(n, "DefaultClient"):
				add(n, "http.DefaultClient follows redirects")
			case isHTTP(n, "Get"), isHTTP(n, "Head"), isHTTP(n, "Post"), isHTTP(n, "PostForm"):
				add(n, "http."+n.Sel.Name+" uses http.DefaultClient, which follows redirects")
			case n.Sel.Name == "CheckRedirect":
				add(n, "CheckRedirect set outside internal/outbound")
			}
		}
		return true
	})
	return out
}

// moduleRoot is the directory of the go.mod above this package.
func moduleRoot(t *testing.T) string {
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test")
		}
		dir = parent
	}
}
