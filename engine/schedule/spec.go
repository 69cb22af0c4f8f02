package schedule

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Spec is when the backup runs: every day at a time of day, or every
// Interval. Intervals are limited to those that divide an hour or a day
// evenly, because every scheduler can express those as calendar times —
// and only calendar times are caught up after sleep or power-off
// (systemd's Persistent=, launchd's StartCalendarInterval).
type Spec struct {
	// Daily: run once a day at Hour:Minute (local time).
	Daily        bool
	Hour, Minute int
	// Every is the interval of a repeating schedule (when not Daily).
	Every time.Duration
}

// ParseDaily reads a time of day, "21:00".
func ParseDaily(s string) (Spec, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || len(m) != 2 || hh < 0 || hh > 23 || mm < 0 || mm > 59 {
		return Spec{}, fmt.Errorf("%q is not a time of day like 21:00", s)
	}
	return Spec{Daily: true, Hour: hh, Minute: mm}, nil
}

// ParseEvery reads an interval, "4h" or "30m".
func ParseEvery(s string) (Spec, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return Spec{}, fmt.Errorf("%q is not an interval like 4h or 30m", s)
	}
	sp := Spec{Every: d}
	if err := sp.Validate(); err != nil {
		return Spec{}, err
	}
	return sp, nil
}

// Validate reports a Spec no scheduler can express.
func (s Spec) Validate() error {
	if s.Daily {
		if s.Hour < 0 || s.Hour > 23 || s.Minute < 0 || s.Minute > 59 {
			return fmt.Errorf("%02d:%02d is not a time of day", s.Hour, s.Minute)
		}
		return nil
	}
	d := s.Every
	switch {
	case d <= 0:
		return errors.New("no schedule: choose a daily time or an interval")
	case d%time.Hour == 0 && d <= 24*time.Hour && (24*time.Hour)%d == 0:
		return nil
	case d < time.Hour && d >= 5*time.Minute && d%time.Minute == 0 && time.Hour%d == 0:
		return nil
	}
	return fmt.Errorf("every %s: choose an interval that divides a day evenly (1h, 2h, 3h, 4h, 6h, 8h, 12h, 24h) or an hour (5m … 30m)", shortDuration(d))
}

// Interval is the time between two runs: a day for a daily schedule.
func (s Spec) Interval() time.Duration {
	if s.Daily {
		return 24 * time.Hour
	}
	return s.Every
}

// String describes the schedule for a person.
func (s Spec) String() string {
	switch {
	case s.Daily:
		return fmt.Sprintf("every day at %02d:%02d", s.Hour, s.Minute)
	case s.Every == time.Hour:
		return "every hour"
	case s.Every%time.Hour == 0:
		return fmt.Sprintf("every %d hours", s.Every/time.Hour)
	default:
		return fmt.Sprintf("every %d minutes", s.Every/time.Minute)
	}
}

// times lists the (hour, minute) pairs of a day the schedule fires at;
// hour -1 means every hour.
func (s Spec) times() (hours []int, minutes []int) {
	switch {
	case s.Daily:
		return []int{s.Hour}, []int{s.Minute}
	case s.Every%time.Hour == 0:
		step := int(s.Every / time.Hour)
		for h := 0; h < 24; h += step {
			hours = append(hours, h)
		}
		return hours, []int{0}
	default:
		step := int(s.Every / time.Minute)
		for m := 0; m < 60; m += step {
			minutes = append(minutes, m)
		}
		return []int{-1}, minutes
	}
}

// shortDuration writes 5h rather than Go's 5h0m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
