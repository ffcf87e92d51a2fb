package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestReadmeShellSigningExample runs the README's shell signing snippet,
// exactly as written there, against the real binary: a storefront developer
// who copies it gets a 201.
func TestReadmeShellSigningExample(t *testing.T) {
	for _, tool := range []string{"bash", "openssl", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(readme), "<!-- signing-example -->\n```sh\n")
	snippet, _, ok2 := strings.Cut(after, "```")
	if !ok || !ok2 {
		t.Fatal("README has no signing example block")
	}
	s := newService(t, `
[[products]]
sku = "qb-100"
name = "Q币 100元"
  [[products.sources]]
  supplier = "own"
`)
	p := s.start(t)
	cmd := exec.Command("bash", "-c", snippet)
	cmd.Env = append(os.Environ(), "SHOP_SECRET="+testShopSecret, "SHOP_ID=shop1", "CARDFLOW_URL=http://"+s.apiAddr)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("snippet failed: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), `"external_id":"T20261125-0001"`) || !strings.Contains(string(out), `"status":"pending"`) {
		t.Fatalf("snippet answer:\n%s", out)
	}
	p.interrupt(t)
}
