package ui

import (
	"context"
	"io"
	"time"

	"fyne.io/fyne/v2"
)

// Env is what every screen shares: the app, the window dialogs open on, and
// how work done on a background goroutine reaches the UI goroutine.
type Env struct {
	App    fyne.App
	Window fyne.Window
	// Do runs f on the UI goroutine; default fyne.Do. Tests pass a queue
	// they drain themselves, so widget state is only touched by one
	// goroutine.
	Do func(f func())
	// Now is the clock for "3 hours ago"; default time.Now.
	Now func() time.Time
}

func (e Env) do(f func()) {
	if e.Do != nil {
		e.Do(f)
		return
	}
	fyne.Do(f)
}

func (e Env) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

// SignInStep is where a sign-in is.
type SignInStep int

// The steps of a sign-in with a code, in the order they happen. Declined,
// Expired, Offline, Failed and Cancelled end it.
const (
	SignInCodeIssued SignInStep = iota + 1
	SignInWaiting
	SignInDone
	SignInDeclined
	SignInExpired
	SignInOffline
	SignInFailed
	SignInCancelled
)

// SignInUpdate is one step of a sign-in, as the sign-in page shows it.
type SignInUpdate struct {
	Step SignInStep
	// Code, URL and Expires come with SignInCodeIssued.
	Code    string
	URL     string
	Expires time.Time
	// Name and Email come with SignInDone.
	Name  string
	Email string
	// Err comes with SignInFailed (and Offline): what went wrong, in words.
	Err error
}

// Person is a signed-in account.
type Person struct {
	Name  string
	Email string
}

// Accounts signs people in and out.
type Accounts interface {
	// SignIn runs one sign-in with a code, reporting each step through
	// update (from any goroutine). It returns when the sign-in has ended.
	SignIn(ctx context.Context, update func(SignInUpdate)) error
	// List returns who is signed in.
	List(ctx context.Context) ([]Person, error)
	// SignOut forgets one account's sign-in.
	SignOut(ctx context.Context, email string) error
}

// Drive is a place a backup can go: a connected disk or a folder.
type Drive struct {
	Name string
	// Path is the suggested backup folder on the drive.
	Path        string
	Free, Total uint64
	External    bool
	System      bool
}

// Destinations finds places for the backup and creates the backup there.
type Destinations interface {
	// Drives lists connected drives, external ones first.
	Drives(ctx context.Context) ([]Drive, error)
	// Inspect describes the drive that holds path (which need not exist
	// yet): its free space and whether it is the system disk.
	Inspect(ctx context.Context, path string) (Drive, error)
	// EstimatedSize is how much the first backup will need, 0 if unknown.
	EstimatedSize(ctx context.Context) (int64, error)
	// Create makes a new, empty backup in path, remembers it as the backup
	// destination and returns its recovery key (shown once).
	Create(ctx context.Context, path string) (recoveryKey string, err error)
	// Current is the chosen backup folder, "" when none is chosen.
	Current() string
}

// RecoveryKeys replaces a backup's recovery key.
type RecoveryKeys interface {
	// Replace makes a new recovery key and removes the old one, which
	// stops working. It returns the new key, shown once.
	Replace(ctx context.Context) (string, error)
}

// Schedule is when backups run by themselves.
type Schedule struct {
	// EveryHours, when > 0, runs a backup every so many hours; otherwise
	// one runs daily at At ("21:00").
	EveryHours int
	At         string
	// OnlyWhenConnected skips a run quietly when the backup drive is not
	// connected, instead of warning.
	OnlyWhenConnected bool
}

// DefaultSchedule is daily at 21:00, only when the drive is connected.
func DefaultSchedule() Schedule {
	return Schedule{At: "21:00", OnlyWhenConnected: true}
}

// Scheduler reads and sets the backup schedule.
type Scheduler interface {
	Schedule(ctx context.Context) (Schedule, error)
	SetSchedule(ctx context.Context, s Schedule) error
}

