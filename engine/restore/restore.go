package restore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/backup"
	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/repo"
)

// Conflict says what to do when an item already exists at the destination.
type Conflict string

// Conflict policies.
const (
	ConflictRename    Conflict = "rename"    // keep both: "name (1).ext" (the default)
	ConflictOverwrite Conflict = "overwrite" // replace what is there
	ConflictSkip      Conflict = "skip"      // leave what is there
)

// ParseConflict reads a policy as a person types it ("" is rename).
func ParseConflict(s string) (Conflict, error) {
	switch Conflict(s) {
	case "", ConflictRename:
		return ConflictRename, nil
	case ConflictOverwrite, "replace":
		return ConflictOverwrite, nil
	case ConflictSkip:
		return ConflictSkip, nil
	}
	return "", fmt.Errorf("restore: conflict policy %q: use rename, overwrite or skip", s)
}

// Action is what a plan does with one item.
type Action string

// Actions.
const (
	ActionCreate    Action = "create"    // nothing there: created
	ActionRename    Action = "rename"    // something there: created beside it under another name
	ActionOverwrite Action = "overwrite" // something there: replaced
	ActionSkip      Action = "skip"      // something there: left alone
	ActionDone      Action = "done"      // an interrupted run of this restore already did it
)

// Step is one item of a plan.
type Step struct {
	Item   catalog.VersionInfo
	Action Action
	// Path is where the item goes, as a person reads it: the path below
	// the chosen folder on disk, or the mail folder / OneDrive path.
	// Folder and Name are its two parts (Name is the restored name).
	Path, Folder, Name string
	// Reason says why a step skips, renames or overwrites.
	Reason string

	// Unexported: what the destination worked out while planning.
	dir      string   // local: the folder, relative to the root
	folder   []string // mail folder path / drive folder path, by component
	existing []string // Graph ids of what an overwrite replaces
}

// Plan is what a restore will do, item by item, in a fixed order.
type Plan struct {
	Dest     string // the destination, for a person
	Conflict Conflict
	Steps    []Step
	// Items and Bytes count what will be written (not skipped or done).
	Items, Bytes int64
	// Failures are items that cannot be restored to this destination at
	// all (a path too long for the disk, an item of another account); they
	// have no step, and Execute reports them again in its Result.
	Failures []Failure
	// Notes say what a step cannot restore as it was (links.go), in
	// sentences for the owner.
	Notes []string

	dest Destination
	key  string // journal key of the destination
}

// Counts returns how many steps take each action.
func (p *Plan) Counts() map[Action]int {
	m := map[Action]int{}
	for _, s := range p.Steps {
		m[s.Action]++
	}
	return m
}

// Destination is where a restore writes: ToDir, ToOriginal or
// ToNewFolder.
type Destination interface {
	// String describes the destination for a person.
	String() string
	// Close releases what the destination holds open.
	Close() error

	key() string
	plan(ctx context.Context, p *planner, v catalog.VersionInfo) (Step, error)
	write(ctx context.Context, s *Step, content io.Reader) error
}

// ContentSource reads item content from the repository
// (*repo.Repository).
type ContentSource interface {
	OpenStream(ctx context.Context, ref repo.ContentRef) io.ReadCloser
}

// Progress is how far Execute is.
type Progress struct {
	ItemsDone, ItemsTotal int64
	BytesDone, BytesTotal int64
	Failed                int64
	Current               string // the item being written
	// Waiting, when set, is a sentence for the owner saying why the
	// restore is paused and for how long (Outlook's upload limit).
	Waiting string
}

// Options configure a restore.
type Options struct {
	Content  ContentSource // required for Execute
	Conflict Conflict      // default ConflictRename
	// Workers is how many items are written at once (default 4, the
	// Graph per-mailbox concurrency limit).
	Workers int
	// Journal is a file recording finished items, so that running the
	// same restore again after an interruption skips them. It is removed
	// when a restore finishes without failures. Empty: no journal.
	Journal string
	// OnProgress receives progress after each item and while bytes are
	// written (at most every ProgressInterval). Calls are serialised.
	OnProgress       func(Progress)
	ProgressInterval time.Duration // default 250 ms
	Logger           *slog.Logger
	// MailUploadLimit bytes per MailUploadWindow is how much mail a restore
	// into a mailbox uploads (defaults: Outlook's 150 MB per 5 minutes).
	MailUploadLimit  int64
	MailUploadWindow time.Duration
}

// Failure is an item a restore could not write.
type Failure struct {
	Step Step
	Err  error
}

// Result is what Execute did.
type Result struct {
	Done     []Step // written (created, renamed or overwritten)
	Skipped  []Step // skipped by the conflict policy, or done by an earlier run
	Failures []Failure
	Bytes    int64
}

// ErrChanged is returned when the destination changed between planning
// and writing in a way the plan did not allow for.
var ErrChanged = errors.New("restore: the destination changed since the restore was planned")

