package docs

import (
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// layoutName is a package path as the README's Layout table writes it.
var layoutName = regexp.MustCompile("`([a-z][a-z0-9_-]*(?:/[a-z0-9_-]+)*)`")

// TestTheReadmeLayoutTableNamesEveryPackage keeps the README's Layout table
// true to the tree: every folder that holds a Go package (test-only ones
// aside) is named in it, and every path its first column names exists.
func TestTheReadmeLayoutTableNamesEveryPackage(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(readme), "\n## Layout\n")
	if !ok {
		t.Fatal("README.md has no ## Layout section")
	}
	table, _, _ = strings.Cut(table, "\n## ")
	named := map[string]bool{}
	for _, row := range strings.Split(table, "\n") {
		cells := strings.Split(row, "|")
		if len(cells) < 3 {
			continue
		}
		for _, m := range layoutName.FindAllStringSubmatch(cells[1], -1) {
			named[m[1]] = true
			if info, err := os.Stat(filepath.Join(root, m[1])); err != nil || !info.IsDir() {
				t.Errorf("the Layout table names %s, which is not a folder of the repository", m[1])
			}
		}
		for _, m := range layoutName.FindAllStringSubmatch(cells[2], -1) {
			named[m[1]] = true
		}
	}
	if len(named) == 0 {
		t.Fatalf("no package paths read from the Layout table:\n%s", table)
	}
	for _, dir := range packageDirs(t) {
		if !named[dir] {
			t.Errorf("the README's Layout table does not name %s", dir)
		}
	}
}

// packageDirs lists the tracked folders that hold a Go file other than a
// test, relative to the repository's top.
func packageDirs(t *testing.T) []string {
	var dirs []string
	for _, name := range trackedFiles(t) {
		if path.Ext(name) != ".go" || strings.HasSuffix(name, "_test.go") {
			continue
		}
		if dir := path.Dir(name); dir != "." && !slices.Contains(dirs, dir) {
			dirs = append(dirs, dir)
		}
	}
	if len(dirs) < 10 {
		t.Fatalf("only %d package folders found: %v", len(dirs), dirs)
	}
	return dirs
}
