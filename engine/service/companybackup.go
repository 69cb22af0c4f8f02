package service

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"

	"github.com/lifeboat-backup/lifeboat/engine/alarm"
	"github.com/lifeboat-backup/lifeboat/engine/auth"
	"github.com/lifeboat-backup/lifeboat/engine/backup"
	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/graph"
	"github.com/lifeboat-backup/lifeboat/engine/orgsetup"
	"github.com/lifeboat-backup/lifeboat/engine/people"
	"github.com/lifeboat-backup/lifeboat/engine/repo"
)

// DefaultCompanyWorkers is how many people a company backup backs up at
// once: each mailbox is its own throttling budget, so people in parallel
// is the speed-up, and a fixed number keeps memory from growing with the
// size of the company.
const DefaultCompanyWorkers = 4

// ErrSomePeopleFailed: the company backup finished, but some people's
// backups failed (each with its error in its AccountResult); the others
// are complete.
var ErrSomePeopleFailed = errors.New("the backup finished, but some people could not be backed up")

// homeIDOf is the catalog's account key of a person: MSAL's home account
// ID form (object ID "." directory ID), so someone backed up in personal
// mode before continues as the same account.
func homeIDOf(p people.Person, tenantID string) string { return p.ID + "." + tenantID }

// CompanyBackup backs up everyone in the company with the company
// credential: it rolls the certificate when due, looks at the directory
// (new people are included, leavers marked), then backs up each person not
// excluded, several at once, each at their own mailbox's limit. One
// person's failure never stops the others. Deleted people Microsoft no
// longer serves are not tried: their last copy stays.
func (s *Service) CompanyBackup(ctx context.Context, req BackupRequest) (BackupSummary, error) {
	var sum BackupSummary
	dir := req.Dir
	if dir == "" {
		return sum, badInput(errors.New("which backup? name the backup folder"))
	}
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return sum, driveNotFound(dir)
	}
	ts, store, err := s.companyTokens()
	if err != nil {
		return sum, err
	}
	cred := ts.Credential()
	if err := cred.Check(s.now()); errors.Is(err, auth.ErrAdminSignInRequired) {
		return sum, err
	}
	if cred.RenewalDue(s.now()) {
		opts, err := s.orgOptions(store, req.Events.Note)
		if err != nil {
			return sum, err
		}
		if renewed, err := orgsetup.Renew(ctx, ts, opts); err != nil {
			req.Events.note("Lifeboat could not renew its certificate this time; it tries again at the next backup.")
		} else if renewed {
			req.Events.note("Lifeboat renewed its certificate for your company's Microsoft 365.")
		}
		cred = ts.Credential()
	}

	r, release, err := s.openForBackup(ctx, req)
	if err != nil {
		return sum, err
	}
	defer release()

	roster, ch, err := s.refreshPeople(ctx, ts)
	if err != nil {
		return sum, err
	}
	for _, id := range ch.New {
		if p := roster.People[id]; p != nil && len(ch.New) < len(roster.People) {
			req.Events.note("%s is new in your company and is backed up from now on.", name(*p))
		}
	}
	for _, id := range ch.Left {
		if p := roster.People[id]; p != nil {
			req.Events.note("%s left the company (%s); Lifeboat keeps their backup.", name(*p), p.LeftReason)
		}
	}

	cat, err := s.openCatalogForWriting(ctx, r)
	if err != nil {
		return sum, err
	}
	defer cat.Close()

	var todo []people.Person
	for _, p := range roster.Sorted() {
		if p.Excluded || p.Gone || p.Nothing() {
			continue
		}
		todo = append(todo, p)
	}
	workers := s.o.CompanyWorkers
	if workers <= 0 {
		workers = DefaultCompanyWorkers
	}
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	tl := tally{sum: &sum, events: req.Events}
	col := alarm.NewCollector() // what the wipe alarm looks at (alarm.go)
	// The SharePoint sites' libraries (sites.go), each an account of its
	// own, alongside the people: they share the company's OneDrive budget,
	// which the pacer divides.
	sitesDone := make(chan []AccountResult, 1)
	go func() {
		libs, err := s.backUpSites(ctx, r, cat, ts, cred.TenantID, req)
		if err != nil {
			libs = append(libs, AccountResult{Account: "SharePoint sites", Err: err})
		}
		sitesDone <- libs
	}()
	sem := make(chan struct{}, workers)
	for _, p := range todo {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			ar := s.backUpPerson(ctx, r, cat, ts, cred.TenantID, p, req, col)
			mu.Lock()
			defer mu.Unlock()
			s.recordStopped(r, ar.Result)
			if ar.Err == nil {
				// Under mu: the alarm's record is one file.
				s.judgeRun(ctx, r, auth.Account{HomeAccountID: homeIDOf(p, cred.TenantID), UPN: p.UPN, Name: p.DisplayName}, ar.Result, col, req.Events)
			}
			tl.add(ar, "", true)
		}()
	}
	wg.Wait()
	libs := <-sitesDone
	if ctx.Err() != nil {
		return sum, ctx.Err()
	}
	for _, ar := range libs {
		tl.add(ar, "", true)
	}
	if ctx.Err() != nil {
		return sum, ctx.Err()
	}
	teams, err := s.backUpTeams(ctx, r, cat, ts, cred.TenantID, req)
	if err != nil {
		return sum, err
	}
	for _, ar := range teams {
		tl.add(ar, "the team ", false)
	}
	if _, err := backup.StoreCatalogCopy(ctx, r, cat); err != nil {
		err = backup.DestinationError(err, r, 0)
		s.recordStopped(r, backup.Result{Ended: s.now(), DriveFull: asDriveFull(err), DriveMissing: errors.Is(err, backup.ErrDriveMissing)})
		return sum, err
	}
	if tl.failed > 0 {
		return sum, fmt.Errorf("%w (%d of %d): %w", ErrSomePeopleFailed, tl.failed, len(todo)+len(libs), tl.first)
	}
	if tl.warnings > 0 {
		return sum, ErrItemsSkipped
	}
	return sum, nil
}

