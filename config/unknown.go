package config

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// Problems the toml package finds on its own: unknown keys, syntax errors and
// values that cannot even be mirrored, turned into fix-it messages.

// unknownKeys reports every key the file sets that Config does not have,
// once per place it is written, and nothing below an unknown table.
func (d *decoder) unknownKeys() {
	reported := map[string]bool{}
	for _, k := range d.md.Undecoded() {
		plain := k.String()
		skip := false
		for i := 1; i < len(k); i++ {
			skip = skip || reported[k[:i].String()]
		}
		reported[plain] = true
		names, ok := fieldsAt(k[:len(k)-1])
		if skip || !ok { // below an unknown table, or inside a value already reported
			continue
		}
		msg := unknownMsg(&d.md, k, names)
		places := d.rep.lines.byPlain(plain)
		if len(places) == 0 {
			d.rep.add(plain, "%s", msg)
		}
		for _, e := range places {
			d.rep.list = append(d.rep.list, Problem{File: d.rep.file, Line: e.line, Key: e.key, Msg: msg})
		}
	}
}

// typeAt returns the type of the field at a key path without indexes
// ("products.sources"); arrays of tables on the way stand for their element.
func typeAt(path []string) (reflect.Type, bool) {
	t := reflect.TypeFor[Config]()
	for _, seg := range path {
		if isTableArray(t) {
			t = t.Elem()
		}
		if !isTable(t) {
			return nil, false
		}
		found := false
		for _, f := range tomlFields(t) {
			if strings.EqualFold(tagName(f), seg) { // toml matches field names the same way
				t, found = f.Type, true
				break
			}
		}
		if !found {
			return nil, false
		}
	}
	return t, true
}

// fieldsAt returns the key names allowed in the table at path, and false if
// path is not a table of Config.
func fieldsAt(path toml.Key) ([]string, bool) {
	t, ok := typeAt(path)
	if ok && isTableArray(t) {
		t = t.Elem()
	}
	if !ok || !isTable(t) {
		return nil, false
	}
	var names []string
	for _, f := range tomlFields(t) {
		names = append(names, tagName(f))
	}
	return names, true
}

func unknownMsg(md *toml.MetaData, k toml.Key, allowed []string) string {
	name, what, where := k[len(k)-1], "key", "at the top level"
	if t := md.Type(k...); t == "Hash" || t == "ArrayHash" {
		what = "table"
	}
	if parent := k[:len(k)-1]; len(parent) > 0 {
		where = "in [" + parent.String() + "]"
		if md.Type(parent...) == "ArrayHash" {
			where = "in [[" + parent.String() + "]]"
		}
	}
	if guess := closest(name, allowed); guess != "" {
		return fmt.Sprintf("unknown %s %q %s; did you mean %q?", what, name, where, guess)
	}
	return fmt.Sprintf("unknown %s %q %s; remove it (allowed here: %s)", what, name, where, strings.Join(allowed, ", "))
}

// closest returns the allowed name within a small edit distance of name.
func closest(name string, allowed []string) string {
	best, bestDist := "", max(1, len(name)/3)+1
	for _, a := range allowed {
		if d := editDistance(strings.ToLower(name), a); d < bestDist {
			best, bestDist = a, d
		}
	}
	return best
}

// editDistance counts insertions, deletions, substitutions and swaps of
// neighbours (the usual typo "levle" is one edit from "level").
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

// structuralErr matches the plain errors toml returns when a table is given
// a scalar, e.g. `api = 5`: "toml: line 3 (last key "api"): type mismatch...".
var structuralErr = regexp.MustCompile(`^toml: (?:line (\d+) )?\(last key "((?:[^"\\]|\\.)*)"\): (.*)$`)

// tomlError reports a syntax error, or a value that cannot even be mirrored.
func (r *reporter) tomlError(err error) {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		fix := "check the quotes, brackets and `key = value` form on this line"
		if strings.Contains(pe.Message, "already been defined") {
			fix = "remove or rename the duplicate"
		}
		r.list = append(r.list, Problem{File: r.file, Line: pe.Position.Line, Key: pe.LastKey,
			Msg: fmt.Sprintf("TOML syntax error: %s; %s", strings.TrimSuffix(pe.Message, "."), fix)})
		return
	}
	p := Problem{File: r.file, Msg: err.Error()}
	if m := structuralErr.FindStringSubmatch(err.Error()); m != nil {
		key, _ := strconv.Unquote(`"` + m[2] + `"`)
		p.Key, p.Msg = key, structuralMsg(key, m[3])
		reported, _ := strconv.Atoi(m[1])
		p.Line = reported
		// Find the indexed key written on the reported line, or the first one.
		for i, e := range r.lines.byPlain(key) {
			if i == 0 || e.line == reported {
				p.Key, p.Line = e.key, e.line
			}
		}
	}
	r.list = append(r.list, p)
}

// structuralMsg explains a table or array of tables given as a plain value.
func structuralMsg(key, raw string) string {
	t, ok := typeAt(strings.Split(key, "."))
	switch {
	case ok && isTableArray(t):
		return fmt.Sprintf("must be an array of tables, not a value; write each entry as a [[%s]] section", key)
	case ok && isTable(t):
		return fmt.Sprintf("must be a table, not a value; write it as a [%s] section with its keys below it", key)
	}
	return raw + "; see config.toml.example for the shape of the file"
}
