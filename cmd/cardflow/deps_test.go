package main

import (
	"os/exec"
	"strings"
	"testing"
)

// notInTheService are packages the service binary must not link: load
// tools and test helpers. They live in cmd/cardflow-bench and the tests.
var notInTheService = []string{
	"cardflow/internal/loadgen",
	"cardflow/internal/testkit",
	"cardflow/internal/diskfault",
	"cardflow/internal/chatcheck",
	"cardflow/api/dujiao/djshop", // fake docking shops
	"cardflow/api/acgfaka/acgshop",
	"cardflow/internal/dockingtest",
	"cardflow/internal/pgtest",
	"cardflow/internal/teststore",
	"testing",
	"net/http/httptest",
}

// TestTheServiceBinaryLinksNoFakeAndNoLoadGenerator: what `cardflow serve`
// runs in production carries no fake (suppliers/fulu/fulufake and the
// like), no load generator and no test helper; the bench is a command of
// its own.
func TestTheServiceBinaryLinksNoFakeAndNoLoadGenerator(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	var linked []string
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "cardflow/") && strings.Contains(pkg, "fake") {
			linked = append(linked, pkg)
		}
		for _, no := range notInTheService {
			if pkg == no {
				linked = append(linked, pkg)
			}
		}
	}
	if len(linked) > 0 {
		t.Errorf("cmd/cardflow links %s", strings.Join(linked, ", "))
	}
}
