package config

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors; callers match them with errors.Is.
var (
	// ErrMasterKeyMissing means neither master_key_file nor CARDFLOW_MASTER_KEY is set.
	ErrMasterKeyMissing = errors.New("master key is not set")
	// ErrMasterKeyInvalid means the master key is not base64 of exactly 32 bytes.
	ErrMasterKeyInvalid = errors.New("invalid master key")
)

// Problem is one thing wrong with a config file.
type Problem struct {
	File string // config file path; empty for a Config built in code
	Line int    // 1-based; 0 when unknown
	Key  string // dotted key such as "storefronts[1].callback_url"
	Msg  string // what is wrong and how to fix it
}

// String formats the problem as "file:line: key: message".
func (p Problem) String() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		if p.Line > 0 {
			fmt.Fprintf(&b, ":%d", p.Line)
		}
		b.WriteString(": ")
	}
	if p.Key != "" {
		b.WriteString(p.Key)
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Problems is every problem found in one load; it is the error Load and
// Validate return.
type Problems []Problem

// Error prints one problem per line.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// reporter collects problems and places them on lines of the file.
type reporter struct {
	file  string
	lines *lineMap // nil for a Config built in code
	list  Problems
}

func (r *reporter) add(key, format string, args ...any) {
	r.list = append(r.list, Problem{File: r.file, Line: r.lines.lookup(key), Key: key, Msg: fmt.Sprintf(format, args...)})
}

// has reports whether a problem was already recorded for key.
func (r *reporter) has(key string) bool {
	for _, p := range r.list {
		if p.Key == key {
			return true
		}
	}
	return false
}

// err returns the collected problems, or nil when there are none.
func (r *reporter) err() error {
	if len(r.list) == 0 {
		return nil
	}
	return r.list
}

// ProblemAt makes a Problem about key, placed on its line of the file the
// config was loaded from. Checks that live outside this package (rule
// expressions) report through it.
func (c *Config) ProblemAt(key, format string, args ...any) Problem {
	return Problem{File: c.file, Line: c.lines.lookup(key), Key: key, Msg: fmt.Sprintf(format, args...)}
}
