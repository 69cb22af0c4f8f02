package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/graph"
	"github.com/lifeboat-backup/lifeboat/engine/repo"
)

// Scope chooses what a run backs up.
type Scope string

// Scopes.
const (
	ScopeBoth     Scope = ""
	ScopeMail     Scope = "mail"
	ScopeOneDrive Scope = "onedrive"
	ScopeCalendar Scope = "calendar" // every calendar of the mailbox
	ScopeContacts Scope = "contacts" // every contact folder of the mailbox
)

// Snapshot kinds in the repository (repo.Snapshot.Kind).
const (
	KindMail     = "mail"
	KindOneDrive = "onedrive"
	KindCatalog  = "catalog"
)

// State keys of a snapshot (repo.Snapshot.State).
const (
	stateHome         = "account.home" // the account's home ID
	stateFolderDelta  = "mail.folders" // mail folder delta link
	stateFolderPrefix = "mail.folder." // + folder ID: message delta link
	stateDriveID      = "drive.id"     // the drive backed up
	stateDriveDelta   = "drive.delta"  // drive root delta link
	stateMailIDs      = "mail.ids"     // "immutable": message IDs are Outlook's immutable IDs
)

// Options configures Run. Graph, Repo, Catalog and Account.HomeID are
// required.
type Options struct {
	Graph   *graph.Client
	Repo    *repo.Repository
	Catalog *catalog.Catalog
	// Account is the account backed up; it is recorded in the catalog
	// (UpsertAccount) if needed.
	Account catalog.Account
	// User is the Graph user to back up: "me" (default) or a UPN.
	User string
	// DriveID, with ScopeOneDrive, backs up this drive (a SharePoint
	// site's document library, library.go) instead of the user's OneDrive.
	DriveID string
	Only    Scope
	// OnProgress receives progress, at most every ProgressInterval and on
	// every phase change. It is called from the run's goroutines (one at a
	// time) and must not block long.
	OnProgress       func(Progress)
	ProgressInterval time.Duration // default 250 ms
	// Monitor, when set, supplies the throttling state (see Monitor).
	Monitor *Monitor
	// Logger; default discards.
	Logger *slog.Logger
	// Workers is how many items are downloaded at once (default 4, the
	// mailbox concurrency limit).
	Workers int
	// NoCatalogCopy skips storing the catalog copy at the end (a caller
	// backing up several accounts stores it once, with StoreCatalogCopy).
	NoCatalogCopy bool
	// BatchSize is how many items go into one catalog transaction
	// (default 200; each waiting item holds its indexed text in memory).
	BatchSize int
	// OnFileContent, when set, receives the start of every file the run
	// downloads (for the mass-encryption alarm). It is called from the
	// run's download goroutines and must not block long.
	OnFileContent func(FileSample)
	// CommitInterval also commits the catalog transaction when it has been
	// open this long (default 30 s), so a crash loses at most that much of
	// the record of what was stored (the content itself is committed by
	// the repository's checkpoints; see repo.Options.CheckpointInterval).
	CommitInterval time.Duration
}

// Result is what a run did.
type Result struct {
	Status   catalog.RunStatus
	RunID    int64
	Counts   catalog.Counts
	Skipped  []catalog.SkippedItem
	Warnings []string
	// Snapshots are the repository snapshots written, by kind.
	Snapshots map[string]repo.ID
	// Downloads counts content downloads (MIME and files) made; Reused
	// counts items whose content was already stored.
	Downloads, Reused int64
	// DriveFull is set when the run stopped because the destination is
	// full, DriveMissing when it went away (destination.go); Ended is when
	// the run finished.
	DriveFull    *DriveFullError
	DriveMissing bool
	Ended        time.Time
}

// run is the state of one Run.
type run struct {
	o       Options
	log     *slog.Logger
	r       *repo.Repository
	c       *catalog.Catalog
	g       *graph.Client
	prog    *tracker
	runID   int64
	mu      sync.Mutex
	res     Result
	prevAll []*repo.Snapshot
	// both is set while mail and OneDrive are backed up together.
	both bool
}

