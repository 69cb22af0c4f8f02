package service

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/graph"
	"github.com/lifeboat-backup/lifeboat/engine/restore"
)

// Selection is something chosen for a restore: one version, or
// everything a folder held at a point in time.
type Selection struct {
	// Version is a catalog version ID. With ItemAt, the version of that
	// item the backup of that time held is restored instead.
	Version int64
	ItemAt  Point
	// Otherwise: everything of Account (a HomeID; "" for every account)
	// of Kind ("" for every kind) in Folder and below ("" for all), as
	// the backup at At held it.
	Account string
	Kind    catalog.ItemKind
	Folder  string
	At      Point
	// Name, with a folder, picks the items of that name in Folder
	// instead of everything below it (a file or subject by its path).
	Name string
}

// Select resolves selections to the versions to restore.
func (b *Browser) Select(ctx context.Context, sels []Selection) ([]catalog.VersionInfo, error) {
	var out []catalog.VersionInfo
	for _, sel := range sels {
		vs, err := b.selectOne(ctx, sel)
		if err != nil {
			return nil, err
		}
		out = append(out, vs...)
	}
	return out, nil
}

func (b *Browser) selectOne(ctx context.Context, sel Selection) ([]catalog.VersionInfo, error) {
	if sel.Version != 0 {
		v, err := b.Version(ctx, sel.Version)
		if err != nil {
			return nil, err
		}
		if sel.ItemAt != (Point{}) {
			t := sel.ItemAt.At
			if sel.ItemAt.Snapshot != 0 {
				if t, err = b.SnapshotTime(ctx, sel.ItemAt.Snapshot); err != nil {
					return nil, err
				}
			}
			if v, err = restore.VersionAt(ctx, b.c, v.Item, t); err != nil {
				return nil, err
			}
		}
		return []catalog.VersionInfo{v}, nil
	}
	accounts := []string{sel.Account}
	if sel.Account == "" {
		as, err := b.Accounts(ctx)
		if err != nil {
			return nil, err
		}
		accounts = accounts[:0]
		for _, a := range as {
			accounts = append(accounts, a.HomeID)
		}
	}
	kinds := []catalog.ItemKind{sel.Kind}
	if sel.Kind == "" {
		kinds = ItemKinds()
	}
	var out []catalog.VersionInfo
	for _, acct := range accounts {
		for _, k := range kinds {
			var vs []catalog.VersionInfo
			var err error
			if sel.Name != "" {
				vs, err = b.ItemsNamed(ctx, acct, k, sel.Folder, sel.Name, sel.At)
			} else {
				_, vs, err = restore.ItemsAsOf(ctx, b.c, catalog.AsOfQuery{Account: acct, Kind: k, Folder: sel.Folder, Recursive: true,
					Snapshot: sel.At.Snapshot, Time: sel.At.At})
			}
			if errors.Is(err, catalog.ErrNoSnapshot) && (sel.Kind == "" || sel.Account == "") {
				continue // nothing of this kind backed up for this account
			}
			if err != nil {
				return nil, err
			}
			out = append(out, vs...)
		}
	}
	return out, nil
}

// Target is where restored items go.
type Target int

// Targets.
const (
	// ToOriginal puts items back where they were (missing folders are
	// recreated).
	ToOriginal Target = iota
	// ToNewFolder puts them into a new "Restored by Lifeboat <date>"
	// folder of the mailbox or OneDrive, calendar or contact folder.
	ToNewFolder
	// ToDir saves them in a folder on this computer: mail as .eml files,
	// files with their dates.
	ToDir
)

// RestoreRequest says what to restore where.
type RestoreRequest struct {
	Items    []catalog.VersionInfo
	To       Target
	Dir      string // with ToDir: an absolute folder
	Conflict restore.Conflict
}

// RestorePlan is what a restore will do: one engine plan per account for
// Microsoft 365 (each account's own mailbox and OneDrive), or one for a
// folder on this computer. Close it when done.
type RestorePlan struct {
	Groups []*RestoreGroup
	// Items and Bytes count what will be written.
	Items int64
	Bytes int64
	to    Target
}

// RestoreGroup is the part of a restore that goes to one destination.
type RestoreGroup struct {
	// Account is whose mailbox and OneDrive; zero for a folder on disk.
	Account catalog.Account
	Plan    *restore.Plan
	dest    restore.Destination
	journal string
	r       *restore.Restorer
}

