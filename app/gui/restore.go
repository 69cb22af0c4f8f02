package gui

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/restore"
	"github.com/lifeboat-backup/lifeboat/engine/service"
	"github.com/lifeboat-backup/lifeboat/ui"
)

// restoreService is the restore wizard's ui.RestoreService over a
// service.Browser: it turns the wizard's choices into the application
// layer's and its answers into the wizard's words.
type restoreService struct {
	b *service.Browser
	// noWebLinks leaves out "Open in Outlook on the web" (the simulated
	// tenant has no web pages).
	noWebLinks bool
}

// NewRestoreService returns the wizard's service over an open browser;
// the caller closes the browser when the wizard is closed.
func NewRestoreService(b *service.Browser, noWebLinks bool) ui.RestoreService {
	return &restoreService{b: b, noWebLinks: noWebLinks}
}

// openRestoreWizard is the dashboard's "Restore…": it opens the backup and
// its catalog off the UI goroutine (a network share can be slow), then the
// wizard in a window of its own, which closes both when it closes.
func openRestoreWizard(a fyne.App, w fyne.Window, e *Env) {
	openRestoreWizardWith(a, w, e, ui.RestoreWizardOptions{})
}

// openRestoreWizardWith is openRestoreWizard with the wizard's options
// (where it starts, after an alarm).
func openRestoreWizardWith(a fyne.App, w fyne.Window, e *Env, opts ui.RestoreWizardOptions) {
	dest := e.svc.Destination()
	if dest == "" {
		dialog.ShowInformation("Nothing to restore yet", "Choose a backup drive and let the first backup run; then you can get things back here.", w)
		return
	}
	wait := dialog.NewCustomWithoutButtons("Opening your backup…", widget.NewProgressBarInfinite(), w)
	wait.Show()
	go func() {
		svc, closeAll, err := e.OpenRestoreService(context.Background())
		fyne.Do(func() {
			wait.Hide()
			if err != nil {
				what, todo := service.ExplainOpen(err)
				dialog.ShowInformation("Lifeboat cannot open your backup", what+"\n\n"+todo, w)
				return
			}
			opts.OnClose = closeAll
			ui.ShowRestoreWindow(a, svc, opts)
		})
	}()
}

// OpenRestoreService opens the chosen backup and this computer's catalog
// of it (restored from the backup's own copy when it is missing), and
// returns the wizard's service and what closes them.
func (e *Env) OpenRestoreService(ctx context.Context) (ui.RestoreService, func(), error) {
	b, err := e.svc.OpenBrowser(ctx, e.svc.Destination(), "")
	if err != nil {
		return nil, nil, err
	}
	var once sync.Once
	return NewRestoreService(b, e.svc.Options().Tenant.Simulated()), func() { once.Do(b.Close) }, nil
}

// Item handles: a version is its catalog id; an item is its ItemRef.
func versionHandle(v catalog.VersionInfo) string { return strconv.FormatInt(v.ID, 10) }

func itemHandle(ref catalog.ItemRef) string {
	return ref.Account + "\x00" + string(ref.Kind) + "\x00" + ref.ID
}

func parseItemHandle(s string) (catalog.ItemRef, error) {
	p := strings.SplitN(s, "\x00", 3)
	if len(p) != 3 {
		return catalog.ItemRef{}, errors.New("restore: not an item handle")
	}
	return catalog.ItemRef{Account: p[0], Kind: catalog.ItemKind(p[1]), ID: p[2]}, nil
}

func parseVersionHandle(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, errors.New("restore: not a version handle")
	}
	return id, nil
}

func catalogKind(k ui.ItemKind) catalog.ItemKind {
	switch k {
	case ui.ItemFile:
		return catalog.KindFile
	case ui.ItemEvent:
		return catalog.KindEvent
	case ui.ItemContact:
		return catalog.KindContact
	}
	return catalog.KindMail
}

func uiKind(k catalog.ItemKind) ui.ItemKind {
	switch k {
	case catalog.KindFile:
		return ui.ItemFile
	case catalog.KindEvent:
		return ui.ItemEvent
	case catalog.KindContact:
		return ui.ItemContact
	}
	return ui.ItemEmail
}

func uiAccount(a catalog.Account) ui.RestoreAccount {
	return ui.RestoreAccount{ID: a.HomeID, Name: a.DisplayName, Email: a.UPN}
}

// problem puts the application layer's explanation in the wizard's type.
func problem(err error) error {
	var p *service.Problem
	if errors.As(service.ExplainProblem(err), &p) {
		return &ui.RestoreProblem{What: p.What, Todo: p.Todo, Err: p.Err}
	}
	return err
}

