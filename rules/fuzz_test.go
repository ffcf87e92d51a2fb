package rules

import (
	"runtime/metrics"
	"testing"

	"github.com/expr-lang/expr/vm"
)

// FuzzAnAcceptedRuleStaysWithinItsLimits: whatever an operator types, an
// expression that Compile accepts allocates at most a MiB on one
// evaluation, even on the longest order intake accepts and with expr's own
// (much larger) memory budget. The seeds include the ways found to exhaust
// the service.
func FuzzAnAcceptedRuleStaysWithinItsLimits(f *testing.F) {
	for _, seed := range []string{
		`order.amount > 500`, `buyer.orders_1h >= 5`, `now.hour in 0..5`, `buyer.ip in ["203.0.113.7"]`,
		`lower(buyer.contact) matches "^[0-9]+@qq\\.com$"`, `len(buyer.account) != 11 && buyer.id startsWith "x"`,
		`len(repeat("…", 999999)) > 0`, `buyer.contact matches buyer.id`, `len(0..999999) > 0`,
		`all(1..1000, {all(1..1000, {# > 0})})`, `len(replace(replace(buyer.id, "", buyer.id), "", buyer.id)) > 0`,
		`let a = buyer.id + buyer.id; let b = a + a; let c = b + b; len(c + c) > 0`,
		`len(join(map(1..1000, {buyer.contact}), buyer.contact)) > 0`, `len(toJSON(1..1000)) > 0`,
	} {
		f.Add(seed)
	}
	envs := probes()
	// Bytes allocated so far, without stopping the world as ReadMemStats does.
	allocated := func() uint64 {
		s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
		metrics.Read(s)
		return s[0].Value.Uint64()
	}
	f.Fuzz(func(t *testing.T, when string) {
		prog, err := Compile(when)
		if err != nil {
			return
		}
		for _, env := range envs {
			before := allocated()
			_, _ = vm.Run(prog, &env)
			if n := allocated() - before; n > 1<<20 {
				t.Fatalf("%s was accepted and allocated %d bytes on one evaluation", when, n)
			}
		}
	})
}
