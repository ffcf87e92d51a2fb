package operator

import (
	"math"
	"strings"
	"testing"

	"cardflow/storage"
)

// TestButtonDataOfEveryKindReadsAndWritesAsBefore: the data buttons carry
// in chats today decodes to what it meant and encodes back to the same
// bytes, and stands for the same typed command.
func TestButtonDataOfEveryKindReadsAndWritesAsBefore(t *testing.T) {
	for _, tc := range []struct {
		data    string
		want    button
		command string
	}{
		{"o:ap:12", button{kind: btnApprove, order: 12}, "/approve #12"},
		{"o:rt:12", button{kind: btnRetry, order: 12}, "/retry #12"},
		{"o:rf:12", button{kind: btnRefund, order: 12}, "/refund #12"},
		{"o:rf:12:r", button{kind: btnRefund, order: 12, from: storage.StatusReview}, "/refund #12"},
		{"o:rf:12:f", button{kind: btnRefund, order: 12, from: storage.StatusFailed}, "/refund #12"},
		{"o:dt:12", button{kind: btnDetails, order: 12}, "/order #12"},
		{"o:dt:0", button{kind: btnDetails}, "/order #0"},
		{"s:pa:fulu", button{kind: btnPause, name: "fulu"}, "/pause fulu"},
		{"s:pa:qb-100", button{kind: btnPause, name: "qb-100"}, "/pause qb-100"},
		{"s:si:supplier_down:fulu", button{kind: btnSilence, name: "supplier_down:fulu"}, "/silence supplier_down:fulu 1h"},
		{"s:si:backlog:outbox", button{kind: btnSilence, name: "backlog:outbox"}, "/silence backlog:outbox 1h"},
		{"c:K7M2QX", button{kind: btnConfirm, name: "K7M2QX"}, "/confirm K7M2QX"},
		{"k:ri:3", button{kind: btnClaimReissue, claim: 3}, "/claim 3 reissue"},
		{"k:rf:3", button{kind: btnClaimRefund, claim: 3}, "/claim 3 refund"},
		// A rejection takes a reason: the typed form says where it goes.
		{"k:rj:3", button{kind: btnClaimReject, claim: 3}, "/claim 3 reject <reason>"},
	} {
		got, ok := decodeButton(tc.data)
		if !ok || got != tc.want {
			t.Errorf("decode(%q) = %+v %v, want %+v", tc.data, got, ok, tc.want)
			continue
		}
		if enc := got.encode(); enc != tc.data {
			t.Errorf("encode(decode(%q)) = %q", tc.data, enc)
		}
		if c := ButtonCommand(tc.data); c != tc.command {
			t.Errorf("ButtonCommand(%q) = %q, want %q", tc.data, c, tc.command)
		}
	}
}

// TestTheLongestButtonDataFitsTelegram: Telegram drops callback data over
// 64 bytes. The longest ids and config names (supplier names have at most
// 32 characters) still fit.
func TestTheLongestButtonDataFitsTelegram(t *testing.T) {
	supplier := strings.Repeat("s", 32)
	for _, btn := range []button{
		refundButtonFrom(math.MaxUint64, storage.StatusReview),
		orderButton(btnApprove, math.MaxUint64),
		orderButton(btnDetails, math.MaxUint64),
		{kind: btnPause, name: supplier},
		{kind: btnSilence, name: "supplier_down:" + supplier},
		{kind: btnConfirm, name: strings.Repeat("Z", confirmLen)},
	} {
		if data := btn.encode(); len(data) > 64 {
			t.Errorf("%q is %d bytes, over 64", data, len(data))
		}
	}
}

// TestForgedButtonIDsStandForNoCommand: ids are written without leading
// zeros, so "o:ap:007" is no button of ours; ButtonCommand now refuses it as
// a press always did.
func TestForgedButtonIDsStandForNoCommand(t *testing.T) {
	for _, data := range []string{"o:ap:007", "o:ap:abc", "o:ap:", "o:rf:12:x", "o:dt:12:r", "o:ap:18446744073709551616",
		"k:rj:03", "k:rj:0", "k:rj:", "k:ri:3:r", "k:xx:3"} {
		if c := ButtonCommand(data); c != "" {
			t.Errorf("ButtonCommand(%q) = %q, want none", data, c)
		}
	}
}