// Restorer plans and runs restores.
type Restorer struct {
	o Options
}

// New returns a Restorer.
func New(o Options) *Restorer {
	if o.Conflict == "" {
		o.Conflict = ConflictRename
	}
	if o.Workers <= 0 {
		o.Workers = 4
	}
	if o.ProgressInterval <= 0 {
		o.ProgressInterval = 250 * time.Millisecond
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MailUploadLimit <= 0 {
		o.MailUploadLimit = DefaultMailUploadLimit
	}
	if o.MailUploadWindow <= 0 {
		o.MailUploadWindow = DefaultMailUploadWindow
	}
	return &Restorer{o: o}
}

// planner carries what planning one restore needs across its items.
type planner struct {
	conflict Conflict
	// claimed holds the destinations already given to earlier steps
	// (foldKey of the path), so two items never get the same one.
	claimed map[string]bool
}

func (p *planner) claim(key string) bool {
	if p.claimed[key] {
		return false
	}
	p.claimed[key] = true
	return true
}

// Plan decides what restoring items to dest does. Items are put in a fixed
// order (kind, folder, name, item, version) so the same restore always
// plans the same names; a version listed twice is restored once. Nothing
// at the destination is changed.
func (r *Restorer) Plan(ctx context.Context, dest Destination, items []catalog.VersionInfo) (*Plan, error) {
	items = slices.Clone(items)
	slices.SortFunc(items, func(a, b catalog.VersionInfo) int {
		return cmp.Or(cmp.Compare(a.Item.Kind, b.Item.Kind), cmp.Compare(a.Folder, b.Folder), cmp.Compare(a.Name, b.Name),
			cmp.Compare(a.Item.Account, b.Item.Account), cmp.Compare(a.Item.ID, b.Item.ID), cmp.Compare(a.ID, b.ID))
	})
	items = slices.CompactFunc(items, func(a, b catalog.VersionInfo) bool { return a.ID == b.ID && a.Item == b.Item })
	done, err := readJournal(r.o.Journal, dest.key())
	if err != nil {
		return nil, err
	}
	if pf, ok := dest.(prefetcher); ok {
		pf.forget()
		todo := slices.DeleteFunc(slices.Clone(items), func(v catalog.VersionInfo) bool { return done.has(journalEntry(v)) })
		if err := r.prefetch(ctx, pf, todo); err != nil {
			return nil, err
		}
	}
	pl := &Plan{Dest: dest.String(), Conflict: r.o.Conflict, dest: dest, key: dest.key()}
	p := &planner{conflict: r.o.Conflict, claimed: map[string]bool{}}
	for _, v := range items {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if done.has(journalEntry(v)) {
			// Not looked up again: what it became is already there.
			pl.Steps = append(pl.Steps, Step{Item: v, Action: ActionDone, Path: strings.TrimPrefix(v.Folder+"/"+v.Name, "/"),
				Folder: v.Folder, Name: v.Name, Reason: "already restored by an earlier run of this restore"})
			continue
		}
		s, err := dest.plan(ctx, p, v)
		var ip *itemProblem
		if errors.As(err, &ip) {
			pl.Failures = append(pl.Failures, Failure{Step: s, Err: ip.err})
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("restore: planning %s %q: %w", v.Item.Kind, v.Name, err)
		}
		if s.Action != ActionSkip {
			pl.Items++
			pl.Bytes += v.Size
		}
		pl.Steps = append(pl.Steps, s)
	}
	pl.Notes = append(pl.Notes, linkNotes(pl.Steps)...)
	if _, ok := dest.(*graphDest); ok {
		pl.Notes = append(pl.Notes, sizeNotes(pl.Steps)...)
	}
	return pl, nil
}

// itemProblem marks a planning error that concerns one item only: the
// item fails, the rest of the restore goes on.
type itemProblem struct{ err error }

func (e *itemProblem) Error() string { return e.err.Error() }
func (e *itemProblem) Unwrap() error { return e.err }

func problem(format string, a ...any) error { return &itemProblem{fmt.Errorf(format, a...)} }

// prefetcher is a destination whose planning asks a remote service about
// each item; prefetch asks those questions in parallel first (the
// decisions, which depend on each other, are then made in order).
type prefetcher interface {
	forget() // start afresh: the destination may have changed since the last plan
	prefetch(ctx context.Context, v catalog.VersionInfo) error
}

func (r *Restorer) prefetch(ctx context.Context, pf prefetcher, items []catalog.VersionInfo) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	jobs := make(chan catalog.VersionInfo)
	var wg sync.WaitGroup
	for range min(r.o.Workers, max(len(items), 1)) {
		wg.Go(func() {
			for v := range jobs {
				if err := pf.prefetch(ctx, v); err != nil {
					cancel(fmt.Errorf("restore: planning %s %q: %w", v.Item.Kind, v.Name, err))
				}
			}
		})
	}
	for _, v := range items {
		select {
		case jobs <- v:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(jobs)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return err
	}
	return nil
}

// Execute carries out a plan. One item that fails does not stop the
// others: it is listed in Result.Failures. Cancelling ctx stops after
// the items being written; what was finished is in the journal, and
// running the same restore again (a new Plan) continues from there.
func (r *Restorer) Execute(ctx context.Context, pl *Plan) (Result, error) {
	if r.o.Content == nil {
		return Result{}, errors.New("restore: no content source")
	}
	if cu, ok := pl.dest.(contentUser); ok {
		cu.useContent(r.o.Content)
	}
	j, err := openJournal(r.o.Journal, pl.key)
	if err != nil {
		return Result{}, err
	}
	var (
		mu   sync.Mutex
		res  = Result{Failures: slices.Clone(pl.Failures)}
		prog = Progress{ItemsTotal: pl.Items, BytesTotal: pl.Bytes}
		last time.Time
	)
	report := func(force bool, f func(*Progress)) {
		mu.Lock()
		defer mu.Unlock()
		f(&prog)
		if r.o.OnProgress == nil || (!force && time.Since(last) < r.o.ProgressInterval) {
			return
		}
		last = time.Now()
		r.o.OnProgress(prog)
	}
	budget := &uploadBudget{limit: r.o.MailUploadLimit, window: r.o.MailUploadWindow}
	_, toMailbox := pl.dest.(*graphDest)
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range min(r.o.Workers, max(len(pl.Steps), 1)) {
		wg.Go(func() {
			for i := range jobs {
				s := pl.Steps[i]
				if toMailbox && s.Item.Item.Kind == catalog.KindMail {
					_ = budget.reserve(ctx, s.Item.Size+uploadOverhead, func(d time.Duration) {
						report(true, func(p *Progress) {
							p.Waiting = ""
							if d > 0 {
								p.Waiting = waitSentence(r.o.MailUploadLimit, r.o.MailUploadWindow, d)
							}
						})
					})
				}
				report(true, func(p *Progress) { p.Current = s.Path })
				n, err := r.one(ctx, pl, &s, func(n int64) { report(false, func(p *Progress) { p.BytesDone += n }) })
				if err == nil {
					err = j.add(s.Item)
				}
				mu.Lock()
				if err != nil {
					res.Failures = append(res.Failures, Failure{Step: s, Err: err})
				} else {
					res.Done = append(res.Done, s)
					res.Bytes += n
				}
				mu.Unlock()
				report(true, func(p *Progress) {
					p.ItemsDone++
					if err != nil {
						p.Failed++
					}
				})
				if err != nil {
					r.o.Logger.Warn("restoring an item failed", "item", s.Item.Item.ID, "path", s.Path, "err", err)
				}
			}
		})
	}
	var cancelled error
feed:
	for i, s := range pl.Steps {
		if s.Action == ActionSkip || s.Action == ActionDone {
			res.Skipped = append(res.Skipped, s)
			continue
		}
		select {
		case jobs <- i:
		case <-ctx.Done():
			cancelled = ctx.Err()
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	sortSteps(res.Done)
	if cerr := j.close(); cerr != nil && cancelled == nil {
		return res, cerr
	}
	if cancelled == nil {
		cancelled = ctx.Err()
	}
	if cancelled != nil {
		return res, fmt.Errorf("restore: %w", cancelled)
	}
	if len(res.Failures) == 0 {
		if err := removeJournal(r.o.Journal); err != nil {
			r.o.Logger.Warn("could not remove the restore journal", "err", err)
		}
	}
	return res, nil
}

func sortSteps(s []Step) {
	slices.SortFunc(s, func(a, b Step) int { return cmp.Compare(a.Path, b.Path) })
}

// one writes one step, counting the bytes it reads from the repository.
func (r *Restorer) one(ctx context.Context, pl *Plan, s *Step, progress func(int64)) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	ref, err := backup.DecodeContent(s.Item.Content)
	if err != nil {
		return 0, fmt.Errorf("restore: %w", err)
	}
	if ref.Size != s.Item.Size {
		return 0, fmt.Errorf("restore: the catalog's size of %q (%d) does not match its content (%d)", s.Item.Name, s.Item.Size, ref.Size)
	}
	rc := r.o.Content.OpenStream(ctx, ref)
	defer rc.Close()
	cr := &countingReader{r: rc, fn: progress}
	if err := pl.dest.write(ctx, s, cr); err != nil {
		return cr.n, err
	}
	if cr.n != ref.Size {
		return cr.n, fmt.Errorf("restore: %q: wrote %d bytes of %d", s.Path, cr.n, ref.Size)
	}
	return cr.n, nil
}

type countingReader struct {
	r  io.Reader
	n  int64
	fn func(int64)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 {
		c.n += int64(n)
		c.fn(int64(n))
	}
	return n, err
}
