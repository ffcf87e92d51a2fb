// Package docs holds cardflow's documentation for maintainers (see
// README.md in this folder). This test keeps the repository
// self-contained: code, comments and documents cite only what a clone
// holds.
package docs

import (
	"bytes"
	"go/scanner"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// root is the repository's top, seen from this package's directory.
const root = ".."

// outside are the forms a citation of a document outside the repository
// takes: the product contract and style guide kept beside the repository,
// their section numbers, its specs and shared folders, and absolute paths
// of the machine the project was built on. The bracketed letters keep this
// file from matching itself.
var outside = []*regexp.Regexp{
	regexp.MustCompile(`\bDESIG[N]\b`),
	regexp.MustCompile(`\x{00A7}`), // the section sign, as in "section 4"
	regexp.MustCompile(`\bSTYL[E](\.md\b| [0-9])`),
	regexp.MustCompile(`\bspec[s]/`),
	// The folder, but not a URL path such as acg-faka's /shared/commodity/trade.
	regexp.MustCompile(`(^|[^/\w])share[d]/|\.\./share[d]/`),
	regexp.MustCompile(`/wor[k]/`),
	regexp.MustCompile(`(?i)\b(the spe[c]\b|spe[c]('s| says)\b)`),
}

var (
	// mdName is a file name ending in .md, with the path written before it.
	mdName = regexp.MustCompile(`[A-Za-z0-9_./-]*[A-Za-z0-9_-]\.md\b`)
	// docsPath is a path into this folder.
	docsPath = regexp.MustCompile(`\bdocs/[A-Za-z0-9_./-]+`)
	// mdLink is the target of a Markdown link.
	mdLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	// codePath is a path written as code in a page, such as
	// `storage/writer.go`: one into a folder of the repository must exist.
	codePath = regexp.MustCompile("`([a-z][a-z0-9_]*/[A-Za-z0-9_./-]*[A-Za-z0-9_])`")
	// url is a web address: what it names is not in the repository, and
	// is not a citation this test can check.
	url = regexp.MustCompile(`[a-z]+://\S+`)
)

// checked says whether a file is one whose text is read by people: code,
// documents, the example config, the build files.
func checked(name string) bool {
	switch path.Ext(name) {
	case ".go", ".md", ".toml", ".example":
		return true
	}
	base := path.Base(name)
	return base == "Makefile" || base == "Dockerfile"
}

// TestEveryCitationNamesAFileInTheRepository reads every tracked file of
// the kinds above and fails on a citation of a document outside the
// repository, or of a file in it that does not exist (in a page, also a
// path into one of the repository's folders written as code).
func TestEveryCitationNamesAFileInTheRepository(t *testing.T) {
	files := trackedFiles(t)
	if !slices.Contains(files, "README.md") {
		t.Fatalf("the file list misses README.md: %d files", len(files))
	}
	for _, name := range files {
		if !checked(name) {
			continue
		}
		for _, p := range problems(t, name) {
			t.Error(p)
		}
	}
}

// problems lists what is wrong with the citations of one file.
func problems(t *testing.T, name string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range prose(t, name, data) {
		line := url.ReplaceAllString(l.text, "")
		where := name + ":" + strconv.Itoa(l.n) + ": "
		for _, re := range outside {
			if m := re.FindString(line); m != "" {
				out = append(out, where+"cites a document outside the repository ("+m+"); cite docs/… or say the fact in place")
				break
			}
		}
		var targets []string
		targets = append(targets, mdName.FindAllString(line, -1)...)
		targets = append(targets, docsPath.FindAllString(line, -1)...)
		if path.Ext(name) == ".md" {
			for _, m := range mdLink.FindAllStringSubmatch(line, -1) {
				targets = append(targets, m[1])
			}
			for _, m := range codePath.FindAllStringSubmatch(line, -1) {
				if first, _, _ := strings.Cut(m[1], "/"); topFolders(t)[first] {
					targets = append(targets, m[1])
				}
			}
		}
		for _, target := range targets {
			if !exists(name, target) {
				out = append(out, where+"cites "+target+", which is not in the repository")
			}
		}
	}
	return out
}

// topFolders are the folders at the repository's top.
func topFolders(t *testing.T) map[string]bool {
	t.Helper()
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			out[e.Name()] = true
		}
	}
	return out
}

// line is one line of text a person reads, and its number in the file.
type line struct {
	n    int
	text string
}

