package config

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"
)

// Load reads the TOML file at path over Default(), resolves relative paths
// against the file's directory, reads _env and _file secrets and validates
// the result. Every problem found is returned at once as Problems.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load config: %w", err)
	}
	c := base()
	c.file, c.lines = path, mapLines(string(data))
	rep := &reporter{file: path, lines: c.lines}

	written, ok := decode(string(data), c, rep)
	if !ok {
		return nil, rep.list
	}
	c.applyDefaults(written)
	c.resolvePaths(filepath.Dir(path))
	c.resolveSecrets(rep)
	for _, p := range c.validate() {
		// A value that failed to decode is zero; don't report it twice.
		if !rep.has(p.Key) {
			rep.list = append(rep.list, p)
		}
	}
	if len(rep.list) > 0 {
		sortProblems(rep.list)
		return nil, rep.list
	}
	return c, nil
}

// sortProblems orders problems by line, keeping those without one last.
func sortProblems(ps Problems) {
	slices.SortStableFunc(ps, func(a, b Problem) int {
		if (a.Line == 0) != (b.Line == 0) {
			return cmp.Compare(b.Line, a.Line) // the one with a line first
		}
		return cmp.Compare(a.Line, b.Line)
	})
}