// tally adds up a company run's accounts as they finish: the summary,
// how many failed (and the first failure), how many finished with
// warnings.
type tally struct {
	sum              *BackupSummary
	events           BackupEvents
	failed, warnings int
	first            error
}

// add counts one account's outcome; what names its kind in the error
// ("the team "), report passes it on to the front end as it finishes.
func (t *tally) add(ar AccountResult, what string, report bool) {
	t.sum.add(ar)
	if ar.Err != nil {
		t.failed++
		if t.first == nil {
			t.first = fmt.Errorf("backup of %s%s: %w", what, ar.Account, ar.Err)
		}
	} else if ar.Result.Status == catalog.RunCompletedWithWarnings {
		t.warnings++
	}
	if report && t.events.Result != nil {
		t.events.Result(ar)
	}
}

func name(p people.Person) string {
	if p.DisplayName != "" {
		return p.DisplayName
	}
	return p.UPN
}

// backUpPerson backs up one person's mailbox (mail, calendars, contacts)
// and OneDrive, whichever they have, through the shared pacer (each
// mailbox its own budget, OneDrive the company's).
func (s *Service) backUpPerson(ctx context.Context, r *repo.Repository, cat *catalog.Catalog, ts *auth.AppTokenSource, tenantID string, p people.Person, req BackupRequest, col *alarm.Collector) AccountResult {
	ar := AccountResult{Account: p.UPN}
	graphURL, hc := s.graphEndpoint()
	mon := backup.NewMonitor()
	gc, err := graph.New(graph.Options{GraphURL: graphURL, HTTPClient: hc, Auth: ts, Account: p.ID, Pacer: s.sharedPacer(),
		Logger: s.o.Logger, OnEvent: mon.Observe})
	if err != nil {
		ar.Err = err
		return ar
	}
	var scopes []backup.Scope
	switch {
	case p.Purpose != people.NoMailbox && p.DriveID != "":
		scopes = []backup.Scope{backup.ScopeBoth}
	case p.Purpose != people.NoMailbox:
		scopes = []backup.Scope{backup.ScopeMail, backup.ScopeCalendar, backup.ScopeContacts}
	default:
		scopes = []backup.Scope{backup.ScopeOneDrive}
	}
	for _, only := range scopes {
		res, err := backup.Run(ctx, backup.Options{
			Graph: gc, Repo: r, Catalog: cat, User: p.ID, Only: only, Monitor: mon, Logger: s.o.Logger,
			Account:        catalog.Account{HomeID: homeIDOf(p, tenantID), UPN: p.UPN, DisplayName: p.DisplayName, Kind: catalog.AccountWork},
			OnProgress:     req.Events.Progress,
			NoCatalogCopy:  true,
			CommitInterval: s.o.Checkpoint,
			OnFileContent:  col.Observe,
		})
		ar.Result = mergeResults(ar.Result, res)
		if err != nil {
			if errors.Is(err, graph.ErrAuth) && !errors.Is(err, auth.ErrAdminSignInRequired) {
				err = fmt.Errorf("access to this person's data was refused: %w", err)
			}
			ar.Err = err
			return ar
		}
	}
	return ar
}

// mergeResults adds up the runs of one person.
func mergeResults(a, b backup.Result) backup.Result {
	if a.Status == "" || b.Status == catalog.RunCompletedWithWarnings || b.Status == catalog.RunFailed {
		a.Status = b.Status
	}
	a.RunID = b.RunID
	a.Counts.ItemsNew += b.Counts.ItemsNew
	a.Counts.ItemsChanged += b.Counts.ItemsChanged
	a.Counts.ItemsDeleted += b.Counts.ItemsDeleted
	a.Counts.BytesNew += b.Counts.BytesNew
	a.Counts.BytesChanged += b.Counts.BytesChanged
	a.Counts.ItemsSkipped += b.Counts.ItemsSkipped
	a.Counts.BytesDeleted += b.Counts.BytesDeleted
	a.Counts.BytesSkipped += b.Counts.BytesSkipped
	a.Skipped = append(a.Skipped, b.Skipped...)
	a.Warnings = append(a.Warnings, b.Warnings...)
	if a.Snapshots == nil {
		a.Snapshots = b.Snapshots
	} else {
		for k, v := range b.Snapshots {
			a.Snapshots[k] = v
		}
	}
	a.Downloads += b.Downloads
	a.Reused += b.Reused
	a.Ended = b.Ended
	if b.DriveFull != nil {
		a.DriveFull = b.DriveFull
	}
	a.DriveMissing = a.DriveMissing || b.DriveMissing
	return a
}
