package ui

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
)

// fakeOffsite stands in for the application layer: a bucket named
// "open" has no Object Lock; any other passes.
type fakeOffsite struct {
	mu    sync.Mutex
	saved *OffsiteConfig
	eject bool
	got   []OffsiteConfig
}

func (f *fakeOffsite) Providers() []OffsiteProvider {
	return []OffsiteProvider{
		{ID: "b2", Name: "Backblaze B2", EndpointHint: "s3.{region}.backblazeb2.com", Regions: []string{"eu-central-003", "us-west-004"},
			Notes: []string{"Object Lock can only be turned on when the bucket is created."}},
		{ID: "", Name: "Other S3-compatible service", EndpointHint: "https://s3.example.com"},
	}
}

func (f *fakeOffsite) Current(context.Context) (OffsiteConfig, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.saved == nil {
		return OffsiteConfig{}, false, nil
	}
	c := *f.saved
	c.Secret = ""
	return c, true, nil
}

func (f *fakeOffsite) Check(_ context.Context, c OffsiteConfig) (OffsiteCheck, error) {
	f.mu.Lock()
	f.got = append(f.got, c)
	f.mu.Unlock()
	if c.Bucket == "open" {
		return OffsiteCheck{Versioning: false, ObjectLock: false, Problems: []string{"Object Lock is off on this bucket."}}, nil
	}
	return OffsiteCheck{Versioning: true, ObjectLock: true, Warnings: []string{"These keys can permanently delete old versions."}}, nil
}

func (f *fakeOffsite) Save(ctx context.Context, c OffsiteConfig) (OffsiteCheck, error) {
	chk, err := f.Check(ctx, c)
	if err == nil && chk.OK() {
		f.mu.Lock()
		f.saved = &c
		f.mu.Unlock()
	}
	return chk, err
}

func (f *fakeOffsite) EjectAfterBackup() bool { f.mu.Lock(); defer f.mu.Unlock(); return f.eject }
func (f *fakeOffsite) SetEjectAfterBackup(on bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.eject = on
	return nil
}

// TestOffsiteScreen: a preset fills the address from its region; Check
// says in plain words what is wrong with a bucket without Object Lock
// and saves nothing; Check and save keeps a good one, sends the secret
// once and clears it from the screen.
func TestOffsiteScreen(t *testing.T) {
	env, q := newEnv(t)
	f := &fakeOffsite{}
	v := NewOffsiteView(env, f)
	saved := 0
	v.OnSaved = func() { saved++ }
	env.Window.SetContent(v.Content())
	v.Load()
	q.waitFor(t, "load", func() bool { return strings.Contains(v.Saved.Text, "No off-site copy") })
	if v.Provider.Selected != "Backblaze B2" || v.Endpoint.Text != "s3.eu-central-003.backblazeb2.com" || !strings.Contains(v.Notes.Text, "Object Lock") {
		t.Fatalf("preset: %q %q %q", v.Provider.Selected, v.Endpoint.Text, v.Notes.Text)
	}
	v.Region.SetText("us-west-004")
	v.Provider.SetSelected("Backblaze B2")
	if v.Endpoint.Text != "s3.us-west-004.backblazeb2.com" {
		t.Errorf("endpoint for another region: %q", v.Endpoint.Text)
	}

	test.Tap(v.Check)
	if !strings.Contains(v.Result.Text, "Enter the bucket's name.") {
		t.Fatalf("empty form: %q", v.Result.Text)
	}
	test.Type(v.Bucket, "open")
	test.Type(v.AccessKey, "KEYID")
	test.Type(v.Secret, "s3cr3t")
	test.Tap(v.Save)
	q.waitFor(t, "check", func() bool { return strings.Contains(v.Result.Text, "nothing was saved") })
	if !strings.Contains(v.Result.Text, "Object Lock is off") || saved != 0 {
		t.Fatalf("bucket without a lock: %q (saved %d)", v.Result.Text, saved)
	}

	v.Bucket.SetText("office-backup")
	v.Days.SetText("0")
	test.Tap(v.Save)
	if !strings.Contains(v.Result.Text, "from 1 to 3650") {
		t.Fatalf("0 days: %q", v.Result.Text)
	}
	v.Days.SetText("45")
	test.Tap(v.Save)
	q.waitFor(t, "save", func() bool { return saved == 1 })
	q.waitFor(t, "reload", func() bool { return strings.Contains(v.Saved.Text, "locked there for 45 days") })
	if !strings.Contains(v.Result.Text, "All set") || !strings.Contains(v.Advice.Text, "• These keys can permanently delete") || v.Secret.Text != "" {
		t.Fatalf("after saving: %q (secret left %q)", v.Result.Text, v.Secret.Text)
	}
	if c := f.saved; c.Provider != "b2" || c.Secret != "s3cr3t" || c.RetentionDays != 45 || c.Endpoint != "s3.us-west-004.backblazeb2.com" {
		t.Fatalf("saved %+v", c)
	}
}