// Run backs up one account: its mailbox, its OneDrive, or both (Only),
// and records everything in the catalog. An item that cannot be backed up
// is skipped with its reason and the run ends RunCompletedWithWarnings;
// the returned error is for failures of the run itself (sign-in needed,
// the repository or catalog failing, ctx cancelled). Whatever was stored
// before an interruption is reused by the next run.
func Run(ctx context.Context, o Options) (Result, error) {
	if o.Graph == nil || o.Repo == nil || o.Catalog == nil || o.Account.HomeID == "" {
		return Result{}, errors.New("backup: Graph, Repo, Catalog and Account.HomeID are required")
	}
	switch o.Only {
	case ScopeBoth, ScopeMail, ScopeOneDrive, ScopeCalendar, ScopeContacts, ScopeTeams, ScopeGroupMail:
	default:
		return Result{}, fmt.Errorf("backup: unknown scope %q", o.Only)
	}
	if o.User == "" {
		o.User = "me"
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Workers <= 0 {
		o.Workers = graph.DefaultMailboxConcurrency
	}
	if o.ProgressInterval <= 0 {
		o.ProgressInterval = 250 * time.Millisecond
	}
	if o.CommitInterval <= 0 {
		o.CommitInterval = 30 * time.Second
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 200
	}
	ru := &run{o: o, log: o.Logger, r: o.Repo, c: o.Catalog, g: o.Graph,
		prog: &tracker{fn: o.OnProgress, mon: o.Monitor, interval: o.ProgressInterval, start: time.Now()}}
	ru.res.Snapshots = map[string]repo.ID{}
	ru.prog.p.Account = o.Account.UPN
	o.Monitor.listen(func() { ru.prog.update(true, func(*Progress) {}) })
	defer o.Monitor.listen(nil)
	return ru.run(ctx)
}

func (ru *run) run(ctx context.Context) (Result, error) {
	ru.prog.update(true, func(p *Progress) { p.Phase = PhaseStarting })
	if err := ru.c.UpsertAccount(ctx, ru.o.Account); err != nil {
		return ru.res, fmt.Errorf("backup: %w", err)
	}
	// A shared lock: other backups may run, a prune may not delete what
	// this run is writing.
	lock, err := ru.r.Lock(ctx, false)
	if err != nil {
		return ru.res, fmt.Errorf("backup: %w", err)
	}
	defer lock.Unlock(context.WithoutCancel(ctx))
	if ru.runID, err = ru.c.BeginRun(ctx, time.Time{}); err != nil {
		return ru.res, fmt.Errorf("backup: %w", err)
	}
	ru.res.RunID = ru.runID
	if ru.prevAll, err = ru.r.ListSnapshots(ctx); err != nil {
		return ru.finish(ctx, fmt.Errorf("backup: listing snapshots: %w", err))
	}
	if err := ru.backupBoth(ctx); err != nil {
		return ru.finish(ctx, err)
	}
	if !ru.o.NoCatalogCopy {
		ru.prog.update(true, func(p *Progress) { p.Phase = PhaseCatalog; p.Current = "" })
		// The copy includes this run's record, so finish it first.
		res, err := ru.finish(ctx, nil)
		if err != nil {
			return res, err
		}
		id, err := StoreCatalogCopy(ctx, ru.r, ru.c)
		if err != nil {
			return ru.res, err
		}
		ru.res.Snapshots[KindCatalog] = id
		ru.prog.update(true, func(p *Progress) { p.Phase = PhaseDone })
		return ru.res, nil
	}
	res, err := ru.finish(ctx, nil)
	ru.prog.update(true, func(p *Progress) { p.Phase = PhaseDone })
	return res, err
}

// backupBoth backs up the mailbox and the OneDrive at the same time: they
// spend different throttling budgets (the mailbox's and the tenant's
// OneDrive resource units), so neither waits for the other. The first
// error stops both and is the one returned.
func (ru *run) backupBoth(ctx context.Context) error {
	switch ru.o.Only {
	case ScopeMail:
		return ru.backupMail(ctx)
	case ScopeOneDrive:
		return ru.backupDrive(ctx)
	case ScopeCalendar:
		return ru.backupCalendars(ctx)
	case ScopeContacts:
		return ru.backupContacts(ctx)
	case ScopeTeams:
		return ru.backupTeam(ctx)
	case ScopeGroupMail:
		return ru.backupGroupMail(ctx)
	}
	ru.both = true
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	// Calendars and contacts spend the mailbox's budget like mail, so they
	// follow it rather than compete with it.
	mailbox := func(ctx context.Context) error {
		if err := ru.backupMail(ctx); err != nil {
			return err
		}
		if err := ru.backupCalendars(ctx); err != nil {
			return err
		}
		return ru.backupContacts(ctx)
	}
	for _, part := range []func(context.Context) error{mailbox, ru.backupDrive} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := part(ctx); err != nil {
				cancel(err)
			}
		}()
	}
	wg.Wait()
	// nil when both parts finished; else the first failure, or the
	// caller's cancellation.
	return context.Cause(ctx)
}

