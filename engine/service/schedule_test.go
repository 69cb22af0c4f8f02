package service

import (
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/repo"
)

func TestNextRun(t *testing.T) {
	now := time.Date(2026, 3, 10, 22, 0, 0, 0, time.Local)
	if got := NextRun(ScheduleChoice{At: "21:00"}, time.Time{}, now); !got.Equal(time.Date(2026, 3, 11, 21, 0, 0, 0, time.Local)) {
		t.Errorf("daily after the time: %v", got)
	}
	if got := NextRun(ScheduleChoice{At: "23:30"}, time.Time{}, now); !got.Equal(time.Date(2026, 3, 10, 23, 30, 0, 0, time.Local)) {
		t.Errorf("daily before the time: %v", got)
	}
	last := now.Add(-time.Hour)
	if got := NextRun(ScheduleChoice{EveryHours: 4}, last, now); !got.Equal(last.Add(4 * time.Hour)) {
		t.Errorf("every 4 hours: %v", got)
	}
}

// TestRetentionForPrune: the scheduled prune applies the retention the
// owner chose in the app, and the defaults without a choice.
func TestRetentionForPrune(t *testing.T) {
	p := Settings{}.Retention().Policy()
	if def := repo.DefaultPolicy(); p.KeepAllWithin != 30*24*time.Hour || p.KeepDaily != def.KeepDaily || p.KeepDeletedFor != def.KeepDeletedFor {
		t.Errorf("default retention: %+v", p)
	}
	p = Settings{App: &AppSettings{Retention: &Retention{KeepAllDays: 60, KeepDaily: 14, KeepWeekly: 8, KeepMonthly: 24, Years: 10, KeepDeletedYears: 3}}}.Retention().Policy()
	if p.KeepAllWithin != 60*24*time.Hour || p.KeepDaily != 14 || p.KeepWeekly != 8 || p.KeepMonthly != 24 || p.KeepYearly != 10 || p.KeepDeletedFor != 3*365*24*time.Hour {
		t.Errorf("chosen retention: %+v", p)
	}
}
