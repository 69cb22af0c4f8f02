package service

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/alarm"
	"github.com/lifeboat-backup/lifeboat/engine/auth"
	"github.com/lifeboat-backup/lifeboat/engine/backup"
	"github.com/lifeboat-backup/lifeboat/engine/notify"
	"github.com/lifeboat-backup/lifeboat/engine/repo"
)

// alarmFile is the alarm's memory (usual pattern, open alerts) in the
// config folder.
const alarmFile = "alarm.json"

// ErrPruneHeld matches the refusal to prune while an alarm is open.
var ErrPruneHeld = alarm.ErrHeld

func (s *Service) alarmState() (*alarm.State, error) {
	return alarm.OpenState(filepath.Join(s.o.ConfigDir, alarmFile), alarm.Thresholds{})
}

// alarmHeld returns an error matching ErrPruneHeld while an alert waits
// for the owner. An unreadable state holds too: better keep old backups
// a while longer than thin them out during an attack.
func (s *Service) alarmHeld() error {
	st, err := s.alarmState()
	if err != nil {
		return errors.Join(alarm.ErrHeld, err)
	}
	return st.Held()
}

// Alert is an open alarm, for the dashboard and `lifeboat alarm`.
type Alert struct {
	ID     string
	Person string
	At     time.Time
	// Sentences say what happened; Advice what to do (the backup to
	// restore from).
	Sentences []string
	Advice    string
	// Before is the time of the last backup from before the change (zero
	// when unknown): the restore wizard offers it.
	Before time.Time
	// BeforeKind is the kind of that backup ("mail", "onedrive").
	BeforeKind string
	// BeforeSnapshots are those backups by kind (mail, onedrive).
	BeforeSnapshots map[string]repo.ID
}

// Text is the alert as one paragraph.
func (a Alert) Text() string {
	return strings.Join(append(append([]string{}, a.Sentences...), a.Advice), " ")
}

// Alerts returns the open alarms, oldest first.
func (s *Service) Alerts() ([]Alert, error) {
	st, err := s.alarmState()
	if err != nil {
		return nil, err
	}
	var out []Alert
	for _, a := range st.Alerts() {
		al := Alert{ID: a.ID, Person: a.Person, At: a.At, Sentences: a.Sentences, Advice: a.Advice(), BeforeSnapshots: map[string]repo.ID{}}
		for kind, ref := range a.Restore {
			al.BeforeSnapshots[kind] = ref.ID
			if ref.Time.After(al.Before) {
				al.Before, al.BeforeKind = ref.Time, kind
			}
		}
		out = append(out, al)
	}
	return out, nil
}

// AcknowledgeAlert closes an alert (id "" closes every one): the owner
// has looked. Pruning resumes when none is left.
func (s *Service) AcknowledgeAlert(id string) (int, error) {
	st, err := s.alarmState()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, a := range st.Alerts() {
		if id != "" && a.ID != id && !strings.HasPrefix(a.ID, id) {
			continue
		}
		if err := st.Acknowledge(a.ID); err != nil {
			return n, err
		}
		n++
	}
	if n == 0 && id != "" {
		return 0, badInput(errors.New("no open alert " + id + " (see `lifeboat alarm show`)"))
	}
	return n, nil
}

// judgeRun lets the alarm compare one account's run with its usual
// pattern. When it fires: an OS notification, the sentences as notes,
// and the alert kept for the dashboard until the owner acknowledges it.
// The alarm failing is logged, never a reason to fail the backup.
func (s *Service) judgeRun(ctx context.Context, r *repo.Repository, a auth.Account, res backup.Result, col *alarm.Collector, ev BackupEvents) {
	person := a.UPN
	if w := strings.Fields(a.Name); len(w) > 0 {
		person = w[0]
	}
	f, err := alarm.Analyze(ctx, r, a.HomeAccountID, person, res, col.Take(a.HomeAccountID), s.now())
	if err != nil {
		s.o.Logger.Warn("the wipe alarm could not look at this run", "account", a.UPN, "err", err)
		return
	}
	st, err := s.alarmState()
	if err != nil {
		s.o.Logger.Warn("the wipe alarm's record is unreadable", "err", err)
		return
	}
	al, err := st.Record(f)
	if err != nil {
		s.o.Logger.Warn("could not save the wipe alarm's record", "err", err)
	}
	if al == nil {
		return
	}
	for _, sn := range al.Sentences {
		ev.note("Alarm: %s", sn)
	}
	ev.note("%s", al.Advice())
	if err := s.o.Notifier.Notify(ctx, notify.Message{Title: "Lifeboat: something is wiping or scrambling data",
		Body: strings.Join(al.Sentences, " ") + " Open Lifeboat to look; old backups are kept meanwhile.", Urgency: notify.Critical}); err != nil {
		s.o.Logger.Warn("could not show a notification", "err", err)
	}
}