// phase is what progress reports for a part of the run: while mail and
// OneDrive run together, one phase covering both.
func (ru *run) phase(p Phase) Phase {
	if ru.both && (p == PhaseMail || p == PhaseOneDrive) {
		return PhaseMailAndOneDrive
	}
	return p
}

// finish records the run's outcome in the catalog.
func (ru *run) finish(ctx context.Context, runErr error) (Result, error) {
	ru.mu.Lock()
	st := catalog.RunCompleted
	if len(ru.res.Skipped) > 0 || len(ru.res.Warnings) > 0 {
		st = catalog.RunCompletedWithWarnings
	}
	rr := catalog.RunResult{Counts: ru.res.Counts, Warnings: ru.res.Warnings}
	ru.mu.Unlock()
	ru.res.Ended = time.Now()
	if runErr != nil {
		// Commit what was stored, so the next run does not fetch it again.
		if err := ru.r.Flush(context.WithoutCancel(ctx)); err != nil {
			ru.log.Warn("could not save the work done before the failure", "err", err)
		}
		runErr = ru.noteDestination(runErr)
		st = catalog.RunFailed
		if ctx.Err() != nil {
			st = catalog.RunCancelled
		}
		rr.Error = runErr.Error()
	}
	rr.Status = st
	ru.res.Status = st
	ru.mu.Lock()
	skipped := ru.res.Skipped
	ru.mu.Unlock()
	for _, s := range skipped {
		if err := ru.c.RecordSkipped(context.WithoutCancel(ctx), ru.runID, s); err != nil && runErr == nil {
			runErr = fmt.Errorf("backup: %w", err)
		}
	}
	if err := ru.c.FinishRun(context.WithoutCancel(ctx), ru.runID, rr); err != nil && runErr == nil {
		runErr = fmt.Errorf("backup: %w", err)
	}
	return ru.res, runErr
}

// skip records an item that could not be backed up. The catalog gets it
// when the run finishes (a catalog write would wait for the open batch).
func (ru *run) skip(_ context.Context, ref, reason string, size int64) error {
	s := catalog.SkippedItem{Account: ru.o.Account.HomeID, ItemRef: ref, Reason: reason}
	ru.log.Warn("item skipped", "item", ref, "reason", reason)
	ru.mu.Lock()
	ru.res.Skipped = append(ru.res.Skipped, s)
	ru.res.Counts.ItemsSkipped++
	ru.res.Counts.BytesSkipped += size
	ru.mu.Unlock()
	ru.prog.update(false, func(p *Progress) { p.Skipped++; p.ItemsDone++ })
	return nil
}

func (ru *run) warn(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	ru.log.Warn(msg)
	ru.mu.Lock()
	ru.res.Warnings = append(ru.res.Warnings, msg)
	ru.mu.Unlock()
}

