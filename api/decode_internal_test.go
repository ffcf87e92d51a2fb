package api

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"cardflow/processor"
)

// TestEveryStringFieldOfAnOrderIsCheckedForControlCharacters walks orderBody
// by reflection, so a string field added later without a check in
// checkText fails here: each one, set to text with a right-to-left
// override, must be refused naming its field (external_id by its own
// pattern, at intake).
func TestEveryStringFieldOfAnOrderIsCheckedForControlCharacters(t *testing.T) {
	var leaves []string
	var walk func(typ reflect.Type, prefix string)
	walk = func(typ reflect.Type, prefix string) {
		for i := range typ.NumField() {
			f := typ.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			switch {
			case ft.Kind() == reflect.Struct:
				walk(ft, prefix+name+".")
			case ft.Kind() == reflect.String, ft.Kind() == reflect.Map && ft.Elem().Kind() == reflect.String:
				leaves = append(leaves, prefix+name)
			}
		}
	}
	walk(reflect.TypeFor[orderBody](), "")
	if len(leaves) < 7 {
		t.Fatalf("found only the string fields %v", leaves)
	}
	for _, leaf := range leaves {
		if leaf == "external_id" {
			continue // [A-Za-z0-9._:-] only, checked at intake
		}
		cases := map[string]any{leaf: "x\u202ey"} // want the error on field leaf
		if leaf == "extra" {
			cases = map[string]any{"extra": map[string]string{"k": "x\u202ey"}, "extra ": map[string]string{"k\u202e": "v"}}
		}
		for want, value := range cases {
			body := map[string]any{"external_id": "E1", "sku": "qb-100", "quantity": 1, "amount": "1.00",
				"buyer": map[string]any{"id": "u"}}
			top, sub, nested := strings.Cut(strings.TrimSpace(want), ".")
			if nested {
				body[top].(map[string]any)[sub] = value
			} else {
				body[top] = value
			}
			raw, _ := json.Marshal(body)
			_, err := decodeOrder("shop1", raw)
			field := strings.TrimSpace(want)
			if want == "extra" {
				field = "extra.k"
			}
			var in *processor.InputError
			if !errors.As(err, &in) || in.Field != field || in.Code != processor.CodeInvalidRequest {
				t.Errorf("%s with U+202E: %v, want invalid_request on %s", want, err, field)
			}
		}
	}
}
