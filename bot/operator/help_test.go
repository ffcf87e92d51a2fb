package operator

import (
	"context"
	"os"
	"path/filepath"
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
