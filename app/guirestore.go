package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/lifeboat-backup/lifeboat/engine/auth"
	"github.com/lifeboat-backup/lifeboat/engine/backup"
	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/graph"
	"github.com/lifeboat-backup/lifeboat/engine/repo"
	"github.com/lifeboat-backup/lifeboat/engine/restore"
	"github.com/lifeboat-backup/lifeboat/ui"
)

// guiRestore is the restore wizard's ui.RestoreService: it finds things in
// the catalog, reads previews from the repository, and plans and runs
// restores with engine/restore.
type guiRestore struct {
	cat  *catalog.Catalog
	repo *repo.Repository
	o    guiRestoreOptions

	mu       sync.Mutex
	accounts map[string]catalog.Account // by HomeID
	snapTime map[int64]time.Time        // snapshot seq → time
}

// guiRestoreOptions configure the restore service.
type guiRestoreOptions struct {
	// Graph returns a client for an account's mailbox and OneDrive, for
	// restores back into Microsoft 365. Nil: only restores to this
	// computer are possible.
	Graph func(ctx context.Context, account catalog.Account) (*graph.Client, error)
	// JournalDir holds the journals that let a stopped restore continue
	// without doing anything twice (default: no journal).
	JournalDir string
	// NoWebLinks leaves out "Open in Outlook on the web" (the demo tenant
	// has no web pages).
	NoWebLinks bool
	Now        func() time.Time
	Logger     *slog.Logger
	// Workers is how many items are restored at once (default: the
	// engine's).
	Workers int
}

// newGUIRestore returns the restore service over an open catalog and
// repository; the caller keeps both open while the wizard is shown.
func newGUIRestore(cat *catalog.Catalog, r *repo.Repository, o guiRestoreOptions) *guiRestore {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &guiRestore{cat: cat, repo: r, o: o, accounts: map[string]catalog.Account{}, snapTime: map[int64]time.Time{}}
}

// guiRestoreGraph returns guiRestoreOptions.Graph for the signed-in
// accounts: the same clients a backup uses.
func guiRestoreGraph(g *globals, ao authOptions) func(ctx context.Context, a catalog.Account) (*graph.Client, error) {
	var once sync.Once
	var m *auth.Manager
	var mErr error
	var pacer *graph.Pacer
	return func(ctx context.Context, a catalog.Account) (*graph.Client, error) {
		once.Do(func() {
			if m, mErr = authManager(g, ao); mErr == nil {
				pacer, mErr = newPacer(g)
			}
		})
		if mErr != nil {
			return nil, mErr
		}
		graphURL, hc, err := graphEndpoint(g)
		if err != nil {
			return nil, err
		}
		host := graphURL
		if i := strings.Index(host, "://"); i >= 0 {
			host = host[i+3:]
		}
		host, _, _ = strings.Cut(host, "/")
		host, _, _ = strings.Cut(host, ":")
		ts, err := m.TokenSource(a.HomeID, host)
		if err != nil {
			return nil, err
		}
		return graph.New(graph.Options{GraphURL: graphURL, HTTPClient: hc, Auth: ts, Account: a.UPN, Pacer: pacer, Logger: g.logger()})
	}
}

// openRestoreWizard is the dashboard's "Restore…": it opens the backup and
// its catalog off the UI goroutine (a network share can be slow), then the
// wizard in a window of its own, which closes both when it closes.
func openRestoreWizard(a fyne.App, w fyne.Window, e *guiEnv) {
	dest := e.destination()
	if dest == "" {
		dialog.ShowInformation("Nothing to restore yet", "Choose a backup drive and let the first backup run; then you can get things back here.", w)
		return
	}
	wait := dialog.NewCustomWithoutButtons("Opening your backup…", widget.NewProgressBarInfinite(), w)
	wait.Show()
	go func() {
		ctx := context.Background()
		svc, closeAll, err := e.openRestoreService(ctx, dest)
		fyne.Do(func() {
			wait.Hide()
			if err != nil {
				what, todo := explainRestoreOpen(err)
				dialog.ShowInformation("Lifeboat cannot open your backup", what+"\n\n"+todo, w)
				return
			}
			ui.ShowRestoreWindow(a, svc, ui.RestoreWizardOptions{OnClose: closeAll})
		})
	}()
}