// Progress is a backup's progress.
type Progress struct {
	Account               string
	Phase                 string
	ItemsDone, ItemsTotal int64
	BytesDone, BytesTotal int64
	Skipped               int64
	Current               string
	// Throttled is a sentence for the owner while Microsoft asks Lifeboat
	// to slow down, empty otherwise.
	Throttled string
	ETA       time.Duration
}

// Outcome is how a backup ended.
type Outcome int

// Outcomes of a backup.
const (
	OutcomeDone Outcome = iota
	OutcomeDoneWithSkips
	OutcomeSignInNeeded
	OutcomeDriveMissing
	OutcomeStopped // cancelled or paused by the person
	OutcomeFailed
)

// BackupResult is what a backup did.
type BackupResult struct {
	Outcome Outcome
	Items   int64
	Bytes   int64
	Skipped int64
	// Message explains a failure in the owner's words.
	Message string
}

// BackupRunner runs a backup of every signed-in account.
type BackupRunner interface {
	// Backup runs until done or ctx is cancelled; progress is called from
	// the backup's goroutines. A cancelled backup continues from its last
	// checkpoint the next time.
	Backup(ctx context.Context, progress func(Progress)) BackupResult
}

// Status answers "am I safe?".
type Status struct {
	// LastGood is the end of the last backup that finished; zero if none.
	LastGood time.Time
	// LastRun is the end of the last backup, whatever its outcome.
	LastRun       time.Time
	LastRunFailed bool
	NextRun       time.Time
	Destination   string
	Connected     bool
	Free          uint64
	// Warnings are things the owner should act on, in their words.
	Warnings []string
	// Holds is what the backup holds now; nil when not known.
	Holds *Holdings
	// Offsite is the off-site copy, nil when none is set up; Alerts the
	// open wipe alarms (offsite.go).
	Offsite *OffsiteStatus
	Alerts  []AlarmAlert
}

// Holdings counts what the backup holds (the current items of everyone in
// it).
type Holdings struct {
	Emails, Files, Events, Contacts int64
}

// StatusSource tells the dashboard how things stand.
type StatusSource interface {
	Status(ctx context.Context) (Status, error)
}

// RunStatus is how a past backup ended.
type RunStatus string

// Run statuses (the catalog's).
const (
	RunRunning       RunStatus = "running"
	RunCompleted     RunStatus = "completed"
	RunWithWarnings  RunStatus = "completed-with-warnings"
	RunFailed        RunStatus = "failed"
	RunCancelled     RunStatus = "cancelled"
	runStatusUnknown RunStatus = ""
)

// SkippedItem is an item a backup could not copy.
type SkippedItem struct {
	Account string
	Item    string
	Reason  string
}

// RunRecord is one past backup.
type RunRecord struct {
	ID                    int64
	Started, Ended        time.Time
	Status                RunStatus
	New, Changed, Deleted int64
	Skipped               int64
	Bytes                 int64
	SkippedItems          []SkippedItem
	Warnings              []string
	Error                 string
}

// History lists past backups.
type History interface {
	Runs(ctx context.Context, limit int) ([]RunRecord, error)
}

// Retention is how long old versions are kept.
type Retention struct {
	KeepAllDays                               int
	KeepDaily, KeepWeekly, KeepMonthly, Years int
	// KeepDeletedYears is how long deleted items stay restorable.
	KeepDeletedYears int
}

// Preferences are the owner's settings that are not elsewhere.
type Preferences interface {
	Retention(ctx context.Context) (Retention, error)
	SetRetention(ctx context.Context, r Retention) error
	Notifications() bool
	SetNotifications(on bool) error
}

// Diagnostics helps support.
type Diagnostics interface {
	// LogFolder is the folder with Lifeboat's logs.
	LogFolder() string
	// WriteSupportBundle writes a zip of logs, settings and backup history,
	// without any secret.
	WriteSupportBundle(ctx context.Context, w io.Writer) error
}
