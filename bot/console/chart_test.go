package console

import (
	"bytes"
	"cardflow/bot/chat"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// pngBytes stands for a chart: the console stores whatever it is given.
var pngBytes = []byte("\x89PNG\r\n\x1a\n fake chart bytes")

func TestSendWritesTheChartAndPrintsItsPath(t *testing.T) {
	// Input: a report with a photo named report-2026-11-24.png and a
	// button, sent to a console whose chart directory does not exist yet.
	dir := filepath.Join(t.TempDir(), "charts")
	var out bytes.Buffer
	c := New(nil, nil, &out, "ops", WithChartDir(dir))
	_, err := c.Send(Dest, chat.Reply{Text: "📊 日报 2026-11-24\n订单 120", Buttons: []chat.Button{{Label: "批准", Data: "o:ap:2"}},
		Photo: &chat.Photo{Name: "report-2026-11-24.png", PNG: pngBytes}})
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	path := filepath.Join(dir, "report-2026-11-24.png")
	got, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(got, pngBytes) {
		t.Fatalf("chart file: %v, %q", err, got)
	}
	want := "📊 日报 2026-11-24\n订单 120\n📈 " + path + "\n[批准: /approve #2]\n"
	if out.String() != want {
		t.Errorf("output %q, want %q", out.String(), want)
	}
	if runtime.GOOS != "windows" {
		if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
			t.Errorf("chart file mode %v, want 0600", fi.Mode().Perm())
		}
		if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
			t.Errorf("chart directory mode %v, want 0700", fi.Mode().Perm())
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("directory holds %d entries, want the chart alone", len(entries))
	}

	// Input: the same name again, newer bytes: the file is replaced.
	out.Reset()
	if _, err := c.Send(Dest, chat.Reply{Text: "again", Photo: &chat.Photo{Name: "report-2026-11-24.png", PNG: []byte("v2")}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); string(got) != "v2" || !strings.Contains(out.String(), "📈 "+path+"\n") {
		t.Errorf("second chart: file %q, output %q", got, out.String())
	}
}

func TestChartNamesStayInTheChartDirectory(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		// Input: names that try to leave the directory, or are none.
		{"../../etc/cron.d/evil.png", "evil.png"},
		{"..", "chart.png"},
		{"", "chart.png"},
		{"/", "chart.png"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			var out bytes.Buffer
			c := New(nil, nil, &out, "ops", WithChartDir(dir))
			if _, err := c.Send(Dest, chat.Reply{Text: "x", Photo: &chat.Photo{Name: tc.name, PNG: pngBytes}}); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, tc.want)
			if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, pngBytes) {
				t.Errorf("%s: %v", path, err)
			}
			if !strings.Contains(out.String(), "📈 "+path+"\n") {
				t.Errorf("output %q does not show %s", out.String(), path)
			}
		})
	}
}

func TestChartDirDefaultsToADirectoryInTheTempDir(t *testing.T) {
	// Input: no chart directory; TMPDIR points at a fresh directory.
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	var out bytes.Buffer
	c := New(nil, nil, &out, "ops")
	if _, err := c.Send(Dest, chat.Reply{Text: "x", Photo: &chat.Photo{Name: "r.png", PNG: pngBytes}}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(os.TempDir(), "cardflow-charts", "r.png")
	if !strings.HasPrefix(path, tmp) {
		t.Skipf("os.TempDir() ignores TMPDIR here (%s)", os.TempDir())
	}
	if _, err := os.Stat(path); err != nil || !strings.Contains(out.String(), "📈 "+path+"\n") {
		t.Errorf("chart at %s: %v; output %q", path, err, out.String())
	}
}

func TestChartThatCannotBeSavedIsSaidAndTheTextStillPrinted(t *testing.T) {
	// Input: a chart directory path that is a regular file.
	file := filepath.Join(t.TempDir(), "not-a-dir")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	c := New(nil, nil, &out, "ops", WithChartDir(file))
	if _, err := c.Send(Dest, chat.Reply{Text: "📊 日报", Photo: &chat.Photo{Name: "r.png", PNG: pngBytes}}); err != nil {
		t.Fatalf("send: %v", err)
	}
	if !strings.HasPrefix(out.String(), "📊 日报\n📈 chart not saved: ") {
		t.Errorf("output %q", out.String())
	}
}