// count records what Upsert did.
func (ru *run) count(ch catalog.Change, size int64) {
	ru.mu.Lock()
	defer ru.mu.Unlock()
	switch ch {
	case catalog.Added, catalog.Restored:
		ru.res.Counts.ItemsNew++
		ru.res.Counts.BytesNew += size
	case catalog.Modified:
		ru.res.Counts.ItemsChanged++
		ru.res.Counts.BytesChanged += size
	case catalog.Removed:
		ru.res.Counts.ItemsDeleted++
		ru.res.Counts.BytesDeleted += size
	}
}

// previous returns the newest snapshot of this account and kind.
func (ru *run) previous(kind string) *repo.Snapshot {
	var best *repo.Snapshot
	for _, s := range ru.prevAll {
		if s.Kind != kind || s.State[stateHome] != ru.o.Account.HomeID {
			continue
		}
		if best == nil || s.Time.After(best.Time) {
			best = s
		}
	}
	return best
}

// fatal reports errors that end the run rather than skip an item: the
// person must sign in again, the context ended, or the repository failed.
func fatal(ctx context.Context, err error) bool {
	// A 403 (graph.ErrForbidden) is an ErrAuth that signing in again does
	// not mend: the part or item it concerns is reported, the rest goes on.
	return ctx.Err() != nil || errors.Is(err, graph.ErrAuth) && !errors.Is(err, graph.ErrForbidden) || errors.Is(err, context.Canceled) ||
		errors.Is(err, errRepo)
}

// errRepo marks repository write failures.
var errRepo = errors.New("backup: the backup destination failed")

type repoError struct{ err error }

func (e repoError) Error() string   { return e.err.Error() }
func (e repoError) Unwrap() []error { return []error{errRepo, e.err} }

// stream is a catalog snapshot being written: its seq and the open batch,
// committed every BatchSize items.
type stream struct {
	ru    *run
	ctx   context.Context // not cancelled: a batch must commit on the way out
	seq   int64
	ops   []streamOp // waiting for the next commit
	began time.Time  // when the oldest of ops was added
	kind  catalog.SnapshotKind
	prev  *repo.Snapshot
	start time.Time
	// resumed is true when a pending catalog snapshot of an interrupted
	// run is continued.
	resumed bool
	// lookups: the catalog may know content this run's tree does not (an
	// earlier snapshot or an interrupted run); false on a first run.
	lookups bool
}

// openStream records (or resumes) the catalog snapshot of a kind.
func (ru *run) openStream(ctx context.Context, kind catalog.SnapshotKind, prev *repo.Snapshot) (*stream, error) {
	s := &stream{ru: ru, ctx: context.WithoutCancel(ctx), kind: kind, prev: prev, start: time.Now()}
	pend, ok, err := ru.c.PendingSnapshot(ctx, ru.o.Account.HomeID, kind)
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	s.lookups = ok || prev != nil
	if ok {
		s.seq, s.resumed = pend.Seq, true
		ru.log.Info("resuming an interrupted backup", "kind", kind, "seq", pend.Seq)
	} else {
		parent := ""
		if prev != nil {
			parent = prev.ID.String()
		}
		s.seq, err = ru.c.RecordSnapshot(ctx, catalog.Snapshot{Account: ru.o.Account.HomeID, Kind: kind, RunID: ru.runID, Parent: parent})
		if err != nil {
			return nil, fmt.Errorf("backup: %w", err)
		}
	}
	return s, nil
}

// streamOp is a catalog write the stream holds until its next commit.
type streamOp struct {
	v    *catalog.Version
	del  string // item id to delete, when v is nil
	size int64
}

// tick counts an item written and commits when BatchSize items are
// waiting or the oldest has waited CommitInterval.
func (s *stream) tick() error {
	if len(s.ops) >= s.ru.o.BatchSize || time.Since(s.began) >= s.ru.o.CommitInterval {
		return s.commit()
	}
	return nil
}

