package acgfaka

import "strings"

// Field is one name=value pair of a form, decoded. A nested field keeps its
// brackets in the name: "sku[区服]".
type Field struct {
	Name, Value string
}

// Form is a form body as a PHP server reads it into $_POST: each name
// resolved once, in the order it first appeared.
type Form struct {
	fields []Field
}

// ParseForm decodes a form body the way PHP fills $_POST. It never fails:
// PHP accepts any body, and what a request lacks is reported by the
// endpoint's parser.
//
//   - Pairs are split on '&' and at the first '='; '+' is a space and %XX a
//     byte, and a '%' not followed by two hex digits stays as it is.
//   - The top-level name is the part before the first '['. Leading spaces
//     are dropped from it, and '.' and ' ' in it become '_'.
//   - A name is cut at a NUL byte.
//   - A '[' with no ']' after it becomes '_', and so do '.', ' ' and '['
//     after it: the name is flat. After the last index, text not starting
//     another '[' is ignored.
//   - A name seen again keeps its first place and takes the last value. A
//     flat value replaces a nested array of the same top-level name, and a
//     nested field replaces a flat value.
//
// Forms no PHP encoder writes (an empty index "a[]", an index nested below
// a flat value) are kept as written, not as PHP would resolve them; their
// signature then fails, which is the answer such a body deserves.
func ParseForm(body []byte) Form {
	return resolve(splitPairs(string(body)))
}

// splitPairs decodes a body into its raw pairs, names normalised.
func splitPairs(body string) []Field {
	var out []Field
	for body != "" {
		var pair string
		pair, body, _ = strings.Cut(body, "&")
		if pair == "" {
			continue
		}
		name, value, _ := strings.Cut(pair, "=")
		n := normalName(unescape(name))
		if n == "" {
			continue
		}
		out = append(out, Field{Name: n, Value: unescape(value)})
	}
	return out
}

// normalName applies PHP's renaming of a variable name; "" means PHP
// skips the pair.
func normalName(name string) string {
	name, _, _ = strings.Cut(name, "\x00") // PHP reads the name as a C string
	name = strings.TrimLeft(name, " ")
	i := strings.IndexByte(name, '[')
	if i < 0 {
		return mangle(name)
	}
	top := mangle(name[:i])
	if top == "" {
		return ""
	}
	rest := name[i:]
	if !strings.Contains(rest, "]") {
		return top + "_" + strings.Map(underscore, rest[1:])
	}
	// Keep the indexes "[a][b]" and drop what follows the last of them.
	var b strings.Builder
	b.WriteString(top)
	for len(rest) > 0 && rest[0] == '[' {
		j := strings.IndexByte(rest, ']')
		if j < 0 {
			break
		}
		b.WriteString(rest[:j+1])
		rest = rest[j+1:]
	}
	return b.String()
}

// mangle turns '.' and ' ' into '_', as PHP does in a top-level name.
func mangle(s string) string {
	if !strings.ContainsAny(s, ". ") {
		return s
	}
	return strings.Map(underscore, s)
}

func underscore(r rune) rune {
	if r == '.' || r == ' ' || r == '[' {
		return '_'
	}
	return r
}

// resolve applies PHP's assignment rules to the raw pairs in order.
func resolve(raw []Field) Form {
	fields := make([]Field, 0, len(raw))
	alive := make([]bool, 0, len(raw))
	at := make(map[string]int, len(raw)) // full name → index
	nested := map[string][]int{}         // top-level name → indexes of its nested fields
	for _, f := range raw {
		top, flat := topName(f.Name)
		if flat {
			for _, i := range nested[top] {
				alive[i] = false
				delete(at, fields[i].Name)
			}
			delete(nested, top)
		} else if i, ok := at[top]; ok {
			alive[i] = false
			delete(at, top)
		}
		if i, ok := at[f.Name]; ok {
			fields[i].Value = f.Value
			continue
		}
		at[f.Name] = len(fields)
		if !flat {
			nested[top] = append(nested[top], len(fields))
		}
		fields = append(fields, f)
		alive = append(alive, true)
	}
	out := fields[:0]
	for i, f := range fields {
		if alive[i] {
			out = append(out, f)
		}
	}
	return Form{fields: out}
}

// topName returns the top-level part of a name and whether the name is
// flat (has no index).
func topName(name string) (string, bool) {
	if i := strings.IndexByte(name, '['); i >= 0 {
		return name[:i], false
	}
	return name, true
}

// Fields returns the form's fields in order.
func (f Form) Fields() []Field {
	return append([]Field(nil), f.fields...)
}

// Value returns a flat field's value and whether the form has it as a
// flat field (a nested array of that name is not a value).
func (f Form) Value(name string) (string, bool) {
	for _, fl := range f.fields {
		if fl.Name == name {
			return fl.Value, true
		}
	}
	return "", false
}

// Get returns a flat field's value, "" when absent.
func (f Form) Get(name string) string {
	v, _ := f.Value(name)
	return v
}

// Nested returns the one-level fields of the array top, such as
// sku[区服]=亚服, in order, named by their index ("区服"). Deeper fields
// are left out.
func (f Form) Nested(top string) []Field {
	var out []Field
	for _, fl := range f.fields {
		t, flat := topName(fl.Name)
		if flat || t != top {
			continue
		}
		idx := fl.Name[len(t):]
		if strings.Count(idx, "[") != 1 {
			continue
		}
		out = append(out, Field{Name: idx[1 : len(idx)-1], Value: fl.Value})
	}
	return out
}

// String lists the form's names, never its values: app_key travels in
// clear among them.
func (f Form) String() string {
	names := make([]string, len(f.fields))
	for i, fl := range f.fields {
		names[i] = fl.Name
	}
	return "form(" + strings.Join(names, " ") + ")"
}

// unescape decodes a form component as PHP's urldecode does: '+' is a
// space, %XX a byte, and any other '%' stays.
func unescape(s string) string {
	if !strings.ContainsAny(s, "+%") {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '+':
			b = append(b, ' ')
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}