// item turns a catalog version into a row of the wizard.
func (s *restoreService) item(ctx context.Context, h service.Hit) (ui.RestoreItem, error) {
	v := h.Version
	a, err := s.b.AccountByID(ctx, v.Item.Account)
	if err != nil {
		return ui.RestoreItem{}, problem(err)
	}
	sum := service.SummarizeMail(v)
	if v.Item.Kind == catalog.KindEvent || v.Item.Kind == catalog.KindContact {
		sum.From = service.SummarizePIM(v)
	}
	return ui.RestoreItem{ID: versionHandle(v), Item: itemHandle(v.Item), Kind: uiKind(v.Item.Kind), Account: uiAccount(a),
		Name: v.Name, Folder: v.Folder, Date: v.Time, Size: v.Size, Deleted: h.Deleted, From: sum.From, Attachment: sum.HasAttachments}, nil
}

func (s *restoreService) items(ctx context.Context, hits []service.Hit) ([]ui.RestoreItem, error) {
	out := make([]ui.RestoreItem, 0, len(hits))
	for _, h := range hits {
		it, err := s.item(ctx, h)
		if err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, nil
}

func (s *restoreService) Accounts(ctx context.Context) ([]ui.RestoreAccount, error) {
	as, err := s.b.Accounts(ctx)
	if err != nil {
		return nil, problem(err)
	}
	out := make([]ui.RestoreAccount, 0, len(as))
	for _, a := range as {
		out = append(out, uiAccount(a))
	}
	return out, nil
}

func (s *restoreService) Backups(ctx context.Context, account string, kind ui.ItemKind) ([]time.Time, error) {
	ts, err := s.b.Backups(ctx, account, catalogKind(kind))
	return ts, problem(err)
}

func (s *restoreService) Browse(ctx context.Context, q ui.BrowseRequest) (ui.FolderListing, error) {
	l, err := s.b.List(ctx, q.Account, catalogKind(q.Kind), q.Folder, service.Point{At: q.At})
	if err != nil {
		return ui.FolderListing{}, problem(err)
	}
	a, err := s.b.AccountByID(ctx, q.Account)
	if err != nil {
		return ui.FolderListing{}, problem(err)
	}
	out := ui.FolderListing{At: l.At}
	for _, sub := range l.Folders {
		out.Folders = append(out.Folders, ui.RestoreItem{Kind: q.Kind, Account: uiAccount(a), Folder: sub, Name: sub[strings.LastIndex(sub, "/")+1:], IsFolder: true})
	}
	for _, v := range l.Items {
		it, err := s.item(ctx, service.Hit{Version: v})
		if err != nil {
			return ui.FolderListing{}, err
		}
		out.Items = append(out.Items, it)
	}
	return out, nil
}

func (s *restoreService) Search(ctx context.Context, q ui.RestoreSearch) ([]ui.RestoreItem, error) {
	req := service.FindRequest{Text: q.Text, AsTyped: true, Limit: q.Limit}
	if q.Kind != 0 {
		req.Kind = catalogKind(q.Kind)
	}
	hits, err := s.b.Find(ctx, req)
	if err != nil {
		return nil, problem(err)
	}
	return s.items(ctx, hits)
}

func (s *restoreService) RecentlyDeleted(ctx context.Context, limit int) ([]ui.RestoreItem, error) {
	hits, err := s.b.RecentlyDeleted(ctx, limit)
	if err != nil {
		return nil, problem(err)
	}
	return s.items(ctx, hits)
}

func (s *restoreService) Versions(ctx context.Context, it ui.RestoreItem) ([]ui.ItemVersion, error) {
	ref, err := parseItemHandle(it.Item)
	if err != nil {
		return nil, err
	}
	vs, err := s.b.Versions(ctx, ref)
	if err != nil {
		return nil, problem(err)
	}
	out := make([]ui.ItemVersion, 0, len(vs))
	for _, v := range vs {
		row, err := s.item(ctx, service.Hit{Version: v.VersionInfo, Deleted: it.Deleted})
		if err != nil {
			return nil, err
		}
		iv := ui.ItemVersion{RestoreItem: row, Current: v.Current(), Seen: v.Seen}
		if !iv.Current {
			iv.Until = v.LastSeen
		}
		out = append(out, iv)
	}
	return out, nil
}

func (s *restoreService) Preview(ctx context.Context, it ui.RestoreItem) (ui.ItemPreview, error) {
	id, err := parseVersionHandle(it.ID)
	if err != nil {
		return ui.ItemPreview{}, err
	}
	pv, err := s.b.Preview(ctx, id)
	if err != nil {
		return ui.ItemPreview{}, problem(err)
	}
	out := ui.ItemPreview{Kind: uiKind(pv.Kind), Subject: pv.Subject, From: pv.From, To: pv.To, Cc: pv.Cc, Date: pv.Date, Body: pv.Body,
		BodyTruncated: pv.BodyTruncated, Name: pv.Name, Folder: pv.Folder, Type: pv.Type, Size: pv.Size, Modified: pv.Modified, Created: pv.Created}
	for _, a := range pv.Attachments {
		out.Attachments = append(out.Attachments, ui.PreviewAttachment{Name: a.Name, Size: a.Size})
	}
	pimPreview(pv, &out)
	return out, nil
}

// request turns the wizard's choice into the application layer's.
func (s *restoreService) request(ctx context.Context, req ui.RestoreRequest) (service.RestoreRequest, error) {
	var sels []service.Selection
	for _, it := range req.Items {
		id, err := parseVersionHandle(it.ID)
		if err != nil {
			return service.RestoreRequest{}, err
		}
		sels = append(sels, service.Selection{Version: id})
	}
	for _, f := range req.Folders {
		sels = append(sels, service.Selection{Account: f.Account, Kind: catalogKind(f.Kind), Folder: f.Folder, At: service.Point{At: f.At}})
	}
	items, err := s.b.Select(ctx, sels)
	if err != nil {
		return service.RestoreRequest{}, problem(err)
	}
	out := service.RestoreRequest{Items: items, Conflict: restore.ConflictRename}
	switch req.Conflict {
	case ui.ConflictOverwrite:
		out.Conflict = restore.ConflictOverwrite
	case ui.ConflictSkip:
		out.Conflict = restore.ConflictSkip
	}
	switch req.To {
	case ui.ToComputer:
		if !filepath.IsAbs(req.Dir) {
			return out, &ui.RestoreProblem{What: "Choose a whole folder on this computer, such as one in your Documents.",
				Todo: "Use “Choose folder…” to pick it."}
		}
		out.To, out.Dir = service.ToDir, req.Dir
	case ui.ToNewFolder:
		out.To = service.ToNewFolder
	default:
		out.To = service.ToOriginal
	}
	return out, nil
}

// Plan is the dry run.
func (s *restoreService) Plan(ctx context.Context, req ui.RestoreRequest) (ui.RestorePlan, error) {
	sreq, err := s.request(ctx, req)
	if err != nil {
		return ui.RestorePlan{}, err
	}
	pl, err := s.b.PlanRestore(ctx, sreq)
	if err != nil {
		return ui.RestorePlan{}, problem(err)
	}
	defer pl.Close()
	out := ui.RestorePlan{Bytes: pl.Bytes}
	for _, g := range pl.Groups {
		for _, st := range g.Plan.Steps {
			out.Steps = append(out.Steps, planStep(st, req))
		}
	}
	return out, nil
}

// planStep says what happens to one item, with the place named as the
// owner knows it.
func planStep(st restore.Step, req ui.RestoreRequest) ui.PlanStep {
	ps := ui.PlanStep{Kind: uiKind(st.Item.Item.Kind), Name: st.Item.Name, Where: stepWhere(st, req)}
	if st.Reason == restore.MeetingNote {
		ps.Note = meetingNote
	}
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
	if k := st.Item.Item.Kind; k == catalog.KindEvent || k == catalog.KindContact {
		return pimWhere(st)
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
func (s *restoreService) Restore(ctx context.Context, req ui.RestoreRequest, progress func(ui.RestoreProgress)) (ui.RestoreOutcome, error) {
	var out ui.RestoreOutcome
	sreq, err := s.request(ctx, req)
	if err != nil {
		return out, err
	}
	pl, err := s.b.PlanRestore(ctx, sreq)
	if err != nil {
		return out, problem(err)
	}
	defer pl.Close()
	progress(ui.RestoreProgress{Total: int(pl.Items), BytesTotal: pl.Bytes})
	res, err := s.b.RunRestore(ctx, pl, service.RestoreEvents{Progress: func(p service.RestoreProgress) {
		progress(ui.RestoreProgress{Done: int(p.ItemsDone), Total: int(p.ItemsTotal), BytesDone: p.BytesDone, BytesTotal: p.BytesTotal, Current: p.Current})
	}})
	out.Restored, out.Renamed, out.Overwritten, out.Skipped, out.Where = res.Restored, res.Renamed, res.Overwritten, res.Skipped, res.Where
	for _, f := range res.Failures {
		name := f.Step.Item.Name
		if name == "" {
			name = "(no subject)"
		}
		out.Failed = append(out.Failed, ui.RestoreFailure{Name: name, Reason: service.FailureReason(f.Err)})
	}
	if req.To == ui.ToComputer {
		out.LocalDir = req.Dir
	} else if !s.noWebLinks && len(res.Accounts) > 0 {
		out.WebURL = webURL(res.Accounts[0], req)
	}
	if err != nil {
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
		return out, problem(err)
	}
	return out, nil
}

// webURL is where the owner sees restored mail or files on the web.
func webURL(a catalog.Account, req ui.RestoreRequest) string {
	if u := pimWebURL(a, req); u != "" {
		return u
	}
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

var _ ui.RestoreService = (*restoreService)(nil)
