package daily

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"strings"
	"testing"
	"time"

	"cardflow/bot/chat"
	"cardflow/report"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
)

// Delivery histogram buckets (upper bound 50 ms × √2^i): 10 ≈ 1.6 s,
// 14 ≈ 6.4 s, 18 ≈ 25.6 s.
const (
	bucketFast = 10
	bucketMid  = 14
	bucketSlow = 18
)

// dayFigures is a day of a shop in Shanghai from local midnight: quiet at
// night, busy in the evening, most deliveries in seconds, a slow tail, and
// no delivery at all from 03:00 to 06:59.
func dayFigures(start time.Time, hours int) *report.Figures {
	f := &report.Figures{From: start, To: start.Add(time.Duration(hours) * time.Hour)}
	for i := range hours {
		h := report.HourFigures{Start: start.Add(time.Duration(i) * time.Hour)}
		hour := h.Start.Hour()
		if hour < 3 || hour >= 7 {
			h.Orders = 5 + hour*3 + i%5
			h.Delivered = h.Orders - i%3
			h.Delivery[bucketFast] = h.Delivered * 8 / 10
			h.Delivery[bucketMid] = h.Delivered - h.Delivered*8/10 - 1
			h.Delivery[bucketSlow] = 1
		}
		f.Orders += h.Orders
		f.Delivered += h.Delivered
		f.Hours = append(f.Hours, h)
	}
	return f
}

func decode(t *testing.T, b []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	if got := img.Bounds().Size(); got != image.Pt(chartWidth, chartHeight) {
		t.Fatalf("size = %v, want %dx%d", got, chartWidth, chartHeight)
	}
	return img
}

// pixels counts the pixels of exactly colour c.
func pixels(img image.Image, c color.Color) int {
	want := color.RGBAModel.Convert(c)
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if color.RGBAModel.Convert(img.At(x, y)) == want {
				n++
			}
		}
	}
	return n
}

func colours(img image.Image) int {
	seen := map[color.Color]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			seen[color.RGBAModel.Convert(img.At(x, y))] = true
		}
	}
	return len(seen)
}

func TestChartOfADayIsAPNGWithBarsAndLines(t *testing.T) {
	// Input: 24 hours from 2026-11-24 00:00 Shanghai, 5-80 orders an hour,
	// deliveries of 1-25 s, none from 03:00 to 06:59.
	f := dayFigures(time.Date(2026, 11, 24, 0, 0, 0, 0, chat.Shanghai()), 24)
	b, err := Chart(f, chat.LangZH)
	if err != nil {
		t.Fatalf("Chart: %v", err)
	}
	img := decode(t, b)
	if n := colours(img); n < 10 {
		t.Errorf("%d colours: the chart looks blank", n)
	}
	// The orders bars are solid fill: a good part of the top panel.
	if n := pixels(img, colorOrders); n < 10000 {
		t.Errorf("%d pixels of the orders bars, want a good many", n)
	}
	// The p95 line is drawn (anti-aliased, so some pixels are exact).
	if n := pixels(img, colorP95); n == 0 {
		t.Errorf("no pixel of the p95 line")
	}
}

func TestChartOfAnEmptyDayStillDraws(t *testing.T) {
	// Input: 24 hours with every counter zero.
	start := time.Date(2026, 11, 24, 0, 0, 0, 0, chat.Shanghai())
	f := &report.Figures{From: start, To: start.Add(24 * time.Hour)}
	for i := range 24 {
		f.Hours = append(f.Hours, report.HourFigures{Start: start.Add(time.Duration(i) * time.Hour)})
	}
	b, err := Chart(f, chat.LangEN)
	if err != nil {
		t.Fatalf("Chart: %v", err)
	}
	img := decode(t, b)
	if n := colours(img); n < 3 {
		t.Errorf("%d colours: not even axes and labels", n)
	}
	// Only the legend's swatch (about 300 pixels) has the bars' colour.
	if n := pixels(img, colorOrders); n > 1000 {
		t.Errorf("%d pixels of orders bars on a day without orders", n)
	}
}

func TestChartWithoutHoursStillDraws(t *testing.T) {
	// Input: a period of no length (From == To), so no hours at all.
	at := time.Date(2026, 11, 24, 0, 0, 0, 0, chat.Shanghai())
	b, err := Chart(&report.Figures{From: at, To: at}, chat.LangZH)
	if err != nil {
		t.Fatalf("Chart: %v", err)
	}
	decode(t, b)
}

func TestChartOfSevenDaysDraws(t *testing.T) {
	// Input: 168 hours from 2026-11-18 00:00 Shanghai, busy as dayFigures.
	f := dayFigures(time.Date(2026, 11, 18, 0, 0, 0, 0, chat.Shanghai()), 168)
	b, err := Chart(f, chat.LangZH)
	if err != nil {
		t.Fatalf("Chart: %v", err)
	}
	img := decode(t, b)
	if n := pixels(img, colorOrders); n < 5000 {
		t.Errorf("%d pixels of the orders bars, want a good many", n)
	}
}

func TestChartOfNilFiguresIsAnError(t *testing.T) {
	// Input: nil.
	if _, err := Chart(nil, chat.LangZH); err == nil {
		t.Error("Chart(nil) succeeded")
	}
}

