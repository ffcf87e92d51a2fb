package config

import (
	"fmt"
	"strconv"
	"strings"
)

// lineMap knows on which line each key of a TOML file is written. The toml
// package reports positions only for syntax and type errors, so this is a
// small scanner: it finds table headers and "key =" lines and skips over
// values (strings, multi-line arrays) without parsing them.
type lineMap struct {
	lines map[string]int // indexed key ("products[1].sku") -> line
	plain []lineEntry    // keys in file order, for lookups by toml.Key string
}

// lineEntry is one written key: its indexed form and its toml.Key form
// ("products.sku"), which has no array indexes.
type lineEntry struct {
	key, plain string
	line       int
}

// lookup returns the line of key, or of its nearest written ancestor (a key
// absent from the file points at its table header), or 0.
func (m *lineMap) lookup(key string) int {
	if m == nil {
		return 0
	}
	for ; key != ""; key = parentKey(key) {
		if n, ok := m.lines[key]; ok {
			return n
		}
	}
	return 0
}

// byPlain returns every place where a toml.Key string is written, e.g. each
// [[products]] element that has a "products.skuu" line.
func (m *lineMap) byPlain(plain string) []lineEntry {
	if m == nil {
		return nil
	}
	var out []lineEntry
	for _, e := range m.plain {
		if e.plain == plain {
			out = append(out, e)
		}
	}
	return out
}

func mapLines(src string) *lineMap {
	s := &lineScanner{m: &lineMap{lines: map[string]int{}}, arrays: map[string]int{}}
	for i, text := range strings.Split(src, "\n") {
		s.scanLine(i+1, strings.TrimSuffix(text, "\r"))
	}
	return s.m
}

type lineScanner struct {
	m                 *lineMap
	table, tablePlain string         // current table, indexed and plain
	arrays            map[string]int // indexed array-of-tables key -> elements seen
	depth             int            // open [ and { of a value continuing on later lines
	multi             string         // closing delimiter of an open multi-line string
}

func (s *lineScanner) scanLine(n int, text string) {
	if s.depth > 0 || s.multi != "" {
		s.skipValue(text)
		return
	}
	t := strings.TrimLeft(text, " \t\ufeff")
	switch {
	case t == "" || t[0] == '#':
	case strings.HasPrefix(t, "[["):
		if segs, rest, ok := parseKey(t[2:]); ok && strings.HasPrefix(trimSpace(rest), "]]") {
			s.arrayHeader(n, segs)
		}
	case t[0] == '[':
		if segs, rest, ok := parseKey(t[1:]); ok && strings.HasPrefix(trimSpace(rest), "]") {
			s.table, s.tablePlain = s.resolve(segs)
			s.record(n, s.table, s.tablePlain)
		}
	default:
		segs, rest, ok := parseKey(t)
		rest = trimSpace(rest)
		if !ok || !strings.HasPrefix(rest, "=") {
			return
		}
		key, plain := s.table, s.tablePlain
		for _, seg := range segs {
			key, plain = joinKey(key, quoteSeg(seg)), joinKey(plain, quoteSeg(seg))
		}
		s.record(n, key, plain)
		s.skipValue(rest[1:])
	}
}

// arrayHeader handles [[a.b]]: b is an array inside the latest element of a.
func (s *lineScanner) arrayHeader(n int, segs []string) {
	parent, parentPlain := s.resolve(segs[:len(segs)-1])
	last := quoteSeg(segs[len(segs)-1])
	arr, arrPlain := joinKey(parent, last), joinKey(parentPlain, last)
	if _, seen := s.arrays[arr]; !seen {
		s.record(n, arr, arrPlain)
	}
	s.table = fmt.Sprintf("%s[%d]", arr, s.arrays[arr])
	s.tablePlain = arrPlain
	s.arrays[arr]++
	s.record(n, s.table, "") // the array itself already has its plain entry
}

