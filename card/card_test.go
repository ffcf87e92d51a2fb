package card

import (
	"fmt"
	"strings"
	"testing"
)

func TestCardNeverPrintsItsSecret(t *testing.T) {
	c := Card{Number: "SECRETNUMBER9876", Password: "SECRETPASS"}
	for _, format := range []string{"%v", "%+v", "%s", "%#v"} {
		out := fmt.Sprintf(format, c)
		if strings.Contains(out, "SECRETNUMBER") || strings.Contains(out, "SECRETPASS") {
			t.Errorf("%s printed %q", format, out)
		}
		if !strings.Contains(out, "9876") {
			t.Errorf("%s = %q; want the last 4 characters", format, out)
		}
	}
	if Mask("abc") != "****" || Mask("卡密一二三四五") != "****二三四五" {
		t.Errorf("Mask = %q, %q", Mask("abc"), Mask("卡密一二三四五"))
	}
}
