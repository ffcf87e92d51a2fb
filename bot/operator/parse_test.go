package operator

import (
	"cardflow/bot/chat"
	"slices"
	"testing"
)

func TestParseCommandSplitsNameAndArgs(t *testing.T) {
	tests := []struct {
		name     string
		text     string
		wantName string
		wantArgs []string
		wantOK   bool
	}{
		{"plain", "/order 12", "order", []string{"12"}, true},
		{"telegram bot suffix", "/order@cardflow_bot 12", "order", []string{"12"}, true},
		{"spaces and upper case", "  /ORDER   12 ", "order", []string{"12"}, true},
		{"qq mention before command", "@bot /refund 12 buyer asked", "refund", []string{"12", "buyer", "asked"}, true},
		{"two mentions", "@bot @cardflow /pending", "pending", []string{}, true},
		{"no arguments", "/help", "help", []string{}, true},
		{"unicode reason", "/refund 12 买家 申请退款 🙏", "refund", []string{"12", "买家", "申请退款", "🙏"}, true},
		{"full-width space from a Chinese IME", "/order\u300012", "order", []string{"12"}, true},
		{"unicode command name", "/退款 12", "退款", []string{"12"}, true},
		{"tabs and newlines", "\t/stock\nqb-10\r\n", "stock", []string{"qb-10"}, true},
		{"not a command", "order 12", "", nil, false},
		{"slash only", "/", "", nil, false},
		{"empty", "", "", nil, false},
		{"blank", "   \t ", "", nil, false},
		{"mention only", "@bot", "", nil, false},
		{"slash after text", "please /approve 12", "", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name, args, ok := ParseCommand(tt.text)
			if ok != tt.wantOK || name != tt.wantName {
				t.Fatalf("ParseCommand(%q) = %q, %q, %v; want %q, %q, %v", tt.text, name, args, ok, tt.wantName, tt.wantArgs, tt.wantOK)
			}
			if ok && !slices.Equal(args, tt.wantArgs) {
				t.Errorf("ParseCommand(%q) args = %q, want %q", tt.text, args, tt.wantArgs)
			}
		})
	}
}

func TestHandleIgnoresTextThatIsNotACommand(t *testing.T) {
	b := New(Options{Auth: operators})
	for _, text := range []string{"order 12", "", "/", "谢谢", "@bot hello"} {
		t.Run(text, func(t *testing.T) {
			if r, ok := b.Handle(t.Context(), chat.Message{From: adminID, Text: text}); ok {
				t.Errorf("Handle(%q) replied %q; want no reply", text, r.Text)
			}
		})
	}
}

func TestButtonCommandNamesTheTypedCommand(t *testing.T) {
	tests := []struct{ data, want string }{
		{"o:ap:12", "/approve #12"},
		{"o:rf:12", "/refund #12"},
		{"o:rt:7", "/retry #7"},
		{"o:dt:3", "/order #3"},
		{"c:K7P2QX", "/confirm K7P2QX"},
		{"c:", ""},
		{"o:zz:1", ""},
		{"x", ""},
		{"", ""},
		{"o:ap", ""},
		{"o:ap:1:2", ""},
		{"p:ap:1", ""},
	}
	for _, tt := range tests {
		t.Run(tt.data, func(t *testing.T) {
			if got := ButtonCommand(tt.data); got != tt.want {
				t.Errorf("ButtonCommand(%q) = %q, want %q", tt.data, got, tt.want)
			}
		})
	}
}