// TestSettingsHasOffsiteAndEject: the off-site page is a tab of
// Settings, and the eject box on the Backup drive page is the setting.
func TestSettingsHasOffsiteAndEject(t *testing.T) {
	env, q := newEnv(t)
	f := &fakeOffsite{eject: true}
	s := newSettingsForTest(t, env, f)
	found := false
	for _, it := range s.Sections.Items {
		found = found || it.Text == "Off-site copy"
	}
	if !found || s.Offsite == nil {
		t.Fatal("no Off-site copy tab in Settings")
	}
	if !s.Eject.Checked {
		t.Fatal("the eject box does not show the saved setting")
	}
	test.Tap(s.Eject)
	if f.EjectAfterBackup() {
		t.Fatal("unticking the eject box did not turn the setting off")
	}
	q.settle()
}

// TestDashboardShowsBothCopiesAndTheAlarm: with an off-site copy, the
// dashboard says when each copy was made; an open alarm is shown in
// plain words above everything, the verdict is not "safe", and "I have
// looked" closes it.
func TestDashboardShowsBothCopiesAndTheAlarm(t *testing.T) {
	env, q := newEnv(t)
	now := env.now()
	st := &fixedStatus{s: Status{LastGood: now.Add(-3 * time.Hour), LastRun: now.Add(-3 * time.Hour), Destination: "/media/usb/Lifeboat", Connected: true,
		Offsite: &OffsiteStatus{LastCopy: now.Add(-3*time.Hour + 4*time.Minute)}}}
	al := &fakeAlarm{st: st}
	var openedAt time.Time
	var openedKind ItemKind
	db := NewDashboard(env, DashboardDeps{Status: st, Progress: NewProgressView(env, &fakeRunner{}), Alarm: al,
		OpenRestoreBefore: func(at time.Time, k ItemKind) { openedAt, openedKind = at, k }})
	env.Window.SetContent(db.Content())
	db.Refresh()
	q.waitFor(t, "status", func() bool { return db.Verdict() != VerdictUnknown })
	if !strings.Contains(db.Details.Text, "On the backup drive: today at 09:00 · Off site: today at 09:04.") || db.Verdict() != VerdictSafe {
		t.Fatalf("details %q, verdict %v", db.Details.Text, db.Verdict())
	}
	if db.Alerts.Content().Visible() {
		t.Fatal("an alarm card without an alarm")
	}

	st.mu.Lock()
	before := now.Add(-15 * time.Hour)
	st.s.Alerts = []AlarmAlert{{ID: "a1", Before: before, Kind: ItemFile, Text: "412 of Paul's files changed into unreadable data in the last run. The last backup from before this change is from Monday 9 March 21:00: the restore wizard offers it."}}
	st.mu.Unlock()
	db.Refresh()
	q.waitFor(t, "alarm", func() bool { return db.Alerts.Content().Visible() })
	if db.Verdict() != VerdictAttention || !strings.Contains(texts(db.Content()), "412 of Paul's files changed into unreadable data") {
		t.Fatalf("verdict %v, texts %q", db.Verdict(), texts(db.Content()))
	}
	test.Tap(db.Alerts.Restore)
	if !openedAt.Equal(before) || openedKind != ItemFile {
		t.Fatalf("Restore from before opened the wizard at %v %v, want %v files", openedAt, openedKind, before)
	}
	test.Tap(db.Alerts.OK)
	q.waitFor(t, "acknowledged", func() bool { return !db.Alerts.Content().Visible() })
	if got := al.ids(); len(got) != 1 || got[0] != "a1" {
		t.Fatalf("acknowledged %q", got)
	}
}

type fakeAlarm struct {
	mu  sync.Mutex
	st  *fixedStatus
	got []string
}

func (a *fakeAlarm) Acknowledge(_ context.Context, id string) error {
	a.mu.Lock()
	a.got = append(a.got, id)
	a.mu.Unlock()
	a.st.mu.Lock()
	a.st.s.Alerts = nil
	a.st.mu.Unlock()
	return nil
}

func (a *fakeAlarm) ids() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.got...)
}

func newSettingsForTest(t *testing.T, env Env, f *fakeOffsite) *SettingsView {
	t.Helper()
	s := NewSettingsView(env, SettingsDeps{Accounts: &fakeAccounts{}, Destinations: &fakeDestinations{current: "/media/usb/Lifeboat"},
		Scheduler: &fakeScheduler{cur: DefaultSchedule()}, RecoveryKeys: &fakeKeys{}, Diagnostics: fakeDiag{}, Version: "1.2.3",
		Preferences: &fakePrefs{ret: Retention{KeepAllDays: 30, KeepDeletedYears: 7}, notify: true}, Offsite: f})
	env.Window.SetContent(s.Content())
	return s
}
