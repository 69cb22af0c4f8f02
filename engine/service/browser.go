package service

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/repo"
	"github.com/lifeboat-backup/lifeboat/engine/restore"
)

// ItemKinds are the kinds of item a backup holds, in the order they are
// shown: what "everything of an account" means.
func ItemKinds() []catalog.ItemKind {
	return []catalog.ItemKind{catalog.KindMail, catalog.KindFile, catalog.KindEvent, catalog.KindContact}
}

// Browser is an open backup and this computer's catalog of it: what the
// restore wizard and the ls, find, versions and restore commands read.
// It is safe for concurrent use; Close it when done.
type Browser struct {
	s *Service
	r *repo.Repository
	c *catalog.Catalog

	mu       sync.Mutex
	accounts map[string]catalog.Account // by HomeID
	snapTime map[int64]time.Time        // snapshot seq → time
}

// OpenBrowser opens the backup in dir and this computer's catalog of it,
// restoring the catalog from the backup's own copy when it is missing (a
// fresh computer). Without a copy (no backup has finished) the error
// matches ErrNoCatalog.
func (s *Service) OpenBrowser(ctx context.Context, dir, recoveryKey string) (*Browser, error) {
	r, err := s.OpenBackup(ctx, dir, recoveryKey)
	if err != nil {
		return nil, err
	}
	c, err := s.OpenCatalog(ctx, r)
	if err != nil {
		r.Close()
		return nil, err
	}
	return s.NewBrowser(r, c), nil
}

// NewBrowser browses an open repository and catalog; Close closes both.
func (s *Service) NewBrowser(r *repo.Repository, c *catalog.Catalog) *Browser {
	return &Browser{s: s, r: r, c: c, accounts: map[string]catalog.Account{}, snapTime: map[int64]time.Time{}}
}

// Close closes the catalog and the repository.
func (b *Browser) Close() {
	b.c.Close()
	b.r.Close()
}

// Repository is the open backup.
func (b *Browser) Repository() *repo.Repository { return b.r }

// Accounts lists the people in the backup.
func (b *Browser) Accounts(ctx context.Context) ([]catalog.Account, error) {
	as, err := b.c.Accounts(ctx)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	for _, a := range as {
		b.accounts[a.HomeID] = a
	}
	b.mu.Unlock()
	return as, nil
}

