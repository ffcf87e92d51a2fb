package daily

import (
	"bytes"
	"errors"
	"fmt"
	"image/color"
	"math"
	"strconv"
	"time"

	"cardflow/report"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// The chart's size in pixels: wide enough for 168 hourly bars, small enough
// for a phone to show whole.
const (
	chartWidth  = 1000
	chartHeight = 600
	chartDPI    = 96
)

var (
	colorOrders    = color.RGBA{R: 0x9e, G: 0xc5, B: 0xe8, A: 0xff} // light blue bars
	colorDelivered = color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff} // green
	colorP50       = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff} // blue
	colorP95       = color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff} // red
)

// Chart draws the daily report's chart as a PNG: orders (bars) and
// deliveries (line) per hour above, delivery time p50 and p95 per hour
// below, on a shared hour axis in the figures' location.
//
// The labels are English whatever lang is: gonum/plot embeds only the
// Liberation fonts, which have no CJK glyphs, so Chinese labels would draw as
// empty boxes, and embedding a CJK font would add megabytes to the binary
// for a dozen words. The chart's few words ("orders", "p95") read the same
// to our operators either way; lang is kept for when a font is added.
func Chart(f *report.Figures, lang string) ([]byte, error) {
	if f == nil {
		return nil, errors.New("draw chart: no figures")
	}
	n := len(f.Hours)
	ticks := hourTicks(f.Hours)

	top := newPanel(n)
	top.Title.Text = chartTitle(f)
	top.Y.Label.Text = "orders / hour"
	top.Y.Tick.Marker = plot.TickerFunc(countTicks)
	top.X.Tick.Marker = unlabelled(ticks) // the bottom panel labels the shared axis

	bars := &plotter.Histogram{Width: 1, FillColor: colorOrders,
		LineStyle: draw.LineStyle{Color: color.White, Width: vg.Points(0.5)}}
	delivered := make(plotter.XYs, n)
	maxCount := 0
	for i, h := range f.Hours {
		bars.Bins = append(bars.Bins, plotter.HistogramBin{Min: float64(i), Max: float64(i + 1), Weight: float64(h.Orders)})
		delivered[i] = plotter.XY{X: float64(i) + 0.5, Y: float64(h.Delivered)}
		maxCount = max(maxCount, h.Orders, h.Delivered)
	}
	top.Add(plotter.NewGrid())
	if n > 0 {
		top.Add(bars)
		top.Legend.Add("orders", bars)
		line := &plotter.Line{XYs: delivered, LineStyle: draw.LineStyle{Color: colorDelivered, Width: vg.Points(1.5)}}
		top.Add(line)
		top.Legend.Add("delivered", line)
	}
	// Headroom above the tallest bar keeps the legend off the data.
	top.Y.Min, top.Y.Max = 0, math.Max(5, float64(maxCount)*1.3)

	bottom := newPanel(n)
	bottom.Y.Label.Text = "delivery time (s)"
	bottom.X.Label.Text = axisLabel(f)
	bottom.X.Tick.Marker = ticks
	bottom.Add(plotter.NewGrid())
	maxSec := 0.0
	for _, q := range []struct {
		name string
		q    float64
		c    color.Color
	}{{"p50", 0.5, colorP50}, {"p95", 0.95, colorP95}} {
		for j, run := range quantileRuns(f.Hours, q.q) {
			for _, p := range run {
				maxSec = math.Max(maxSec, p.Y)
			}
			style := draw.LineStyle{Color: q.c, Width: vg.Points(1.5)}
			line := &plotter.Line{XYs: run, LineStyle: style}
			// A lone hour has no neighbour to draw a line to: mark it.
			dots := &plotter.Scatter{XYs: run, GlyphStyle: draw.GlyphStyle{Color: q.c, Radius: vg.Points(2), Shape: draw.CircleGlyph{}}}
			bottom.Add(line, dots)
			if j == 0 {
				bottom.Legend.Add(q.name, line)
			}
		}
	}
	bottom.Y.Min, bottom.Y.Max = 0, math.Max(1, maxSec*1.3)
	if maxSec == 0 {
		note, err := plotter.NewLabels(plotter.XYLabels{
			XYs: plotter.XYs{{X: float64(max(n, 1)) / 2, Y: 0.5}}, Labels: []string{"no deliveries"}})
		if err != nil {
			return nil, fmt.Errorf("draw chart: %w", err)
		}
		note.TextStyle[0].XAlign, note.TextStyle[0].YAlign = draw.XCenter, draw.YCenter
		note.TextStyle[0].Font.Variant = "Sans"
		bottom.Add(note)
	}

	w := vg.Length(chartWidth) * vg.Inch / chartDPI
	h := vg.Length(chartHeight) * vg.Inch / chartDPI
	img := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(chartDPI))
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 2, Cols: 1, PadTop: vg.Points(6), PadBottom: vg.Points(6),
		PadLeft: vg.Points(6), PadRight: vg.Points(14), PadY: vg.Points(10)}
	canvases := plot.Align([][]*plot.Plot{{top}, {bottom}}, tiles, dc)
	top.Draw(canvases[0][0])
	bottom.Draw(canvases[1][0])

	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("encode chart png: %w", err)
	}
	return buf.Bytes(), nil
}

