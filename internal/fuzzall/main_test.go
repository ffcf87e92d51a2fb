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

func TestDeadlineFlakeIsOnlyTheBareDeadlineFailure(t *testing.T) {
	// The output of the CI run that failed FuzzSignThenCheck with no input.
	flake := "fuzz: elapsed: 3s, execs: 32869 (10956/sec), new interesting: 0 (total: 20)\n" +
		"--- FAIL: FuzzSignThenCheck (3.09s)\n    context deadline exceeded\nFAIL\nexit status 1\n" +
		"FAIL\tcardflow/internal/signing\t3.097s\n"
	if !deadlineFlake(flake) {
		t.Fatal("the bare deadline failure is not recognised")
	}
	for name, out := range map[string]string{
		"a failing input": "--- FAIL: FuzzLoad (0.20s)\n    --- FAIL: FuzzLoad (0.00s)\n        load_test.go:40: bad\n" +
			"    Failing input written to testdata/fuzz/FuzzLoad/abc\n",
		"a panic with the deadline": "--- FAIL: FuzzLoad (3.00s)\n    context deadline exceeded\npanic: boom\n",
		"a t.Error mentioning it":   "--- FAIL: FuzzX (1.00s)\n    x_test.go:9: context deadline exceeded\n",
		"a build failure":           "# cardflow/config\nconfig/load.go:3:1: syntax error\nFAIL\tcardflow/config [build failed]\n",
	} {
		if deadlineFlake(out) {
			t.Errorf("%s is taken for the deadline flake", name)
		}
	}
}