// openRestoreService opens the repository at dest and this computer's
// catalog of it (restoring the catalog from the backup's own copy when it
// is missing), and returns the service and what closes them.
func (e *guiEnv) openRestoreService(ctx context.Context, dest string) (*guiRestore, func(), error) {
	if _, err := os.Stat(dest); err != nil {
		return nil, nil, fmt.Errorf("the backup folder %s: %w", dest, err)
	}
	r, err := openRepo(ctx, e.g, e.repoOptionsFor(dest))
	if err != nil {
		return nil, nil, err
	}
	cat, err := openLocalCatalog(ctx, r) // on a fresh computer, the backup's own copy
	if err != nil {
		r.Close()
		return nil, nil, err
	}
	cfg, _, err := configDir()
	if err != nil {
		cat.Close()
		r.Close()
		return nil, nil, err
	}
	_, simulated, _ := e.g.profile()
	svc := newGUIRestore(cat, r, guiRestoreOptions{
		Graph:      guiRestoreGraph(e.g, e.auth),
		JournalDir: filepath.Join(cfg, "restores"),
		NoWebLinks: simulated, // the simulated tenant has no Outlook on the web
		Logger:     e.g.logger(),
	})
	var once sync.Once
	return svc, func() {
		once.Do(func() {
			cat.Close()
			r.Close()
		})
	}, nil
}

// explainRestoreOpen says why the backup could not be opened.
func explainRestoreOpen(err error) (string, string) {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "The backup drive or folder is not there.", "Connect the backup drive, then choose Restore again."
	case errors.Is(err, backup.ErrNoCatalogCopy):
		return "No backup has finished yet.", "Let the first backup finish, then choose Restore again."
	case errors.Is(err, repo.ErrNoKeychainKey), errors.Is(err, repo.ErrWrongKey):
		return "This computer does not have the key to this backup.", "Open Settings › Recovery key and enter your recovery key."
	}
	p := problem(err).(*ui.RestoreProblem)
	return p.What, p.Todo
}

// Item handles: a version is its catalog id; an item is its ItemRef.
func versionHandle(v catalog.VersionInfo) string { return strconv.FormatInt(v.ID, 10) }

func itemHandle(ref catalog.ItemRef) string {
	return ref.Account + "\x00" + string(ref.Kind) + "\x00" + ref.ID
}

func parseItemHandle(s string) (catalog.ItemRef, error) {
	p := strings.SplitN(s, "\x00", 3)
	if len(p) != 3 {
		return catalog.ItemRef{}, fmt.Errorf("restore: not an item handle: %q", s)
	}
	return catalog.ItemRef{Account: p[0], Kind: catalog.ItemKind(p[1]), ID: p[2]}, nil
}

func parseVersionHandle(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("restore: not a version handle: %q", s)
	}
	return id, nil
}

func catalogKind(k ui.ItemKind) catalog.ItemKind {
	if k == ui.ItemFile {
		return catalog.KindFile
	}
	return catalog.KindMail
}

func uiKind(k catalog.ItemKind) ui.ItemKind {
	if k == catalog.KindFile {
		return ui.ItemFile
	}
	return ui.ItemEmail
}

