package daily

import (
	"testing"
	"time"

	"cardflow/bot/chat"
)

// TestPeriods: today, yesterday and 7d in the bot's zone, a whole day
// before a time, and nothing else.
func TestPeriods(t *testing.T) {
	loc := chat.Shanghai()
	now := time.Date(2026, 11, 25, 0, 30, 0, 0, loc)
	for arg, want := range map[string][2]time.Time{
		"":          {time.Date(2026, 11, 25, 0, 0, 0, 0, loc), now.Add(time.Nanosecond)},
		"today":     {time.Date(2026, 11, 25, 0, 0, 0, 0, loc), now.Add(time.Nanosecond)},
		"yesterday": {time.Date(2026, 11, 24, 0, 0, 0, 0, loc), time.Date(2026, 11, 25, 0, 0, 0, 0, loc)},
		"7d":        {time.Date(2026, 11, 19, 0, 0, 0, 0, loc), now.Add(time.Nanosecond)},
	} {
		p, ok := ParsePeriod(arg, now.UTC(), loc)
		if !ok || !p.From.Equal(want[0]) || !p.To.Equal(want[1]) {
			t.Errorf("%q = %v %s – %s, want %s – %s", arg, ok, p.From, p.To, want[0], want[1])
		}
	}
	if _, ok := ParsePeriod("month", now, loc); ok {
		t.Error("month accepted")
	}
	today, _ := ParsePeriod("today", now, loc)
	if end := wholeDays(today, loc); !end.Equal(time.Date(2026, 11, 26, 0, 0, 0, 0, loc)) {
		t.Errorf("today's chart ends %s", end)
	}
	if y := DayBefore(now, loc); !wholeDays(y, loc).Equal(y.To) {
		t.Errorf("yesterday's chart ends %s", wholeDays(y, loc))
	}
}