// Close releases the plan's destinations.
func (p *RestorePlan) Close() {
	for _, g := range p.Groups {
		g.dest.Close()
	}
}

// PlanRestore is the dry run: what each item will become, changing
// nothing.
func (b *Browser) PlanRestore(ctx context.Context, req RestoreRequest) (*RestorePlan, error) {
	if req.Conflict == "" {
		req.Conflict = restore.ConflictRename
	}
	if err := refuseTeamsRestore(req.Items); err != nil {
		return nil, err
	}
	groups := map[string][]catalog.VersionInfo{}
	var order []string
	for _, v := range req.Items {
		key := v.Item.Account
		if req.To == ToDir {
			key = ""
		}
		if _, ok := groups[key]; !ok {
			order = append(order, key)
		}
		groups[key] = append(groups[key], v)
	}
	pl := &RestorePlan{to: req.To}
	fail := func(err error) (*RestorePlan, error) {
		pl.Close()
		return nil, err
	}
	for _, key := range order {
		items := groups[key]
		g := &RestoreGroup{}
		var err error
		if key != "" {
			if g.Account, err = b.AccountByID(ctx, key); err != nil {
				return fail(err)
			}
		}
		if req.To == ToDir {
			if !filepath.IsAbs(req.Dir) {
				return fail(badInput(errors.New("choose a whole folder on this computer (its full path)")))
			}
			var do restore.DirOptions
			do.FilesFolder = b.s.libraryFolder(ctx, b) // siterestore.go
			if len(distinctAccounts(items)) > 1 {
				// Several people's things: a folder each, named by address.
				do.AccountFolder = func(account string) string { return b.UPN(ctx, account) }
			}
			if g.dest, err = restore.ToDir(req.Dir, do); err != nil {
				return fail(err)
			}
		} else {
			gc, err := b.s.graphClientFor(ctx, g.Account)
			if err != nil {
				return fail(err)
			}
			if req.To == ToNewFolder {
				g.dest = restore.ToNewFolder(gc, restoreDrive(g.Account, gc), b.s.restoreUser(g.Account), g.Account.HomeID, restore.NewFolderName(b.s.now()))
			} else {
				g.dest = restore.ToOriginal(gc, restoreDrive(g.Account, gc), b.s.restoreUser(g.Account), g.Account.HomeID) // siterestore.go
			}
			// Events and contacts too, without sending any invitation.
			g.dest = restore.WithCalendarsAndContacts(g.dest, gc)
		}
		pl.Groups = append(pl.Groups, g)
		g.journal = b.s.journalPath(g.dest, req.Conflict, items)
		g.r = restore.New(restore.Options{Content: b.r, Conflict: req.Conflict, Journal: g.journal, Logger: b.s.o.Logger})
		if g.Plan, err = g.r.Plan(ctx, g.dest, items); err != nil {
			return fail(err)
		}
		pl.Items += g.Plan.Items
		pl.Bytes += g.Plan.Bytes
	}
	return pl, nil
}

func distinctAccounts(vs []catalog.VersionInfo) map[string]bool {
	m := map[string]bool{}
	for _, v := range vs {
		m[v.Item.Account] = true
	}
	return m
}

// journalPath is where a restore records its progress: one file per
// destination, conflict policy and selection, so the same restore started
// again resumes it.
func (s *Service) journalPath(dest restore.Destination, conflict restore.Conflict, items []catalog.VersionInfo) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00", dest, conflict)
	ids := make([]int64, 0, len(items))
	for _, v := range items {
		ids = append(ids, v.ID)
	}
	slices.Sort(ids)
	for _, id := range ids {
		fmt.Fprintf(h, "%d,", id)
	}
	return filepath.Join(s.o.ConfigDir, "restore-journals", hex.EncodeToString(h.Sum(nil))[:32]+".journal")
}

// RestoreProgress is how far a whole restore is, over every group.
type RestoreProgress struct {
	restore.Progress
	// Account is whose items are being written ("" on disk).
	Account string
}

