package main

import (
	"slices"
	"strings"
	"testing"
)

func TestParseListAssignsNamesToTheirPackage(t *testing.T) {
	out := "?   \tcardflow/cmd/cardflow\t[no test files]\n" +
		"FuzzLoad\nok  \tcardflow/config\t0.010s\n" +
		"ok  \tcardflow/processor\t0.020s\n" +
		"FuzzSignThenCheck\nFuzzCheckHeaders\nok  \tcardflow/internal/signing\t0.005s\n"
	got, err := parseList(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	want := []target{{"cardflow/config", "FuzzLoad"}, {"cardflow/internal/signing", "FuzzSignThenCheck"},
		{"cardflow/internal/signing", "FuzzCheckHeaders"}}
	if !slices.Equal(got, want) {
		t.Fatalf("parseList = %v, want %v", got, want)
	}
}

func TestParseListRefusesOutputItCannotPlace(t *testing.T) {
	for name, out := range map[string]string{
		"a failed package":       "FAIL\tcardflow/api [build failed]\n",
		"names without package":  "FuzzLoad\n",
		"something else printed": "FuzzLoad\nhello from init\nok  \tcardflow/config\t0.010s\n",
	} {
		t.Run(name, func(t *testing.T) {
			if got, err := parseList(strings.NewReader(out)); err == nil {
				t.Fatalf("parseList = %v, want an error", got)
			}
		})
	}
}