func TestQuantileRunsLeaveGapsForHoursWithoutDeliveries(t *testing.T) {
	// Input: 6 hours; deliveries in hours 0, 1, 3 and 5; hours 2 and 4 have
	// orders but nothing delivered.
	hours := make([]report.HourFigures, 6)
	for _, i := range []int{0, 1, 3, 5} {
		hours[i].Delivery[bucketFast] = 4
	}
	hours[2].Orders, hours[4].Orders = 3, 1
	runs := quantileRuns(hours, 0.5)
	var got []string
	for _, run := range runs {
		var xs []string
		for _, p := range run {
			xs = append(xs, fmt.Sprint(p.X))
			if p.Y <= 0 || p.Y > 2 {
				t.Errorf("p50 at x=%v is %v s, want in (0, 1.6]", p.X, p.Y)
			}
		}
		got = append(got, strings.Join(xs, ","))
	}
	if want := []string{"0.5,1.5", "3.5", "5.5"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("runs at %v, want %v", got, want)
	}
	// And the chart of such hours draws.
	start := time.Date(2026, 11, 24, 0, 0, 0, 0, chat.Shanghai())
	for i := range hours {
		hours[i].Start = start.Add(time.Duration(i) * time.Hour)
	}
	if _, err := Chart(&report.Figures{From: start, To: start.Add(6 * time.Hour), Hours: hours}, chat.LangZH); err != nil {
		t.Errorf("Chart: %v", err)
	}
}

func TestHourTicksLabelEverySixHoursOrEachDay(t *testing.T) {
	for _, tc := range []struct {
		name  string
		start time.Time
		hours int
		want  string
	}{
		// Input: a day from local midnight.
		{"day", time.Date(2026, 11, 24, 0, 0, 0, 0, chat.Shanghai()), 24, "0:00 6:06 12:12 18:18"},
		// Input: a day from 09:00 (a report at 09:00 covers the 24 hours before).
		{"day from 09:00", time.Date(2026, 11, 23, 9, 0, 0, 0, chat.Shanghai()), 24, "3:12 9:18 15:00 21:06"},
		// Input: seven days from local midnight.
		{"week", time.Date(2026, 11, 18, 0, 0, 0, 0, chat.Shanghai()), 168,
			"0:11-18 24:11-19 48:11-20 72:11-21 96:11-22 120:11-23 144:11-24"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hours := make([]report.HourFigures, tc.hours)
			for i := range hours {
				hours[i].Start = tc.start.Add(time.Duration(i) * time.Hour)
			}
			var labels []string
			minor := 0
			for _, tick := range hourTicks(hours) {
				if tick.IsMinor() {
					minor++
					continue
				}
				labels = append(labels, fmt.Sprintf("%v:%s", tick.Value, tick.Label))
			}
			if got := strings.Join(labels, " "); got != tc.want {
				t.Errorf("labels %q, want %q", got, tc.want)
			}
			if minor == 0 {
				t.Errorf("no minor ticks")
			}
		})
	}
}

func TestCountTicksAreWholeNumbers(t *testing.T) {
	for _, tc := range []struct {
		hi   float64
		want string
	}{
		// Input: the axis of an empty day (0 to 5) and of busier ones.
		{5, "0 1 2 3 4 5"},
		{6.5, "0 2 4 6"},
		{100, "0 20 40 60 80 100"},
		{130, "0 50 100"},
		{1300, "0 500 1000"},
	} {
		var got []string
		for _, tick := range countTicks(0, tc.hi) {
			got = append(got, tick.Label)
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("countTicks(0, %v) = %v, want %s", tc.hi, got, tc.want)
		}
	}
}

func TestChartTitleNamesTheLocalDatesInGlyphsTheFontHas(t *testing.T) {
	sh := chat.Shanghai()
	for _, tc := range []struct {
		name     string
		from, to time.Time
		want     string
	}{
		// Input: a Shanghai day given in UTC (the engine may pass either).
		{"day", time.Date(2026, 11, 23, 16, 0, 0, 0, time.UTC), time.Date(2026, 11, 24, 16, 0, 0, 0, time.UTC),
			"Orders and delivery time, 2026-11-24"},
		// Input: seven Shanghai days.
		{"week", time.Date(2026, 11, 18, 0, 0, 0, 0, sh), time.Date(2026, 11, 25, 0, 0, 0, 0, sh),
			"Orders and delivery time, 2026-11-18 – 2026-11-24"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &report.Figures{From: tc.from, To: tc.to,
				Hours: []report.HourFigures{{Start: tc.from.In(sh)}}}
			title := chartTitle(f)
			if title != tc.want {
				t.Errorf("title %q, want %q", title, tc.want)
			}
			face := font.DefaultCache.Lookup(font.Font{Typeface: plot.DefaultFont.Typeface, Variant: "Sans"}, 12)
			if face.Face == nil {
				t.Fatal("no Liberation Sans in the font cache")
			}
			for _, s := range []string{title, axisLabel(f)} {
				for _, r := range s {
					if i, err := face.Face.GlyphIndex(nil, r); err != nil || i == 0 {
						t.Errorf("%q: the font has no glyph for %q", s, r)
					}
				}
			}
		})
	}
}