// RestoreEvents are how a restore reports; fields may be nil.
type RestoreEvents struct {
	// Progress is called from the restore's goroutines, serialised.
	Progress func(RestoreProgress)
	// GroupDone is each group's outcome, as it finishes.
	GroupDone func(g *RestoreGroup, res restore.Result, err error)
}

// RestoreOutcome adds up what a restore did.
type RestoreOutcome struct {
	Restored, Renamed, Overwritten, Skipped int
	Bytes                                   int64
	Failures                                []restore.Failure
	// Where names the destinations for a person.
	Where string
	// Accounts are the accounts restored into (Microsoft 365 targets).
	Accounts []catalog.Account
}

// RunRestore carries a plan out, group by group. One item that fails
// does not stop the others (it is in Failures); an error means the
// restore stopped (cancelled, the destination gone): running the same
// restore again continues where it stopped.
func (b *Browser) RunRestore(ctx context.Context, pl *RestorePlan, ev RestoreEvents) (RestoreOutcome, error) {
	var out RestoreOutcome
	var mu sync.Mutex
	var base restore.Progress // what earlier groups did
	for _, g := range pl.Groups {
		base.ItemsTotal += g.Plan.Items
		base.BytesTotal += g.Plan.Bytes
	}
	for _, g := range pl.Groups {
		acct := g.Account.UPN
		g.r = restore.New(restore.Options{Content: b.r, Conflict: g.Plan.Conflict, Journal: g.journal, Logger: b.s.o.Logger,
			Workers: b.s.o.RestoreWorkers, ProgressInterval: 250 * time.Millisecond,
			OnProgress: func(p restore.Progress) {
				if ev.Progress == nil {
					return
				}
				mu.Lock()
				cur := base
				mu.Unlock()
				cur.ItemsDone += p.ItemsDone
				cur.BytesDone += p.BytesDone
				cur.Failed += p.Failed
				cur.Current = p.Current
				ev.Progress(RestoreProgress{Progress: cur, Account: acct})
			}})
		res, err := g.r.Execute(ctx, g.Plan)
		for _, st := range res.Done {
			switch st.Action {
			case restore.ActionRename:
				out.Renamed++
			case restore.ActionOverwrite:
				out.Overwritten++
			default:
				out.Restored++
			}
		}
		for _, st := range res.Skipped {
			if st.Action == restore.ActionDone {
				out.Restored++
			} else {
				out.Skipped++
			}
		}
		out.Failures = append(out.Failures, res.Failures...)
		out.Bytes += res.Bytes
		out.Where = joinWhere(out.Where, g.Plan.Dest)
		if g.Account.HomeID != "" {
			out.Accounts = append(out.Accounts, g.Account)
		}
		mu.Lock()
		base.ItemsDone += int64(len(res.Done))
		base.BytesDone += res.Bytes
		base.Failed += int64(len(res.Failures) - len(g.Plan.Failures))
		mu.Unlock()
		if ev.GroupDone != nil {
			ev.GroupDone(g, res, err)
		}
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

func joinWhere(a, b string) string {
	if a == "" || a == b {
		return b
	}
	return a + "; " + b
}

// graphClientFor reaches an account's mailbox and OneDrive with its
// saved sign-in (Options.GraphClient, when set, instead).
func (s *Service) graphClientFor(ctx context.Context, a catalog.Account) (*graph.Client, error) {
	if s.o.GraphClient != nil {
		return s.o.GraphClient(ctx, a)
	}
	if gc, ok, err := s.companyGraphClient(a); ok || err != nil { // companyrestore.go
		return gc, err
	}
	m, err := s.SignInManager(nil)
	if err != nil {
		return nil, err
	}
	acc, err := m.Account(ctx, firstNonEmpty(a.UPN, a.HomeID))
	if err != nil {
		return nil, fmt.Errorf("restoring into %s needs its sign-in (run `lifeboat login`): %w", firstNonEmpty(a.UPN, a.HomeID), Explain(err))
	}
	host, err := s.graphHost()
	if err != nil {
		return nil, err
	}
	ts, err := m.TokenSource(acc.HomeAccountID, host)
	if err != nil {
		return nil, err
	}
	graphURL, hc := s.graphEndpoint()
	return graph.New(graph.Options{GraphURL: graphURL, HTTPClient: hc, Auth: ts, Account: acc.UPN, Pacer: s.sharedPacer(), Logger: s.o.Logger})
}
