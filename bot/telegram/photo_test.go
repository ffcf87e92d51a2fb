package telegram

import (
	"bytes"
	"errors"
	"image"
	"image/png"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"cardflow/bot/chat"
	"cardflow/report"
	"cardflow/report/daily"
)

// reportButtons are what a daily report might carry.
var reportButtons = []chat.Button{{Label: "待处理", Data: "pending"}, {Label: "供应商", Data: "suppliers"}}

// chartPNG is the chart of an empty day, drawn as the report draws it.
func chartPNG(t *testing.T) []byte {
	t.Helper()
	start := time.Date(2026, 11, 24, 0, 0, 0, 0, chat.Shanghai())
	f := &report.Figures{From: start, To: start.Add(24 * time.Hour)}
	for i := range 24 {
		f.Hours = append(f.Hours, report.HourFigures{Start: start.Add(time.Duration(i) * time.Hour)})
	}
	b, err := daily.Chart(f, chat.LangZH)
	if err != nil {
		t.Fatalf("chart: %v", err)
	}
	return b
}

// smallPNG is a 4×4 PNG, for tests that only need some image.
func smallPNG(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 4, 4))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// longReport is a report of about 3000 Chinese characters in 100 lines.
func longReport() string {
	lines := []string{"📊 日报 2026-11-24"}
	for len(lines) < 100 {
		lines = append(lines, "供应商福禄：成功率百分之九十九，平均耗时二点三秒，坏卡零张。")
	}
	return strings.Join(lines, "\n")
}

func utf16Units(s string) int { return len(utf16.Encode([]rune(s))) }

func TestSendPhotoWithAShortTextIsOneMessageWithCaptionAndButtons(t *testing.T) {
	// Input: the chart PNG named report-2026-11-24.png with a 3-line report
	// and two buttons.
	f := newFixture(t)
	pic := chartPNG(t)
	text := "📊 日报 2026-11-24\n订单 120，已发货 118\n成功率 98.3%"
	id, err := f.ad.Send(groupChat, chat.Reply{Text: text, Buttons: reportButtons,
		Photo: &chat.Photo{Name: "report-2026-11-24.png", PNG: pic}})
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	msgs := f.fake.Messages(group)
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want the photo alone: %+v", len(msgs), msgs)
	}
	m := msgs[0]
	if id != strconv.Itoa(m.ID) {
		t.Errorf("Send returned %s, the photo is %d", id, m.ID)
	}
	if !bytes.Equal(m.Photo, pic) || m.PhotoName != "report-2026-11-24.png" {
		t.Errorf("photo %q of %d bytes, want the chart's %d", m.PhotoName, len(m.Photo), len(pic))
	}
	if m.Caption != text || m.Text != "" {
		t.Errorf("caption %q, text %q; want the report as the caption", m.Caption, m.Text)
	}
	if got := m.Buttons(); len(got) != 2 || got[0].Data != "pending" || got[1].Data != "suppliers" {
		t.Errorf("buttons on the photo = %v", got)
	}
	if n := f.fake.Calls("sendMessage"); n != 0 {
		t.Errorf("sendMessage called %d times", n)
	}
}

func TestSendPhotoWithALongTextSendsThePhotoThenTheText(t *testing.T) {
	// Input: a 100-line report of about 3000 Chinese characters (over the
	// 1024 caption limit, under the 4096 text limit) and two buttons.
	f := newFixture(t)
	text := longReport()
	if n := utf16Units(text); n < 2900 || n > 4096 {
		t.Fatalf("the report is %d units; the test wants about 3000", n)
	}
	id, err := f.ad.Send(groupChat, chat.Reply{Text: text, Buttons: reportButtons,
		Photo: &chat.Photo{Name: "report.png", PNG: smallPNG(t)}})
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	msgs := f.fake.Messages(group)
	if len(msgs) != 2 {
		t.Fatalf("%d messages, want the photo and the text", len(msgs))
	}
	photo, msg := msgs[0], msgs[1]
	if photo.Photo == nil || photo.Caption != "📊 日报 2026-11-24" || len(photo.Keyboard) != 0 {
		t.Errorf("photo: caption %q, keyboard %v; want the first line and no buttons", photo.Caption, photo.Keyboard)
	}
	if msg.Photo != nil || msg.Text != text || len(msg.Buttons()) != 2 {
		t.Errorf("text message: %d units, buttons %v; want the whole report with the buttons", utf16Units(msg.Text), msg.Buttons())
	}
	if id != strconv.Itoa(msg.ID) {
		t.Errorf("Send returned %s, want the text message %d (edits target it)", id, msg.ID)
	}
}