// resolve turns header segments into a key, indexing every array of tables
// on the way with its latest element.
func (s *lineScanner) resolve(segs []string) (key, plain string) {
	for _, seg := range segs {
		key, plain = joinKey(key, quoteSeg(seg)), joinKey(plain, quoteSeg(seg))
		if seen, ok := s.arrays[key]; ok {
			key = fmt.Sprintf("%s[%d]", key, seen-1)
		}
	}
	return key, plain
}

func (s *lineScanner) record(n int, key, plain string) {
	if _, ok := s.m.lines[key]; !ok {
		s.m.lines[key] = n
	}
	if plain != "" {
		s.m.plain = append(s.m.plain, lineEntry{key: key, plain: plain, line: n})
	}
}

// skipValue walks a value so that brackets and strings spanning lines are not
// mistaken for keys or headers.
func (s *lineScanner) skipValue(text string) {
	for i := 0; i < len(text); {
		if s.multi != "" {
			end := closeMulti(text[i:], s.multi)
			if end < 0 {
				return
			}
			i += end
			s.multi = ""
			continue
		}
		switch c := text[i]; c {
		case '#':
			return
		case '[', '{':
			s.depth++
		case ']', '}':
			if s.depth > 0 {
				s.depth--
			}
		case '"', '\'':
			if delim := strings.Repeat(string(c), 3); strings.HasPrefix(text[i:], delim) {
				s.multi = delim
				i += 3
				continue
			}
			i = skipString(text, i)
			continue
		}
		i++
	}
}

// closeMulti returns the offset just past the closing delimiter (and up to two
// extra quotes TOML allows before it), or -1 if the string continues.
func closeMulti(text, delim string) int {
	for i := 0; i < len(text); i++ {
		if delim == `"""` && text[i] == '\\' {
			i++
			continue
		}
		if strings.HasPrefix(text[i:], delim) {
			j := i + 3
			for k := 0; k < 2 && j < len(text) && text[j] == delim[0]; k++ {
				j++
			}
			return j
		}
	}
	return -1
}

// skipString returns the offset past the single-line string starting at i.
func skipString(text string, i int) int {
	q := text[i]
	for i++; i < len(text); i++ {
		switch {
		case q == '"' && text[i] == '\\':
			i++
		case text[i] == q:
			return i + 1
		}
	}
	return len(text)
}

// parseKey reads a possibly dotted, possibly quoted key and returns its
// segments and the text after it.
func parseKey(s string) (segs []string, rest string, ok bool) {
	for {
		s = trimSpace(s)
		if s == "" {
			return nil, s, false
		}
		var seg string
		switch s[0] {
		case '"':
			end := skipString(s, 0)
			raw := s[:end]
			if v, err := strconv.Unquote(raw); err == nil {
				seg = v
			} else {
				seg = strings.Trim(raw, `"`)
			}
			s = s[end:]
		case '\'':
			end := skipString(s, 0)
			seg, s = strings.Trim(s[:end], "'"), s[end:]
		default:
			end := 0
			for end < len(s) && isBare(s[end]) {
				end++
			}
			if end == 0 {
				return nil, s, false
			}
			seg, s = s[:end], s[end:]
		}
		segs = append(segs, seg)
		s = trimSpace(s)
		if !strings.HasPrefix(s, ".") {
			return segs, s, true
		}
		s = s[1:]
	}
}

func isBare(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// quoteSeg writes a key segment the way toml.Key.String does.
func quoteSeg(seg string) string {
	for i := 0; i < len(seg); i++ {
		if !isBare(seg[i]) {
			return strconv.Quote(seg)
		}
	}
	if seg == "" {
		return `""`
	}
	return seg
}

func joinKey(parent, child string) string {
	if parent == "" {
		return child
	}
	return parent + "." + child
}

// parentKey strips the last ".segment" or "[index]" from key.
func parentKey(key string) string {
	cut, inQuote := 0, false
	for i := 0; i < len(key); i++ {
		switch c := key[i]; {
		case inQuote && c == '\\':
			i++
		case c == '"':
			inQuote = !inQuote
		case !inQuote && (c == '.' || c == '['):
			cut = i
		}
	}
	return key[:cut]
}

func trimSpace(s string) string { return strings.TrimLeft(s, " \t") }
