package config

import (
	"encoding"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/BurntSushi/toml"

	"cardflow/internal/money"
)

// The toml package stops at the first value it cannot decode. To report every
// wrong value at once, the file is first decoded into a mirror of Config whose
// leaves are toml.Primitive (which accepts any value), then each leaf is
// decoded into its real field on its own. Tables and arrays of tables are
// mirrored, so MetaData.Undecoded still names every unknown key.

var (
	primitiveType   = reflect.TypeFor[toml.Primitive]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
	durationType    = reflect.TypeFor[Duration]()
	amountType      = reflect.TypeFor[money.Amount]()
	secretType      = reflect.TypeFor[Secret]()
)

type decoder struct {
	md      toml.MetaData
	rep     *reporter
	written map[string]bool // indexed keys the file sets
}

// decode fills c from data, reporting problems to rep. It returns the keys the
// file sets, and false when the file could not be decoded at all.
func decode(data string, c *Config, rep *reporter) (map[string]bool, bool) {
	mirror := reflect.New(mirrorOf(reflect.TypeFor[Config]()))
	md, err := toml.Decode(data, mirror.Interface())
	if err != nil {
		rep.tomlError(err)
		return nil, false
	}
	d := &decoder{md: md, rep: rep, written: map[string]bool{}}
	d.fill(mirror.Elem(), reflect.ValueOf(c).Elem(), "")
	d.unknownKeys()
	return d.written, true
}

// isTable reports whether t is decoded from a TOML table.
func isTable(t reflect.Type) bool {
	return t.Kind() == reflect.Struct && !reflect.PointerTo(t).Implements(textUnmarshaler)
}

func isTableArray(t reflect.Type) bool { return t.Kind() == reflect.Slice && isTable(t.Elem()) }

// tomlFields returns the struct fields that are TOML keys.
func tomlFields(t reflect.Type) []reflect.StructField {
	var out []reflect.StructField
	for i := 0; i < t.NumField(); i++ {
		if f := t.Field(i); f.IsExported() && tagName(f) != "" {
			out = append(out, f)
		}
	}
	return out
}

func tagName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
	if name == "-" {
		return ""
	}
	return name
}

func mirrorOf(t reflect.Type) reflect.Type {
	var fields []reflect.StructField
	for _, f := range tomlFields(t) {
		ft := primitiveType
		switch {
		case isTable(f.Type):
			ft = mirrorOf(f.Type)
		case isTableArray(f.Type):
			ft = reflect.SliceOf(mirrorOf(f.Type.Elem()))
		}
		fields = append(fields, reflect.StructField{Name: f.Name, Type: ft, Tag: reflect.StructTag(`toml:"` + tagName(f) + `"`)})
	}
	return reflect.StructOf(fields)
}

// fill copies the mirror into dst; path is the indexed key of dst.
func (d *decoder) fill(mirror, dst reflect.Value, path string) {
	for i := 0; i < mirror.NumField(); i++ {
		f := mirror.Type().Field(i)
		key := joinKey(path, tagName(f))
		src, field := mirror.Field(i), dst.FieldByName(f.Name)
		switch {
		case f.Type == primitiveType:
			if !src.IsZero() { // zero: the key is absent, keep the default
				d.written[key] = true
				d.leaf(src.Interface().(toml.Primitive), field, key)
			}
		case f.Type.Kind() == reflect.Struct:
			d.fill(src, field, key)
		case f.Type.Kind() == reflect.Slice && !src.IsNil():
			d.written[key] = true
			field.Set(reflect.MakeSlice(field.Type(), src.Len(), src.Len()))
			for j := 0; j < src.Len(); j++ {
				d.fill(src.Index(j), field.Index(j), fmt.Sprintf("%s[%d]", key, j))
			}
		}
	}
}

// leaf decodes one value into its field, checking the TOML type first so the
// message can say what to write instead.
func (d *decoder) leaf(p toml.Primitive, field reflect.Value, key string) {
	var raw any
	if err := d.md.PrimitiveDecode(p, &raw); err != nil {
		d.rep.add(key, "cannot read the value: %v", err)
		return
	}
	name := key[strings.LastIndex(key, ".")+1:]
	if !accepts(field.Type(), raw) {
		d.rep.add(key, "must be %s, not %s; write it like %s = %s", describeType(field.Type()), describeValue(raw), name, example(field.Type()))
		return
	}
	if err := d.md.PrimitiveDecode(p, field.Addr().Interface()); err != nil {
		msg := err.Error()
		if pe := (toml.ParseError{}); errors.As(err, &pe) {
			msg = pe.Message
		}
		if field.Type() != durationType { // Duration's message has its own example
			msg += fmt.Sprintf("; write it like %s = %s", name, example(field.Type()))
		}
		d.rep.add(key, "%s", msg)
	}
}

// accepts reports whether a decoded TOML value fits a field of type t. Text
// types (durations, money, secrets) must be strings: toml would otherwise
// format 98.5 as "98.500000" and blame the user for three decimals.
func accepts(t reflect.Type, raw any) bool {
	if reflect.PointerTo(t).Implements(textUnmarshaler) {
		_, ok := raw.(string)
		return ok
	}
	switch t.Kind() {
	case reflect.String:
		_, ok := raw.(string)
		return ok
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		_, ok := raw.(int64)
		return ok
	case reflect.Float32, reflect.Float64:
		switch raw.(type) {
		case int64, float64:
			return true
		}
	case reflect.Bool:
		_, ok := raw.(bool)
		return ok
	case reflect.Slice:
		list, ok := raw.([]any)
		if !ok {
			return false
		}
		for _, v := range list {
			if !accepts(t.Elem(), v) {
				return false
			}
		}
		return true
	}
	return false
}

func describeType(t reflect.Type) string {
	switch {
	case t == durationType:
		return "a duration string"
	case t == amountType:
		return "a decimal string"
	case reflect.PointerTo(t).Implements(textUnmarshaler):
		return "a string"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice:
		return "an array of " + strings.TrimPrefix(strings.TrimPrefix(describeType(t.Elem()), "a "), "an ") + "s"
	}
	return "an integer"
}

func describeValue(raw any) string {
	switch raw.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case []any, []map[string]any:
		return "an array"
	case map[string]any:
		return "a table"
	}
	return "a date/time"
}

func example(t reflect.Type) string {
	switch t {
	case durationType:
		return `"30s"`
	case amountType:
		return `"98.50"`
	case secretType:
		return `"..." (better: name an environment variable in the _env key)`
	}
	switch t.Kind() {
	case reflect.String:
		return `"..."`
	case reflect.Float32, reflect.Float64:
		return "0.5"
	case reflect.Bool:
		return "true"
	case reflect.Slice:
		return `["a", "b"]`
	}
	return "10"
}