func TestSendPhotoCountsTheCaptionInUTF16Units(t *testing.T) {
	for _, tc := range []struct {
		name     string
		text     string
		messages int
	}{
		// Input: 512 emoji, 1024 UTF-16 units: exactly a caption.
		{"1024 units", strings.Repeat("🔍", 512), 1},
		// Input: 513 emoji: 513 characters but 1026 units, too long.
		{"1026 units", strings.Repeat("🔍", 513), 2},
		// Input: 1024 Chinese characters, one unit each.
		{"1024 chinese", strings.Repeat("审", 1024), 1},
		// Input: a one-line text of 1100 characters: the caption is cut.
		{"one long line", strings.Repeat("a", 1100), 2},
		// Input: no text at all: the photo alone.
		{"no text", "", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			_, err := f.ad.Send(groupChat, chat.Reply{Text: tc.text, Photo: &chat.Photo{Name: "c.png", PNG: smallPNG(t)}})
			if err != nil {
				t.Fatalf("send: %v", err)
			}
			msgs := f.fake.Messages(group)
			if len(msgs) != tc.messages {
				t.Fatalf("%d messages, want %d", len(msgs), tc.messages)
			}
			if n := utf16Units(msgs[0].Caption); n > maxCaption {
				t.Errorf("caption of %d units", n)
			}
			if tc.messages == 2 && msgs[1].Text != tc.text {
				t.Errorf("the text message is not the whole text")
			}
		})
	}
}

func TestSendPhotoRateLimitedIsARateLimitError(t *testing.T) {
	// Input: the fake answers the next sendPhoto with 429, retry_after 11.
	f := newFixture(t)
	f.fake.RateLimit("sendPhoto", 1, 11)
	r := chat.Reply{Text: "📊 日报", Photo: &chat.Photo{Name: "r.png", PNG: smallPNG(t)}}
	_, err := f.ad.Send(groupChat, r)
	var rl *chat.RateLimitError
	if !errors.As(err, &rl) || rl.RetryAfter != 11*time.Second {
		t.Fatalf("err = %v, want a RateLimitError of 11s", err)
	}
	if n := len(f.fake.Messages(group)); n != 0 {
		t.Errorf("%d messages sent", n)
	}
	if _, err := f.ad.Send(groupChat, r); err != nil {
		t.Errorf("send after the limit: %v", err)
	}

	// Input: the photo of a long report goes out, its text is rate limited.
	f.fake.RateLimit("sendMessage", 1, 4)
	_, err = f.ad.Send(groupChat, chat.Reply{Text: longReport(), Photo: &chat.Photo{Name: "r.png", PNG: smallPNG(t)}})
	if !errors.As(err, &rl) || rl.RetryAfter != 4*time.Second {
		t.Errorf("err = %v, want a RateLimitError of 4s from the text", err)
	}
}

func TestSendPhotoErrorsAreMappedAndNeverShowTheToken(t *testing.T) {
	// Input: Telegram refuses the photo as not an image (400), and the
	// group has kicked the bot (403).
	f := newFixture(t)
	for _, tc := range []struct {
		name, want string
		pic        []byte
		setup      func()
	}{
		{"not an image", "IMAGE_PROCESS_FAILED", []byte("not a png"), func() {}},
		{"kicked", "kicked", smallPNG(t), func() { f.fake.FailNext("sendPhoto", 403, "", 0) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.setup()
			_, err := f.ad.Send(groupChat, chat.Reply{Text: "x", Photo: &chat.Photo{Name: "r.png", PNG: tc.pic}})
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), token) {
				t.Errorf("err = %v, want one saying %q without the token", err, tc.want)
			}
			var rl *chat.RateLimitError
			if errors.As(err, &rl) {
				t.Errorf("mapped as a rate limit: %v", err)
			}
		})
	}
}

func TestPhotoName(t *testing.T) {
	for in, want := range map[string]string{
		"report-2026-11-24.png": "report-2026-11-24.png",
		"../../etc/passwd.png":  "passwd.png",
		`C:\tmp\r.png`:          "r.png",
		"":                      "chart.png",
		"/":                     "chart.png",
		"..":                    "chart.png",
	} {
		if got := photoName(in); got != want {
			t.Errorf("photoName(%q) = %q, want %q", in, got, want)
		}
	}
}