// prose is the text of a file that can cite: every line, or in Go source
// its comments and string literals (a selector ending in .md is no file
// name).
func prose(t *testing.T, name string, data []byte) []line {
	t.Helper()
	var out []line
	add := func(first int, text string) {
		for i, l := range strings.Split(text, "\n") {
			out = append(out, line{first + i, l})
		}
	}
	if path.Ext(name) != ".go" {
		add(1, string(data))
		return out
	}
	fset := token.NewFileSet()
	var s scanner.Scanner
	s.Init(fset.AddFile(name, -1, len(data)), data, func(pos token.Position, msg string) {
		t.Errorf("%s: %s", pos, msg)
	}, scanner.ScanComments)
	for {
		pos, tok, lit := s.Scan()
		if tok == token.EOF {
			return out
		}
		if tok == token.COMMENT || tok == token.STRING || tok == token.CHAR {
			add(fset.Position(pos).Line, lit)
		}
	}
}

// exists says whether a cited path names a file or folder of the
// repository, read from the citing file's folder or from the top, and, for
// a Markdown page cited with an anchor (#section), whether the page has that
// heading. A sentence's last full stop is not part of the path.
func exists(from, target string) bool {
	target = strings.TrimRight(target, ".,;:")
	target, anchor, _ := strings.Cut(target, "#")
	if target == "" {
		target = path.Base(from) // a link within the page
	}
	for _, dir := range []string{path.Dir(from), "."} {
		p := path.Join(dir, target)
		if strings.HasPrefix(p, "../") {
			continue // above the repository
		}
		if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(p))); err == nil {
			return anchor == "" || path.Ext(p) != ".md" || slices.Contains(anchors(p), anchor)
		}
	}
	return false
}

// anchors are the link targets of a Markdown page's headings, as GitHub
// makes them: lower case, punctuation dropped, spaces as dashes.
func anchors(page string) []string {
	data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(page)))
	if err != nil {
		return nil
	}
	var out []string
	for l := range strings.SplitSeq(string(data), "\n") {
		title, ok := strings.CutPrefix(strings.TrimLeft(l, "#"), " ")
		if !ok || !strings.HasPrefix(l, "#") {
			continue
		}
		var b strings.Builder
		for _, r := range strings.ToLower(strings.TrimSpace(title)) {
			switch {
			case r == ' ':
				b.WriteRune('-')
			case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
				b.WriteRune(r)
			}
		}
		out = append(out, b.String())
	}
	return out
}

// testName is a test, benchmark or fuzz target a page names.
var testName = regexp.MustCompile(`\b(Test|Benchmark|Fuzz)[A-Z][A-Za-z0-9_]*`)

// TestEveryTestADocumentNamesExists fails when a page names a test that no
// file declares: a renamed test leaves the page pointing at nothing.
func TestEveryTestADocumentNamesExists(t *testing.T) {
	declared := map[string]bool{}
	for _, name := range trackedFiles(t) {
		if path.Ext(name) != ".go" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(name)))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range funcDecl.FindAllSubmatch(data, -1) {
			declared[string(m[1])] = true
		}
	}
	pages, err := filepath.Glob("*.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range append(pages, "../README.md") {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range testName.FindAllString(string(data), -1) {
			if !declared[name] {
				t.Errorf("%s names %s, which no Go file declares", p, name)
			}
		}
	}
}

// funcDecl is a top-level function declaration's name.
var funcDecl = regexp.MustCompile(`(?m)^func ([A-Za-z0-9_]+)\(`)

// trackedFiles lists the repository's files, slash-separated from its top:
// git's list where git is at hand, else every file below the top outside
// hidden folders. A file deleted but not yet committed is left out.
func trackedFiles(t *testing.T) []string {
	t.Helper()
	cmd := exec.Command("git", "ls-files", "-z")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return walk(t, "")
	}
	var files []string
	for f := range strings.SplitSeq(strings.TrimRight(string(out), "\x00"), "\x00") {
		if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(f))); err == nil {
			files = append(files, f)
		}
	}
	// A page added in this change and not yet staged is checked too.
	files = append(files, walk(t, "docs/")...)
	slices.Sort(files)
	return slices.Compact(files)
}

// walk lists the files below the top whose path starts with prefix, outside
// hidden folders.
func walk(t *testing.T, prefix string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		switch {
		case d.IsDir() && rel != "." && strings.HasPrefix(d.Name(), "."):
			return filepath.SkipDir
		case !d.IsDir() && strings.HasPrefix(rel, prefix):
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestTheIndexListsEveryDocument fails when a page of this folder is not
// linked from its README, where a maintainer looks first.
func TestTheIndexListsEveryDocument(t *testing.T) {
	index, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	pages, err := filepath.Glob("*.md")
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) < 2 {
		t.Fatalf("only %v in docs/", pages)
	}
	for _, p := range pages {
		if p != "README.md" && !bytes.Contains(index, []byte("("+p+")")) {
			t.Errorf("docs/README.md does not link %s", p)
		}
	}
}
