package operator

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"cardflow/bot/chat"
)

// TestHelpIsTheSameTextAsBefore: /help, now written from the command table,
// says byte for byte what the one catalogue string said, in both languages
// and for every role (testdata/help.*.txt hold that string).
func TestHelpIsTheSameTextAsBefore(t *testing.T) {
	for _, lang := range []string{chat.LangZH, chat.LangEN} {
		want, err := os.ReadFile(filepath.Join("testdata", "help."+lang+".txt"))
		if err != nil {
			t.Fatal(err)
		}
		b := New(Options{Language: lang, Auth: operators})
		for _, who := range []chat.Identity{viewerID, aliceID, adminID} {
			for _, text := range []string{"/help", "/start"} {
				r, ok := b.Handle(context.Background(), chat.Message{From: who, Text: text})
				if !ok || r.Text != string(want) || len(r.Buttons) != 0 {
					t.Errorf("%s %s by %s =\n%s\nwant\n%s", lang, text, who.Name, r.Text, want)
				}
			}
		}
	}
}

// TestEveryCommandIsInHelpAndEveryHelpLineIsACommand: /help is the table,
// in both languages: each entry has lines that start with its name, and
// each line of /help after the header names an entry.
func TestEveryCommandIsInHelpAndEveryHelpLineIsACommand(t *testing.T) {
	for _, lang := range []string{chat.LangZH, chat.LangEN} {
		b := New(Options{Language: lang, Auth: operators})
		r, _ := b.Handle(context.Background(), chat.Message{From: viewerID, Text: "/help"})
		lines := strings.Split(r.Text, "\n")[1:]
		for _, c := range b.commands {
			if len(c.help) == 0 {
				t.Errorf("%s: /%s has no /help line", lang, c.name)
			}
			for _, key := range c.help {
				line := chat.T(lang, key)
				if !slices.Contains(lines, line) || !strings.HasPrefix(line, "/"+c.name+" ") {
					t.Errorf("%s: /%s's help line %q (%s) is not a line of /help about it", lang, c.name, line, key)
				}
			}
		}
		for _, line := range lines {
			name, _, _ := ParseCommand(line)
			if _, ok := b.commands.find(name); !ok {
				t.Errorf("%s: /help line %q names no command of the table", lang, line)
			}
		}
	}
}

// TestCommandsNotDispatchedHereAreUnknownAsBefore: /inbox is answered by
// the QQ channel before the operator layer sees it; /import only as a
// document's caption. Typed to the handler both are unknown commands, as is
// anything else not in the table — and a stranger learns none of that.
func TestCommandsNotDispatchedHereAreUnknownAsBefore(t *testing.T) {
	f := newFixture(t)
	b := f.bot(chat.LangEN)
	for _, text := range []string{"/inbox", "/import qb-10", "/frobnicate"} {
		name, _, _ := ParseCommand(text)
		if r := f.send(b, adminID, text); r.Text != "Unknown command /"+name+"; send /help for the list." {
			t.Errorf("%s by an admin = %q", text, r.Text)
		}
	}
	if r := f.send(b, strangerID, "/frobnicate"); r.Text != chat.T(chat.LangEN, "not_operator") {
		t.Errorf("/frobnicate by a stranger = %q, want the stranger's refusal", r.Text)
	}
}