// account returns a catalog account by HomeID, loading them when needed.
func (s *guiRestore) account(ctx context.Context, id string) (catalog.Account, error) {
	s.mu.Lock()
	a, ok := s.accounts[id]
	s.mu.Unlock()
	if ok {
		return a, nil
	}
	if _, err := s.loadAccounts(ctx); err != nil {
		return catalog.Account{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if a, ok := s.accounts[id]; ok {
		return a, nil
	}
	return catalog.Account{HomeID: id}, nil
}

func (s *guiRestore) loadAccounts(ctx context.Context) ([]catalog.Account, error) {
	as, err := s.cat.Accounts(ctx)
	if err != nil {
		return nil, problem(err)
	}
	s.mu.Lock()
	for _, a := range as {
		s.accounts[a.HomeID] = a
	}
	s.mu.Unlock()
	return as, nil
}

func uiAccount(a catalog.Account) ui.RestoreAccount {
	return ui.RestoreAccount{ID: a.HomeID, Name: a.DisplayName, Email: a.UPN}
}

// snapshotTime is when a snapshot was taken (cached: snapshots never change).
func (s *guiRestore) snapshotTime(ctx context.Context, seq int64) (time.Time, error) {
	if seq == 0 {
		return time.Time{}, nil
	}
	s.mu.Lock()
	t, ok := s.snapTime[seq]
	s.mu.Unlock()
	if ok {
		return t, nil
	}
	snap, err := s.cat.GetSnapshot(ctx, seq)
	if err != nil {
		return time.Time{}, err
	}
	s.mu.Lock()
	s.snapTime[seq] = snap.Time
	s.mu.Unlock()
	return snap.Time, nil
}

// item turns a catalog version into a row of the wizard.
func (s *guiRestore) item(ctx context.Context, v catalog.VersionInfo, deletedSeq int64) (ui.RestoreItem, error) {
	a, err := s.account(ctx, v.Item.Account)
	if err != nil {
		return ui.RestoreItem{}, err
	}
	it := ui.RestoreItem{ID: versionHandle(v), Item: itemHandle(v.Item), Kind: uiKind(v.Item.Kind), Account: uiAccount(a),
		Name: v.Name, Folder: v.Folder, Date: v.Time, Size: v.Size}
	if v.Item.Kind == catalog.KindMail {
		// Metadata is from the drive: a damaged document only loses the
		// sender column.
		var m struct {
			From           backup.Person `json:"from"`
			HasAttachments bool          `json:"hasAttachments"`
		}
		if len(v.Metadata) > 0 && json.Unmarshal(v.Metadata, &m) == nil {
			it.From = personText(m.From.Name, m.From.Address)
			it.Attachment = m.HasAttachments
		}
	}
	if deletedSeq != 0 {
		if it.Deleted, err = s.snapshotTime(ctx, deletedSeq); err != nil {
			return ui.RestoreItem{}, problem(err)
		}
	}
	return it, nil
}

func personText(name, addr string) string {
	switch {
	case name != "" && addr != "" && !strings.EqualFold(name, addr):
		return name + " <" + addr + ">"
	case name != "":
		return name
	}
	return addr
}

// Accounts lists the people in the backup, by e-mail address.
func (s *guiRestore) Accounts(ctx context.Context) ([]ui.RestoreAccount, error) {
	as, err := s.loadAccounts(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]ui.RestoreAccount, 0, len(as))
	for _, a := range as {
		out = append(out, uiAccount(a))
	}
	return out, nil
}

// Backups lists the complete snapshots of an account's mail or files,
// newest first.
func (s *guiRestore) Backups(ctx context.Context, account string, kind ui.ItemKind) ([]time.Time, error) {
	sk, err := catalogKind(kind).SnapshotKind()
	if err != nil {
		return nil, err
	}
	snaps, err := s.cat.Snapshots(ctx, account, sk)
	if err != nil {
		return nil, problem(err)
	}
	var out []time.Time
	for i := len(snaps) - 1; i >= 0; i-- {
		if snaps[i].Status == catalog.SnapshotComplete {
			out = append(out, snaps[i].Time)
		}
	}
	return out, nil
}

// browseLimit caps a folder listing; a folder with more is shown in part.
const browseLimit = 20000

// Browse lists one folder at a backup: its subfolders (those holding
// something then) and its items, mail newest first, files by name.
func (s *guiRestore) Browse(ctx context.Context, q ui.BrowseRequest) (ui.FolderListing, error) {
	aq := catalog.AsOfQuery{Account: q.Account, Kind: catalogKind(q.Kind), Time: q.At, Folder: q.Folder, Limit: browseLimit}
	snap, vs, err := s.cat.AsOf(ctx, aq)
	if err != nil {
		return ui.FolderListing{}, problem(err)
	}
	folders, err := s.cat.Folders(ctx, catalog.AsOfQuery{Account: q.Account, Kind: aq.Kind, Snapshot: snap.Seq})
	if err != nil {
		return ui.FolderListing{}, problem(err)
	}
	a, err := s.account(ctx, q.Account)
	if err != nil {
		return ui.FolderListing{}, err
	}
	out := ui.FolderListing{At: snap.Time}
	for _, sub := range subfolders(folders, q.Folder) {
		out.Folders = append(out.Folders, ui.RestoreItem{Kind: q.Kind, Account: uiAccount(a), Folder: sub, Name: sub[strings.LastIndex(sub, "/")+1:], IsFolder: true})
	}
	for _, v := range vs {
		it, err := s.item(ctx, v, 0)
		if err != nil {
			return ui.FolderListing{}, err
		}
		out.Items = append(out.Items, it)
	}
	if q.Kind == ui.ItemEmail {
		sort.SliceStable(out.Items, func(i, j int) bool { return out.Items[i].Date.After(out.Items[j].Date) })
	}
	return out, nil
}

// subfolders returns the folders directly below parent ("" is the top)
// among paths (each folder that held something, with its full path).
func subfolders(paths []string, parent string) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range paths {
		rest := p
		if parent != "" {
			if !strings.HasPrefix(p, parent+"/") {
				continue
			}
			rest = p[len(parent)+1:]
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

// Search runs a full-text search. The last word is a prefix, so results
// follow typing ("invo" finds "invoice").
func (s *guiRestore) Search(ctx context.Context, q ui.RestoreSearch) ([]ui.RestoreItem, error) {
	sq := catalog.SearchQuery{Text: searchText(q.Text), Limit: q.Limit}
	if q.Kind != 0 {
		sq.Kind = catalogKind(q.Kind)
	}
	hits, err := s.cat.Search(ctx, sq)
	if errors.Is(err, catalog.ErrInvalid) {
		// Unbalanced quotes and the like: search for the words alone.
		sq.Text = searchText(strings.Map(func(r rune) rune {
			if r == '"' || r == '*' {
				return ' '
			}
			return r
		}, q.Text))
		hits, err = s.cat.Search(ctx, sq)
	}
	if err != nil {
		return nil, problem(err)
	}
	out := make([]ui.RestoreItem, 0, len(hits))
	for _, h := range hits {
		it, err := s.item(ctx, h.VersionInfo, h.DeletedSeq)
		if err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, nil
}

// searchText makes the last word of what was typed a prefix.
func searchText(t string) string {
	t = strings.TrimSpace(t)
	if t == "" || strings.HasSuffix(t, "*") || strings.HasSuffix(t, `"`) || strings.Count(t, `"`)%2 == 1 {
		return t
	}
	return t + "*"
}

// RecentlyDeleted lists deleted items of every account, most recently
// deleted first.
func (s *guiRestore) RecentlyDeleted(ctx context.Context, limit int) ([]ui.RestoreItem, error) {
	ds, err := s.cat.RecentlyDeleted(ctx, "", limit)
	if err != nil {
		return nil, problem(err)
	}
	out := make([]ui.RestoreItem, 0, len(ds))
	for _, d := range ds {
		it, err := s.item(ctx, d.VersionInfo, 0)
		if err != nil {
			return nil, err
		}
		it.Deleted = d.DeletedAt
		out = append(out, it)
	}
	return out, nil
}

// Versions lists every version of an item, newest first, with the times of
// the first and last backups that held it.
func (s *guiRestore) Versions(ctx context.Context, it ui.RestoreItem) ([]ui.ItemVersion, error) {
	ref, err := parseItemHandle(it.Item)
	if err != nil {
		return nil, err
	}
	vs, err := s.cat.Versions(ctx, ref)
	if err != nil {
		return nil, problem(err)
	}
	out := make([]ui.ItemVersion, 0, len(vs))
	for _, v := range vs {
		row, err := s.item(ctx, v, 0)
		if err != nil {
			return nil, err
		}
		row.Deleted = it.Deleted
		iv := ui.ItemVersion{RestoreItem: row, Current: v.Current()}
		if iv.Seen, err = s.snapshotTime(ctx, v.First); err != nil {
			return nil, problem(err)
		}
		if !iv.Current {
			if iv.Until, err = s.snapshotTime(ctx, v.Last); err != nil {
				return nil, problem(err)
			}
		}
		out = append(out, iv)
	}
	return out, nil
}

// Preview reads an email from the backup for its text and attachments, or
// describes a file.
func (s *guiRestore) Preview(ctx context.Context, it ui.RestoreItem) (ui.ItemPreview, error) {
	id, err := parseVersionHandle(it.ID)
	if err != nil {
		return ui.ItemPreview{}, err
	}
	v, err := s.cat.Version(ctx, id)
	if err != nil {
		return ui.ItemPreview{}, problem(err)
	}
	if v.Item.Kind == catalog.KindFile {
		meta, err := backup.ParseFileMetadata(v.Metadata)
		if err != nil {
			s.o.Logger.Warn("file metadata unreadable", "version", v.ID, "err", err)
		}
		return ui.ItemPreview{Kind: ui.ItemFile, Name: v.Name, Folder: v.Folder, Size: v.Size, Modified: v.Time,
			Created: meta.Created, Type: fileType(v.Name, meta.MimeType)}, nil
	}
	ref, err := backup.DecodeContent(v.Content)
	if err != nil {
		return ui.ItemPreview{}, problem(err)
	}
	rc := s.repo.OpenStream(ctx, ref)
	defer rc.Close()
	pv, err := previewMessage(rc, maxPreviewBody)
	if err != nil {
		return ui.ItemPreview{}, problem(err)
	}
	if pv.Subject == "" {
		pv.Subject = v.Name
	}
	if pv.Date.IsZero() {
		pv.Date = v.Time
	}
	return pv, nil
}

// maxPreviewBody is how much of an email's text the preview shows.
const maxPreviewBody = 64 << 10

// fileType names a file's type in words.
func fileType(name, mimeType string) string {
	ext := strings.ToLower(filepath.Ext(name))
	switch ext {
	case ".xlsx", ".xls", ".xlsm", ".csv":
		return "Spreadsheet (Excel)"
	case ".docx", ".doc", ".rtf", ".odt":
		return "Document (Word)"
	case ".pptx", ".ppt":
		return "Presentation (PowerPoint)"
	case ".pdf":
		return "PDF document"
	case ".jpg", ".jpeg", ".png", ".gif", ".heic", ".webp", ".bmp", ".tif", ".tiff":
		return "Picture"
	case ".txt", ".md":
		return "Text"
	case ".zip", ".7z", ".rar":
		return "Compressed folder"
	case ".mp4", ".mov", ".avi":
		return "Video"
	case ".mp3", ".wav", ".m4a":
		return "Sound"
	}
	if mimeType != "" && len(mimeType) < 100 {
		return mimeType
	}
	if ext != "" {
		return strings.ToUpper(ext[1:]) + " file"
	}
	return "File"
}

// resolve turns the wizard's choice into catalog versions: the chosen
// versions, and everything each chosen folder held at its backup.
func (s *guiRestore) resolve(ctx context.Context, req ui.RestoreRequest) ([]catalog.VersionInfo, error) {
	var out []catalog.VersionInfo
	for _, it := range req.Items {
		id, err := parseVersionHandle(it.ID)
		if err != nil {
			return nil, err
		}
		v, err := s.cat.Version(ctx, id)
		if err != nil {
			return nil, problem(err)
		}
		out = append(out, v)
	}
	for _, f := range req.Folders {
		_, vs, err := restore.ItemsAsOf(ctx, s.cat, catalog.AsOfQuery{Account: f.Account, Kind: catalogKind(f.Kind), Time: f.At,
			Folder: f.Folder, Recursive: true})
		if err != nil {
			return nil, problem(err)
		}
		out = append(out, vs...)
	}
	return out, nil
}

// plannedRestore is one engine plan: the items of one account for a
// Microsoft 365 destination, or all items for a folder on this computer.
type plannedRestore struct {
	account catalog.Account
	dest    restore.Destination
	plan    *restore.Plan
	r       *restore.Restorer
}

// plan plans req: one plan per account when restoring into Microsoft 365
// (each account's mailbox and OneDrive), one for a folder on this
// computer. The caller closes the destinations.
func (s *guiRestore) plan(ctx context.Context, req ui.RestoreRequest, progress func(restore.Progress)) ([]*plannedRestore, error) {
	vs, err := s.resolve(ctx, req)
	if err != nil {
		return nil, err
	}
	conflict := restore.ConflictRename
	switch req.Conflict {
	case ui.ConflictOverwrite:
		conflict = restore.ConflictOverwrite
	case ui.ConflictSkip:
		conflict = restore.ConflictSkip
	}
	groups := map[string][]catalog.VersionInfo{}
	var order []string
	for _, v := range vs {
		key := v.Item.Account
		if req.To == ui.ToComputer {
			key = ""
		}
		if _, ok := groups[key]; !ok {
			order = append(order, key)
		}
		groups[key] = append(groups[key], v)
	}
	var out []*plannedRestore
	fail := func(err error) ([]*plannedRestore, error) {
		for _, p := range out {
			p.dest.Close()
		}
		return nil, err
	}
	for _, key := range order {
		items := groups[key]
		p := &plannedRestore{}
		if key != "" {
			if p.account, err = s.account(ctx, key); err != nil {
				return fail(err)
			}
		}
		switch req.To {
		case ui.ToComputer:
			if !filepath.IsAbs(req.Dir) {
				return fail(&ui.RestoreProblem{What: "Choose a whole folder on this computer, such as one in your Documents.",
					Todo: "Use “Choose folder…” to pick it."})
			}
			var do restore.DirOptions
			if len(distinctAccounts(items)) > 1 {
				// Several people's things: a folder each, named by address.
				do.AccountFolder = func(account string) string {
					a, _ := s.account(ctx, account)
					return firstNonEmpty(a.UPN, account)
				}
			}
			p.dest, err = restore.ToDir(req.Dir, do)
			if err != nil {
				return fail(problem(err))
			}
		default:
			if p.dest, err = s.graphDestination(ctx, p.account, req.To); err != nil {
				return fail(err)
			}
		}
		ro := restore.Options{Content: s.repo, Conflict: conflict, Workers: s.o.Workers, Logger: s.o.Logger, OnProgress: progress}
		if s.o.JournalDir != "" {
			ro.Journal = filepath.Join(s.o.JournalDir, journalName(req, items))
		}
		p.r = restore.New(ro)
		out = append(out, p)
		if p.plan, err = p.r.Plan(ctx, p.dest, items); err != nil {
			return fail(problem(err))
		}
	}
	return out, nil
}

func distinctAccounts(vs []catalog.VersionInfo) map[string]bool {
	m := map[string]bool{}
	for _, v := range vs {
		m[v.Item.Account] = true
	}
	return m
}

// journalName names the journal of one restore: the same choice, place
// and conflict mode continue the same journal.
func journalName(req ui.RestoreRequest, items []catalog.VersionInfo) string {
	ids := make([]int64, 0, len(items))
	for _, v := range items {
		ids = append(ids, v.ID)
	}
	slices.Sort(ids)
	h := sha256.New()
	fmt.Fprintf(h, "%d\x00%s\x00%d\x00", req.To, req.Dir, req.Conflict)
	for _, id := range ids {
		fmt.Fprintf(h, "%d,", id)
	}
	return "restore-" + hex.EncodeToString(h.Sum(nil))[:20] + ".journal"
}

// Plan is the dry run.
func (s *guiRestore) Plan(ctx context.Context, req ui.RestoreRequest) (ui.RestorePlan, error) {
	plans, err := s.plan(ctx, req, nil)
	if err != nil {
		return ui.RestorePlan{}, err
	}
	var out ui.RestorePlan
	for _, p := range plans {
		for _, st := range p.plan.Steps {
			out.Steps = append(out.Steps, planStep(st, req))
		}
		out.Bytes += p.plan.Bytes
		p.dest.Close()
	}
	return out, nil
}

// planStep says what happens to one item, with the place named as the
// owner knows it.
func planStep(st restore.Step, req ui.RestoreRequest) ui.PlanStep {
	ps := ui.PlanStep{Kind: uiKind(st.Item.Item.Kind), Name: st.Item.Name, Where: stepWhere(st, req)}
	switch st.Action {
	case restore.ActionRename:
		ps.Action, ps.NewName = ui.PlanRename, st.Name
	case restore.ActionOverwrite:
		ps.Action = ui.PlanOverwrite
	case restore.ActionSkip:
		ps.Action = ui.PlanSkip
	case restore.ActionDone:
		ps.Action = ui.PlanDone
	default:
		ps.Action = ui.PlanCreate
	}
	return ps
}

func stepWhere(st restore.Step, req ui.RestoreRequest) string {
	folder := strings.Trim(st.Folder, "/")
	if req.To == ui.ToComputer {
		return filepath.Join(req.Dir, filepath.FromSlash(folder))
	}
	if st.Item.Item.Kind == catalog.KindFile {
		if folder == "" {
			return "OneDrive"
		}
		return "OneDrive/" + folder
	}
	if folder == "" {
		return "the mailbox"
	}
	return folder
}

// Restore plans req again (the destination may have changed since the dry
// run) and carries the plan out.
func (s *guiRestore) Restore(ctx context.Context, req ui.RestoreRequest, progress func(ui.RestoreProgress)) (ui.RestoreOutcome, error) {
	var out ui.RestoreOutcome
	var pmu sync.Mutex
	var base ui.RestoreProgress // what earlier accounts' plans did
	plans, err := s.plan(ctx, req, func(p restore.Progress) {
		pmu.Lock()
		cur := base
		pmu.Unlock()
		progress(ui.RestoreProgress{Done: cur.Done + int(p.ItemsDone), Total: cur.Total, BytesDone: cur.BytesDone + p.BytesDone,
			BytesTotal: cur.BytesTotal, Current: p.Current})
	})
	if err != nil {
		return out, err
	}
	defer func() {
		for _, p := range plans {
			p.dest.Close()
		}
	}()
	total := ui.RestoreProgress{}
	for _, p := range plans {
		total.Total += len(p.plan.Steps)
		total.BytesTotal += p.plan.Bytes
	}
	base.Total, base.BytesTotal = total.Total, total.BytesTotal
	progress(base)
	var firstErr error
	for _, p := range plans {
		res, err := p.r.Execute(ctx, p.plan)
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
		for _, f := range res.Failures {
			out.Failed = append(out.Failed, ui.RestoreFailure{Name: firstNonEmpty(f.Step.Item.Name, "(no subject)"), Reason: failureReason(f.Err)})
		}
		pmu.Lock()
		base.Done += len(p.plan.Steps)
		base.BytesDone += res.Bytes
		pmu.Unlock()
		out.Where = joinWhere(out.Where, p.plan.Dest)
		if err != nil {
			firstErr = err
			break
		}
		if !s.o.NoWebLinks && req.To != ui.ToComputer && out.WebURL == "" {
			out.WebURL = webURL(p.account, req)
		}
	}
	if req.To == ui.ToComputer {
		out.LocalDir = req.Dir
	}
	if firstErr != nil {
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
		return out, problem(firstErr)
	}
	return out, nil
}

func joinWhere(a, b string) string {
	if a == "" || a == b {
		return b
	}
	return a + "; " + b
}

// webURL is where the owner sees restored mail or files on the web.
func webURL(a catalog.Account, req ui.RestoreRequest) string {
	mail := false
	for _, it := range req.Items {
		mail = mail || it.Kind == ui.ItemEmail
	}
	for _, f := range req.Folders {
		mail = mail || f.Kind == ui.ItemEmail
	}
	personal := a.Kind == catalog.AccountPersonal
	switch {
	case mail && personal:
		return "https://outlook.live.com/mail/"
	case mail:
		return "https://outlook.office.com/mail/"
	case personal:
		return "https://onedrive.live.com/"
	}
	return "https://www.office.com/onedrive"
}

// failureReason says in words why one item could not be put back.
func failureReason(err error) string {
	switch {
	case errors.Is(err, graph.ErrNotFound):
		return "the place it belongs no longer exists in Microsoft 365"
	case errors.Is(err, graph.ErrAuth):
		return "Microsoft 365 refused access; sign in again in Settings"
	case errors.Is(err, restore.ErrChanged):
		return "it changed there while Lifeboat was working; try again"
	case errors.Is(err, fs.ErrPermission):
		return "Lifeboat may not write there"
	case errors.Is(err, repo.ErrCorrupt):
		return "its copy in the backup is damaged"
	}
	return "it could not be written (" + err.Error() + ")"
}

// problem turns an engine error into words for the owner, keeping it
// wrapped for errors.Is.
func problem(err error) error {
	var p *ui.RestoreProblem
	if err == nil || errors.As(err, &p) || errors.Is(err, context.Canceled) {
		return err
	}
	switch {
	case errors.Is(err, catalog.ErrNoSnapshot), errors.Is(err, restore.ErrNotAtThatTime):
		return &ui.RestoreProblem{What: "The backup holds nothing from that time.", Todo: "Choose a later backup date.", Err: err}
	case errors.Is(err, catalog.ErrNotFound):
		return &ui.RestoreProblem{What: "Lifeboat cannot find that in the backup any more.", Todo: "Search for it again; an old backup may have been thinned out.", Err: err}
	case errors.Is(err, catalog.ErrCorrupt):
		return &ui.RestoreProblem{What: "The list of what your backup holds is damaged.", Todo: "Run Repair in Settings › Diagnostics; it rebuilds it from the backup drive.", Err: err}
	case errors.Is(err, auth.ErrSignInRequired), errors.Is(err, graph.ErrAuth):
		return &ui.RestoreProblem{What: "Microsoft 365 needs you to sign in again.", Todo: "Sign in again in Settings › Accounts, then try again.", Err: err}
	case errors.Is(err, graph.ErrThrottled), errors.Is(err, graph.ErrTransient):
		return &ui.RestoreProblem{What: "Microsoft 365 is busy right now.", Todo: "Wait a few minutes and try again.", Err: err}
	case errors.Is(err, repo.ErrCorrupt):
		return &ui.RestoreProblem{What: "Part of your backup is damaged.", Todo: "Run Check backup in Settings › Diagnostics to see what is affected.", Err: err}
	case errors.Is(err, fs.ErrNotExist):
		return &ui.RestoreProblem{What: "Lifeboat cannot read your backup drive.", Todo: "Connect the backup drive and try again.", Err: err}
	case errors.Is(err, fs.ErrPermission):
		return &ui.RestoreProblem{What: "Lifeboat is not allowed to write there.", Todo: "Choose another folder, or check its permissions.", Err: err}
	}
	return &ui.RestoreProblem{What: "Something went wrong.", Todo: "Check that your backup drive is connected and that you are online, then try again.", Err: err}
}

// errNoGraph means restores into Microsoft 365 are not set up here.
var errNoGraph = errors.New("restore: no Microsoft 365 connection")

var _ ui.RestoreService = (*guiRestore)(nil)