// newPanel is a plot over hours [0, n) in the sans-serif face.
func newPanel(n int) *plot.Plot {
	p := plot.New()
	p.X.Min, p.X.Max = 0, float64(max(n, 1))
	p.X.Padding, p.Y.Padding = 0, 0
	p.Legend.Top, p.Legend.Left = true, true
	p.Legend.XOffs = vg.Points(6)
	for _, style := range []*draw.TextStyle{&p.Title.TextStyle, &p.X.Label.TextStyle, &p.Y.Label.TextStyle,
		&p.X.Tick.Label, &p.Y.Tick.Label, &p.Legend.TextStyle} {
		style.Font.Typeface, style.Font.Variant = "Liberation", "Sans"
	}
	p.Title.TextStyle.Font.Size = vg.Points(13)
	return p
}

// chartTitle names the period by its local dates: "2026-11-24", or
// "2026-11-18 – 2026-11-24" when it spans days.
func chartTitle(f *report.Figures) string {
	loc := chartLocation(f)
	first := f.From.In(loc).Format(time.DateOnly)
	last := first
	if f.To.After(f.From) {
		last = f.To.Add(-time.Nanosecond).In(loc).Format(time.DateOnly)
	}
	if first == last {
		return "Orders and delivery time, " + first
	}
	return "Orders and delivery time, " + first + " – " + last
}

// axisLabel says what the shared axis counts and in which time zone.
func axisLabel(f *report.Figures) string {
	zone := f.From.In(chartLocation(f)).Format("UTC-07:00")
	if len(f.Hours) > 48 {
		return "day (" + zone + ")"
	}
	return "hour (" + zone + ")"
}

// chartLocation is where the hours were cut: the location of their starts.
func chartLocation(f *report.Figures) *time.Location {
	if len(f.Hours) > 0 {
		return f.Hours[0].Start.Location()
	}
	return f.From.Location()
}

// hourTicks marks hour boundaries on an axis where hour i spans [i, i+1):
// up to two days, "00" "06" "12" "18" with a minor tick each hour; longer
// periods, the date at each local midnight with a minor tick every 6 hours.
func hourTicks(hours []report.HourFigures) plot.ConstantTicks {
	var ticks plot.ConstantTicks
	days := len(hours) > 48
	for i, h := range hours {
		local := h.Start
		label := ""
		switch {
		case days && local.Hour() == 0:
			label = local.Format("01-02")
		case days && local.Hour()%6 != 0:
			continue
		case !days && local.Hour()%6 == 0:
			label = local.Format("15")
		}
		ticks = append(ticks, plot.Tick{Value: float64(i), Label: label})
	}
	if len(ticks) == 0 { // an empty period: one unlabelled tick keeps the axis drawable
		ticks = append(ticks, plot.Tick{Value: 0})
	}
	return ticks
}

// countTicks labels whole numbers only, 1, 2 or 5 × 10^k apart, at most six
// of them: "2.50 orders" makes no sense.
func countTicks(lo, hi float64) []plot.Tick {
	step := 1.0
	if raw := (hi - lo) / 5; raw > 1 {
		mag := math.Pow(10, math.Floor(math.Log10(raw)))
		step = 10 * mag
		for _, m := range []float64{1, 2, 5} {
			if m*mag >= raw {
				step = m * mag
				break
			}
		}
	}
	var ticks []plot.Tick
	for v := math.Ceil(lo/step) * step; v <= hi; v += step {
		ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', 0, 64)})
	}
	return ticks
}

// unlabelled is ticks at the same places without their labels.
func unlabelled(ticks plot.ConstantTicks) plot.ConstantTicks {
	out := make(plot.ConstantTicks, len(ticks))
	for i, t := range ticks {
		out[i] = plot.Tick{Value: t.Value}
	}
	return out
}

// quantileRuns are the q-quantiles of delivery time in seconds at each
// hour's middle, split into runs of consecutive hours that had deliveries:
// an hour without any is a gap in the line, not a zero.
func quantileRuns(hours []report.HourFigures, q float64) []plotter.XYs {
	var runs []plotter.XYs
	var run plotter.XYs
	for i := range hours {
		h := &hours[i].Delivery
		if h.Count() == 0 {
			if len(run) > 0 {
				runs = append(runs, run)
				run = nil
			}
			continue
		}
		run = append(run, plotter.XY{X: float64(i) + 0.5, Y: h.Quantile(q).Seconds()})
	}
	if len(run) > 0 {
		runs = append(runs, run)
	}
	return runs
}
