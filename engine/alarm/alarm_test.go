package alarm_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/alarm"
	"github.com/lifeboat-backup/lifeboat/engine/backup"
	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/graph"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
	"github.com/lifeboat-backup/lifeboat/engine/offsite"
	"github.com/lifeboat-backup/lifeboat/engine/repo"
)

// office is the demo company's owner backed up day after day, with the
// alarm judging every run.
type office struct {
	t     *testing.T
	srv   *m365sim.Server
	ctl   *m365sim.ControlClient
	r     *repo.Repository
	c     *catalog.Catalog
	upn   string
	name  string
	st    *alarm.State
	path  string
	alert *alarm.Alert
}

func newOffice(t *testing.T) *office {
	t.Helper()
	tn, err := m365sim.GenerateDemo(7, m365sim.DemoOptions{Users: 1, MessagesPerUser: 50, FilesPerUser: 30, MaxFileSize: 32 << 10})
	if err != nil {
		t.Fatal(err)
	}
	srv := simtest.Start(t, tn, m365sim.Options{})
	ctl, err := m365sim.NewControlClient(srv.Profile())
	if err != nil {
		t.Fatal(err)
	}
	c, err := catalog.Open(t.Context(), filepath.Join(t.TempDir(), "catalog.db"), catalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	path := filepath.Join(t.TempDir(), "alarm.json")
	st, err := alarm.OpenState(path, alarm.Thresholds{})
	if err != nil {
		t.Fatal(err)
	}
	u := tn.Users()[0]
	o := &office{t: t, srv: srv, ctl: ctl, r: repo.TestRepository(t), c: c, upn: u.UPN, name: strings.Fields(u.DisplayName)[0], st: st, path: path}
	o.backup() // the first, full backup: nothing to compare with
	return o
}

// backup runs one backup and lets the alarm judge it.
func (o *office) backup() {
	o.t.Helper()
	ctx := o.t.Context()
	g, err := graph.New(graph.Options{
		GraphURL: o.srv.GraphURL(), HTTPClient: o.srv.HTTPClient(), Account: o.upn,
		Auth: graph.TokenFunc(func(context.Context) (string, error) {
			tok, _, err := o.srv.IssueAccessToken(o.upn)
			return tok, err
		}),
	})
	if err != nil {
		o.t.Fatal(err)
	}
	col := alarm.NewCollector()
	home := "home-" + o.upn
	res, err := backup.Run(ctx, backup.Options{Graph: g, Repo: o.r, Catalog: o.c, OnFileContent: col.Observe,
		Account: catalog.Account{HomeID: home, UPN: o.upn, DisplayName: o.name, Kind: catalog.AccountWork}})
	if err != nil {
		o.t.Fatalf("backup: %v", err)
	}
	f, err := alarm.Analyze(ctx, o.r, home, o.name, res, col.Take(home), time.Now())
	if err != nil {
		o.t.Fatal(err)
	}
	o.alert, err = o.st.Record(f)
	if err != nil {
		o.t.Fatal(err)
	}
}

func (o *office) control(op string, req m365sim.ControlRequest) {
	o.t.Helper()
	req.User = o.upn
	if _, err := o.ctl.Call(o.t.Context(), op, req); err != nil {
		o.t.Fatalf("%s: %v", op, err)
	}
}

// TestNormalWeekNeverFires: a week of ordinary demo activity (new mail,
// mail moved to Deleted Items and deleted, documents edited, added,
// deleted and renamed) raises no alarm.
func TestNormalWeekNeverFires(t *testing.T) {
	o := newOffice(t)
	for day := 1; day <= 7; day++ {
		o.control("demo/day", m365sim.ControlRequest{Spec: string(rune('0' + day))})
		o.backup()
		if o.alert != nil {
			t.Fatalf("day %d: the alarm fired on ordinary work: %q", day, o.alert.Sentences)
		}
	}
	if err := o.st.Held(); err != nil {
		t.Fatalf("pruning held after an ordinary week: %v", err)
	}
}

// TestAttacksFire: each attack, after an ordinary day, fires the alarm
// with the sentence that says what happened, names the backup from before
// it and holds pruning until the owner acknowledges. The attacks follow
// one another on one office (each acknowledged before the next), as a
// long attack would: mail thrown away, files encrypted in place (random
// bytes under their own names), then renamed, then deleted.
func TestAttacksFire(t *testing.T) {
	cases := []struct {
		name string
		op   string
		req  m365sim.ControlRequest
		want string
	}{
		{"mail to Deleted Items", "attack/trash-mail", m365sim.ControlRequest{}, "emails were moved to Deleted Items in the last run."},
		{"random bytes", "attack/encrypt-files", m365sim.ControlRequest{}, "files changed into unreadable data in the last run."},
		{"mass rename", "attack/rename-files", m365sim.ControlRequest{NewName: ".locked"}, "files were renamed to end in .locked in the last run."},
		{"mass delete", "attack/delete-files", m365sim.ControlRequest{}, "files were deleted in the last run."},
	}
	o := newOffice(t)
	o.control("demo/day", m365sim.ControlRequest{Spec: "1"})
	o.backup()
	if o.alert != nil {
		t.Fatalf("an ordinary day fired: %q", o.alert.Sentences)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			snapsBefore, _ := o.r.ListSnapshots(t.Context())
			o.control(tc.op, tc.req)
			o.backup()
			if o.alert == nil {
				t.Fatal("the attack did not fire the alarm")
			}
			found := false
			for _, s := range o.alert.Sentences {
				found = found || (strings.HasSuffix(s, tc.want) && strings.Contains(s, " of "+o.name+"'s "))
			}
			if !found {
				t.Fatalf("sentences %q, want one ending %q about %s", o.alert.Sentences, tc.want, o.name)
			}
			// The restore wizard is offered, for each kind it names, the
			// newest backup of that kind from before the attack.
			ok := len(o.alert.Restore) > 0
			for kind, ref := range o.alert.Restore {
				var newestBefore time.Time
				for _, s := range snapsBefore {
					if s.Kind == kind && s.Time.After(newestBefore) {
						newestBefore = s.Time
					}
				}
				ok = ok && ref.Time.Equal(newestBefore)
			}
			if !ok || !strings.Contains(o.alert.Advice(), "restore wizard") {
				t.Fatalf("restore offered %+v (%q), want the newest backup of each kind from before", o.alert.Restore, o.alert.Advice())
			}
			// Pruning is held: nothing is forgotten while the alert is open.
			if err := o.st.Held(); !errors.Is(err, alarm.ErrHeld) {
				t.Fatalf("Held = %v", err)
			}
			_, err := offsite.Maintain(t.Context(), o.r, offsite.MaintainOptions{Policy: repo.Policy{KeepDaily: 1}, Held: o.st.Held})
			if !errors.Is(err, offsite.ErrPruneHeld) {
				t.Fatalf("maintenance while held: %v, want ErrPruneHeld", err)
			}
			after, _ := o.r.ListSnapshots(t.Context())
			if len(after) <= len(snapsBefore) {
				t.Fatalf("snapshots were forgotten while the alarm held pruning: %d, before the attack %d", len(after), len(snapsBefore))
			}
			// A reopened state still holds; acknowledging releases.
			again, err := alarm.OpenState(o.path, alarm.Thresholds{})
			if err != nil || again.Held() == nil {
				t.Fatalf("the hold did not survive a restart: %v", err)
			}
			if err := o.st.Acknowledge(o.alert.ID); err != nil {
				t.Fatal(err)
			}
			if err := o.st.Held(); err != nil {
				t.Fatalf("still held after acknowledging: %v", err)
			}
		})
	}
}
