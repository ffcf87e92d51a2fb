package config

import (
	"errors"
	"time"
	_ "time/tzdata" // zones on machines without zone files, as in the distroless image
)

// Clock is daily_at as the time since local midnight.
func (r Report) Clock() (time.Duration, error) {
	t, err := time.Parse("15:04", r.DailyAt)
	if err != nil || len(r.DailyAt) != 5 {
		return 0, errors.New("want HH:MM")
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}

// Location is the report's time zone.
func (r Report) Location() (*time.Location, error) {
	if r.Timezone == "" {
		return nil, errors.New("empty time zone")
	}
	return time.LoadLocation(r.Timezone)
}