// AccountByID returns an account by HomeID (with only the ID when the
// catalog does not know it).
func (b *Browser) AccountByID(ctx context.Context, id string) (catalog.Account, error) {
	b.mu.Lock()
	a, ok := b.accounts[id]
	b.mu.Unlock()
	if ok {
		return a, nil
	}
	if _, err := b.Accounts(ctx); err != nil {
		return catalog.Account{}, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if a, ok := b.accounts[id]; ok {
		return a, nil
	}
	return catalog.Account{HomeID: id}, nil
}

// Account finds an account by e-mail address or ID; an unknown one is an
// InputError naming those the backup has.
func (b *Browser) Account(ctx context.Context, s string) (catalog.Account, error) {
	as, err := b.Accounts(ctx)
	if err != nil {
		return catalog.Account{}, err
	}
	for _, a := range as {
		if strings.EqualFold(a.UPN, s) || a.HomeID == s {
			return a, nil
		}
	}
	names := make([]string, 0, len(as))
	for _, a := range as {
		names = append(names, a.UPN)
	}
	return catalog.Account{}, badInput(fmt.Errorf("no account %q in this backup (it has: %s)", s, strings.Join(names, ", ")))
}

// UPN names an account for a person: its e-mail address, else its ID.
func (b *Browser) UPN(ctx context.Context, homeID string) string {
	a, err := b.AccountByID(ctx, homeID)
	if err != nil || a.UPN == "" {
		return homeID
	}
	return a.UPN
}

// SnapshotTime is when a catalog snapshot was taken (zero for seq 0).
func (b *Browser) SnapshotTime(ctx context.Context, seq int64) (time.Time, error) {
	if seq == 0 {
		return time.Time{}, nil
	}
	b.mu.Lock()
	t, ok := b.snapTime[seq]
	b.mu.Unlock()
	if ok {
		return t, nil
	}
	snap, err := b.c.GetSnapshot(ctx, seq)
	if err != nil {
		return time.Time{}, err
	}
	b.mu.Lock()
	b.snapTime[seq] = snap.Time
	b.mu.Unlock()
	return snap.Time, nil
}

// Backups lists the times of the complete backups of an account's items
// of one kind, newest first: the points in time that can be browsed.
func (b *Browser) Backups(ctx context.Context, account string, kind catalog.ItemKind) ([]time.Time, error) {
	sk, err := kind.SnapshotKind()
	if err != nil {
		return nil, err
	}
	snaps, err := b.c.Snapshots(ctx, account, sk)
	if err != nil {
		return nil, err
	}
	var out []time.Time
	for i := len(snaps) - 1; i >= 0; i-- {
		if snaps[i].Status == catalog.SnapshotComplete {
			out = append(out, snaps[i].Time)
		}
	}
	return out, nil
}

// SnapshotByPrefix finds the snapshot of an account's stream whose
// repository ID starts with prefix (at least 4 characters).
func (b *Browser) SnapshotByPrefix(ctx context.Context, account string, kind catalog.ItemKind, prefix string) (catalog.Snapshot, bool, error) {
	sk, err := kind.SnapshotKind()
	if err != nil {
		return catalog.Snapshot{}, false, err
	}
	snaps, err := b.c.Snapshots(ctx, account, sk)
	if err != nil {
		return catalog.Snapshot{}, false, err
	}
	for _, sn := range snaps {
		if len(prefix) >= 4 && strings.HasPrefix(sn.RepoID, strings.ToLower(prefix)) {
			return sn, true, nil
		}
	}
	return catalog.Snapshot{}, false, nil
}

// Point is a point in time of one stream: a snapshot seq, or the latest
// complete backup at or before At (the newest when both are zero).
type Point struct {
	Snapshot int64
	At       time.Time
}

// Listing is one folder of a backup at a point in time.
type Listing struct {
	// At is when the backup listed was made; Snapshot its seq.
	At       time.Time
	Snapshot int64
	// Folders are the full paths of the folders directly inside (those
	// holding something then), sorted without regard to case.
	Folders []string
	Items   []catalog.VersionInfo
}

// browseLimit caps a folder listing; a folder with more is shown in part.
const browseLimit = 20000

// List lists one folder of an account's items of one kind as it was at a
// point in time: its subfolders and its items (mail newest first).
func (b *Browser) List(ctx context.Context, account string, kind catalog.ItemKind, folder string, at Point) (Listing, error) {
	q := catalog.AsOfQuery{Account: account, Kind: kind, Time: at.At, Snapshot: at.Snapshot, Folder: folder, Limit: browseLimit}
	snap, vs, err := b.c.AsOf(ctx, q)
	if err != nil {
		return Listing{}, err
	}
	folders, err := b.c.Folders(ctx, catalog.AsOfQuery{Account: account, Kind: kind, Snapshot: snap.Seq})
	if err != nil {
		return Listing{}, err
	}
	if kind == catalog.KindMail {
		sort.SliceStable(vs, func(i, j int) bool { return vs[i].Time.After(vs[j].Time) })
	}
	return Listing{At: snap.Time, Snapshot: snap.Seq, Folders: Subfolders(folders, folder), Items: vs}, nil
}

// ItemsNamed finds the items called name in folder (a file or a message
// subject) at a point in time.
func (b *Browser) ItemsNamed(ctx context.Context, account string, kind catalog.ItemKind, folder, name string, at Point) ([]catalog.VersionInfo, error) {
	_, all, err := restore.ItemsAsOf(ctx, b.c, catalog.AsOfQuery{Account: account, Kind: kind, Folder: folder, Snapshot: at.Snapshot, Time: at.At})
	if err != nil {
		return nil, err
	}
	var out []catalog.VersionInfo
	for _, v := range all {
		if v.Name == name {
			out = append(out, v)
		}
	}
	return out, nil
}

// Subfolders returns the folders directly below parent ("" is the top)
// among paths (each folder that held something, with its full path).
func Subfolders(paths []string, parent string) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range paths {
		rest := p
		if parent != "" {
			var ok bool
			if rest, ok = strings.CutPrefix(p, parent+"/"); !ok {
				continue
			}
		}
		first, _, _ := strings.Cut(rest, "/")
		if first == "" {
			continue
		}
		full := first
		if parent != "" {
			full = parent + "/" + first
		}
		if !seen[full] {
			seen[full] = true
			out = append(out, full)
		}
	}
	slices.SortFunc(out, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
	return out
}

// FindRequest is a search of everything the backup holds.
type FindRequest struct {
	// Text is the words to find; "" with DeletedOnly lists everything
	// deleted, most recently deleted first.
	Text string
	// AsTyped makes the last word a prefix, so results follow typing
	// ("invo" finds "invoice"), and falls back to the bare words when
	// the text is not a valid query (an unbalanced quote).
	AsTyped bool
	Kind    catalog.ItemKind // "" for every kind
	Account string           // HomeID; "" for everyone
	Folder  string           // this folder and below
	// From and To bound the items' dates.
	From, To    time.Time
	DeletedOnly bool
	Limit       int
}

// Hit is one item found.
type Hit struct {
	Version catalog.VersionInfo
	// Deleted is when it was seen deleted; zero if it still exists.
	Deleted time.Time
	// Snippet is the matching text around the words found.
	Snippet string
}

// Find searches subjects, people, message text, attachment names, file
// names and paths, events (subject, people, place) and contacts (names,
// addresses, companies, phone numbers), newest first.
func (b *Browser) Find(ctx context.Context, req FindRequest) ([]Hit, error) {
	if req.Text == "" {
		if !req.DeletedOnly {
			return nil, badInput(errors.New("give words to look for, or ask for everything deleted"))
		}
		return b.deleted(ctx, req)
	}
	q := catalog.SearchQuery{Text: req.Text, Kind: req.Kind, Account: req.Account, Folder: strings.Trim(req.Folder, "/"), DeletedOnly: req.DeletedOnly,
		From: req.From, To: req.To, Limit: req.Limit}
	if req.AsTyped {
		q.Text = prefixQuery(req.Text)
	}
	hs, err := b.c.Search(ctx, q)
	if errors.Is(err, catalog.ErrInvalid) && req.AsTyped {
		q.Text = prefixQuery(strings.Map(func(r rune) rune {
			if r == '"' || r == '*' {
				return ' '
			}
			return r
		}, req.Text))
		hs, err = b.c.Search(ctx, q)
	}
	if err != nil {
		return nil, err
	}
	out := make([]Hit, 0, len(hs))
	for _, h := range hs {
		x := Hit{Version: h.VersionInfo}
		if h.Deleted() {
			if x.Deleted, err = b.SnapshotTime(ctx, h.DeletedSeq); err != nil {
				return nil, err
			}
		}
		var sb strings.Builder
		for _, f := range h.Snippet {
			sb.WriteString(f.Text)
		}
		x.Snippet = sb.String()
		out = append(out, x)
	}
	return out, nil
}

// deleted lists deleted items matching req's filters, most recently
// deleted first.
func (b *Browser) deleted(ctx context.Context, req FindRequest) ([]Hit, error) {
	limit := req.Limit
	if limit <= 0 {
		limit = 50
	}
	ds, err := b.c.DeletedSince(ctx, req.Account, time.Time{}, 100000)
	if err != nil {
		return nil, err
	}
	folder := strings.Trim(req.Folder, "/")
	var out []Hit
	for _, d := range ds {
		v := d.VersionInfo
		if (req.Kind != "" && v.Item.Kind != req.Kind) || (!req.From.IsZero() && v.Time.Before(req.From)) || (!req.To.IsZero() && v.Time.After(req.To)) ||
			(folder != "" && v.Folder != folder && !strings.HasPrefix(v.Folder, folder+"/")) {
			continue
		}
		out = append(out, Hit{Version: v, Deleted: d.DeletedAt})
		if len(out) == limit {
			break
		}
	}
	return out, nil
}

// prefixQuery makes the last word of what was typed a prefix.
func prefixQuery(t string) string {
	t = strings.TrimSpace(t)
	if t == "" || strings.HasSuffix(t, "*") || strings.HasSuffix(t, `"`) || strings.Count(t, `"`)%2 == 1 {
		return t
	}
	return t + "*"
}

// RecentlyDeleted lists deleted items of every account, most recently
// deleted first.
func (b *Browser) RecentlyDeleted(ctx context.Context, limit int) ([]Hit, error) {
	ds, err := b.c.RecentlyDeleted(ctx, "", limit)
	if err != nil {
		return nil, err
	}
	out := make([]Hit, 0, len(ds))
	for _, d := range ds {
		out = append(out, Hit{Version: d.VersionInfo, Deleted: d.DeletedAt})
	}
	return out, nil
}

// Version returns one version by its catalog ID; an unknown one is an
// InputError.
func (b *Browser) Version(ctx context.Context, id int64) (catalog.VersionInfo, error) {
	v, err := b.c.Version(ctx, id)
	if errors.Is(err, catalog.ErrNotFound) {
		return v, badInput(fmt.Errorf("there is no item %d in this backup's catalog: %w", id, err))
	}
	return v, err
}

// VersionSpan is one version of an item and the backups that held it.
type VersionSpan struct {
	catalog.VersionInfo
	// Seen and LastSeen are the first and last backups that held it;
	// Until is when a newer version (or the deletion) was seen, zero for
	// the current version.
	Seen, LastSeen, Until time.Time
}

// Versions lists every version of an item, newest first.
func (b *Browser) Versions(ctx context.Context, ref catalog.ItemRef) ([]VersionSpan, error) {
	vs, err := b.c.Versions(ctx, ref)
	if err != nil {
		return nil, err
	}
	out := make([]VersionSpan, 0, len(vs))
	for _, v := range vs {
		sp := VersionSpan{VersionInfo: v}
		if sp.Seen, err = b.SnapshotTime(ctx, v.First); err != nil {
			return nil, err
		}
		if sp.LastSeen, err = b.SnapshotTime(ctx, v.Last); err != nil {
			return nil, err
		}
		if !v.Current() {
			if sp.Until, err = b.SnapshotTime(ctx, v.End); err != nil {
				return nil, err
			}
		}
		out = append(out, sp)
	}
	return out, nil
}