// commit writes the waiting operations in one short transaction. They
// are held in memory, not in an open transaction, so the catalog's one
// writer is never held while a download runs: the streams of other
// accounts (and this account's other kind) commit in between.
func (s *stream) commit() error {
	if len(s.ops) == 0 {
		return nil
	}
	ops := s.ops
	s.ops = nil
	b, err := s.ru.c.Begin(s.ctx, s.seq)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	ik, _ := s.kind.ItemKind()
	for _, op := range ops {
		if op.v != nil {
			ch, err := b.Upsert(*op.v)
			if err != nil {
				_ = b.Rollback()
				return fmt.Errorf("backup: %w", err)
			}
			s.ru.count(ch, op.v.Size)
			continue
		}
		ok, err := b.Delete(catalog.ItemRef{Account: s.ru.o.Account.HomeID, Kind: ik, ID: op.del})
		if err != nil {
			_ = b.Rollback()
			return fmt.Errorf("backup: %w", err)
		}
		if ok {
			s.ru.count(catalog.Removed, op.size)
		}
	}
	if err := b.Commit(); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return nil
}

func (s *stream) add(op streamOp) error {
	if len(s.ops) == 0 {
		s.began = time.Now()
	}
	s.ops = append(s.ops, op)
	return s.tick()
}

func (s *stream) upsert(v catalog.Version) error {
	return s.add(streamOp{v: &v})
}

func (s *stream) delete(id string, size int64) error {
	return s.add(streamOp{del: id, size: size})
}

// close commits the open batch; on failure paths too, so what was written
// is there for the next run to resume.
func (s *stream) close() error {
	return s.commit()
}

// lookup returns the content the catalog holds for an item, when every
// chunk of it is stored (an interrupted run's work, or an item seen in an
// older snapshot). ok is false otherwise.
func (s *stream) lookup(ctx context.Context, id string, match func(v catalog.VersionInfo) bool) (repo.ContentRef, bool) {
	if !s.lookups {
		return repo.ContentRef{}, false
	}
	ik, _ := s.kind.ItemKind()
	vs, err := s.ru.c.Versions(ctx, catalog.ItemRef{Account: s.ru.o.Account.HomeID, Kind: ik, ID: id})
	if err != nil || len(vs) == 0 {
		return repo.ContentRef{}, false
	}
	for i := len(vs) - 1; i >= 0; i-- {
		v := vs[i]
		if v.Content == "" || (match != nil && !match(v)) {
			continue
		}
		ref, err := decodeContent(v.Content)
		if err == nil && stored(s.ru.r, ref) {
			return ref, true
		}
	}
	return repo.ContentRef{}, false
}

// save writes the repository snapshot for the stream and completes the
// catalog snapshot.
func (s *stream) save(ctx context.Context, rt *root, state map[string]string) (repo.ID, error) {
	return s.saveAs(ctx, rt.Kind, rt, state)
}

// saveAs is save for any root tree of kind (calendar and contacts roots
// have their own format).
func (s *stream) saveAs(ctx context.Context, kind string, rt any, state map[string]string) (repo.ID, error) {
	// An interrupted run saves no snapshot; finish flushes what it stored
	// (a pack upload under a cancelled context would fail and lose it).
	if err := ctx.Err(); err != nil {
		return repo.ID{}, err
	}
	if err := s.commit(); err != nil {
		return repo.ID{}, err
	}
	// Once begun, the snapshot is written to the end: a pack upload cut
	// off by a cancellation would fail the repository for the rest of the
	// run, and lose what the run stored (this part and any other running).
	ctx = context.WithoutCancel(ctx)
	rootID, err := saveTree(ctx, s.ru.r, rt)
	if err != nil {
		return repo.ID{}, repoError{err}
	}
	state[stateHome] = s.ru.o.Account.HomeID
	snap := &repo.Snapshot{Account: s.ru.o.Account.UPN, Kind: kind, Root: rootID, State: state}
	if s.prev != nil {
		snap.Parent = s.prev.ID
	}
	id, err := s.ru.r.SaveSnapshot(ctx, snap)
	if err != nil {
		return repo.ID{}, repoError{err}
	}
	if err := s.ru.c.CompleteSnapshot(s.ctx, s.seq, id.String()); err != nil {
		return repo.ID{}, fmt.Errorf("backup: %w", err)
	}
	s.ru.mu.Lock()
	s.ru.res.Snapshots[kind] = id
	s.ru.mu.Unlock()
	return id, nil
}

// StoreCatalogCopy stores a consistent copy of the catalog in the
// repository, encrypted like everything there, as a snapshot of kind
// "catalog" whose root references it.
func StoreCatalogCopy(ctx context.Context, r *repo.Repository, c *catalog.Catalog) (repo.ID, error) {
	lock, err := r.Lock(ctx, false)
	if err != nil {
		return repo.ID{}, fmt.Errorf("backup: %w", err)
	}
	defer lock.Unlock(context.WithoutCancel(ctx))
	f, err := os.CreateTemp("", "lifeboat-catalog-*.db")
	if err != nil {
		return repo.ID{}, fmt.Errorf("backup: catalog copy: %w", err)
	}
	name := f.Name()
	defer os.Remove(name)
	defer f.Close()
	if _, err := c.WriteCopy(ctx, f); err != nil {
		return repo.ID{}, fmt.Errorf("backup: catalog copy: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return repo.ID{}, fmt.Errorf("backup: catalog copy: %w", err)
	}
	ref, err := r.SaveStream(ctx, f)
	if err != nil {
		return repo.ID{}, fmt.Errorf("backup: storing catalog copy: %w", err)
	}
	rootID, err := saveTree(ctx, r, &root{Format: rootFormat, Kind: KindCatalog, Catalog: &ref})
	if err != nil {
		return repo.ID{}, err
	}
	id, err := r.SaveSnapshot(ctx, &repo.Snapshot{Kind: KindCatalog, Root: rootID, State: map[string]string{"catalog.size": fmt.Sprint(ref.Size)}})
	if err != nil {
		return repo.ID{}, fmt.Errorf("backup: storing catalog copy: %w", err)
	}
	return id, nil
}

// ErrNoCatalogCopy means the repository holds no copy of the catalog yet
// (no backup run has finished).
var ErrNoCatalogCopy = errors.New("backup: the backup holds no copy of the catalog yet")

// RestoreCatalogCopy installs the newest catalog copy stored in the
// repository at path (replacing what is there), so a lost or damaged local
// catalog comes back from the backup alone. The copy is checked as hostile
// input by catalog.Import before it replaces anything.
func RestoreCatalogCopy(ctx context.Context, r *repo.Repository, path string, opts catalog.Options) (*catalog.Catalog, *repo.Snapshot, error) {
	snaps, err := r.ListSnapshots(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("backup: listing snapshots: %w", err)
	}
	var newest *repo.Snapshot
	for _, s := range snaps {
		if s.Kind == KindCatalog && (newest == nil || s.Time.After(newest.Time)) {
			newest = s
		}
	}
	if newest == nil {
		return nil, nil, ErrNoCatalogCopy
	}
	rt, err := loadRoot(ctx, r, newest.Root)
	if err != nil {
		return nil, nil, err
	}
	if rt.Kind != KindCatalog || rt.Catalog == nil {
		return nil, nil, fmt.Errorf("backup: catalog snapshot %s has no catalog copy", newest.ID.Short())
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, nil, fmt.Errorf("backup: restoring the catalog copy: %w", err)
	}
	rc := r.OpenStream(ctx, *rt.Catalog)
	defer rc.Close()
	c, err := catalog.Import(ctx, rc, path, opts)
	if err != nil {
		return nil, nil, fmt.Errorf("backup: restoring the catalog copy of %s: %w", newest.Time.Format("2006-01-02 15:04"), err)
	}
	return c, newest, nil
}
