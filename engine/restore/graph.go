package restore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/backup"
	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/graph"
)

// Mailbox is the part of Graph a restore into a mailbox uses
// (*graph.Client).
type Mailbox interface {
	ListMailFolders(ctx context.Context, user string) ([]graph.MailFolder, error)
	EnsureMailFolderPath(ctx context.Context, user string, path []string) (graph.MailFolder, error)
	FindMessages(ctx context.Context, user, folderID, internetMessageID string) ([]string, error)
	DeleteMessage(ctx context.Context, user, messageID string) error
	ImportMessage(ctx context.Context, user, folderID string, mime io.Reader, meta graph.ImportMeta) (string, error)
}

// Drive is the part of Graph a restore into a OneDrive uses
// (*graph.Client).
type Drive interface {
	GetDrive(ctx context.Context, user string) (graph.Drive, error)
	ItemByPath(ctx context.Context, driveID, path string) (graph.DriveItem, error)
	EnsureFolderPath(ctx context.Context, driveID, path string) (graph.DriveItem, error)
	UploadFile(ctx context.Context, driveID, parentID, name string, size int64, r io.Reader, o graph.UploadOptions) (graph.DriveItem, error)
}

// NewFolderName is the folder a "new folder" restore creates.
func NewFolderName(now time.Time) string {
	return "Restored by Lifeboat " + now.Format(time.DateOnly)
}

type graphDest struct {
	mb      Mailbox
	dr      Drive
	user    string
	account string        // catalog account the items must belong to; "" for any
	top     string        // new-folder restores: the folder everything goes into
	pim     PIM           // calendars and contacts (pim.go); nil: none
	content ContentSource // attachments and photos, set by Execute

	attached map[string]int // event id → attachments this restore added

	mu        sync.Mutex
	folders   map[string]string // mail folder path (fold key) → id, loaded once
	driveID   string
	driveName string
	// Lookups made while planning, many at once (prefetch), then used
	// by the plan's decisions, which are made one item at a time.
	found map[string][]string // folder id + internetMessageId → message ids
	items map[string]lookup   // drive path → what is there
	// ensureMu serialises creating folders, so parallel writers never
	// create the same folder twice; ensured remembers them.
	ensureMu sync.Mutex
	ensured  map[string]string // "mail:"/"file:" + path → id
}

// lookup is the result of an ItemByPath.
type lookup struct {
	it     graph.DriveItem
	exists bool
}

// ToOriginal restores into user's mailbox and OneDrive where each item was:
// a message into its folder (recreated by path if it is gone), a file to
// its path (parent folders recreated). account, when set, is the catalog
// account those belong to; items of other accounts are refused. mb or dr
// may be nil when no mail or no files are restored.
func ToOriginal(mb Mailbox, dr Drive, user, account string) Destination {
	return &graphDest{mb: mb, dr: dr, user: user, account: account}
}

// ToNewFolder restores into a new folder named folder (see NewFolderName)
// at the top of the mailbox and of the OneDrive, keeping each item's
// folder path below it.
func ToNewFolder(mb Mailbox, dr Drive, user, account, folder string) Destination {
	return &graphDest{mb: mb, dr: dr, user: user, account: account, top: folder}
}

func (g *graphDest) String() string {
	whose := "the"
	if g.user != "me" && g.user != "" {
		whose = g.user + "'s"
	}
	if g.top != "" {
		return fmt.Sprintf("the folder %q in %s mailbox and OneDrive", g.top, whose)
	}
	return fmt.Sprintf("the original places in %s mailbox and OneDrive", whose)
}

func (g *graphDest) Close() error { return nil }

func (g *graphDest) key() string { return "graph:" + g.user + "\x00" + g.account + "\x00" + g.top }

// folderPath is where an item goes, by component.
func (g *graphDest) folderPath(v catalog.VersionInfo) []string {
	var out []string
	if g.top != "" {
		out = append(out, g.top)
	}
	for _, c := range strings.Split(v.Folder, "/") {
		if c != "" {
			out = append(out, c)
		}
	}
	return out
}

func (g *graphDest) plan(ctx context.Context, p *planner, v catalog.VersionInfo) (Step, error) {
	s := Step{Item: v, Path: strings.TrimPrefix(v.Folder+"/"+v.Name, "/")}
	if g.account != "" && v.Item.Account != g.account {
		return s, problem("restore: %q belongs to another account", v.Name)
	}
	switch v.Item.Kind {
	case catalog.KindMail:
		if g.mb == nil {
			return s, problem("restore: no mailbox to restore mail into")
		}
		return g.planMail(ctx, p, v)
	case catalog.KindFile:
		if g.dr == nil {
			return s, problem("restore: no OneDrive to restore files into")
		}
		return g.planFile(ctx, p, v)
	case catalog.KindEvent, catalog.KindContact:
		return g.planPIM(v)
	case catalog.KindChatMessage:
		return s, problem("restore: %s", TeamsRestoreRefusal)
	}
	return s, problem("restore: unknown item kind %q", v.Item.Kind)
}

// mailFolderID finds an existing mail folder by path without creating it.
func (g *graphDest) mailFolderID(ctx context.Context, path []string) (string, bool, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.folders == nil {
		fs, err := g.mb.ListMailFolders(ctx, g.user)
		if err != nil {
			return "", false, err
		}
		byID := map[string]graph.MailFolder{}
		for _, f := range fs {
			byID[f.ID] = f
		}
		g.folders = map[string]string{}
		for _, f := range fs {
			var parts []string
			for cur, ok, n := f, true, 0; ok && n < 64; cur, ok = byID[cur.ParentID] {
				parts = append([]string{cur.DisplayName}, parts...)
				n++
			}
			g.folders[foldKey(strings.Join(parts, "/"))] = f.ID
		}
	}
	id, ok := g.folders[foldKey(strings.Join(path, "/"))]
	return id, ok, nil
}

func (g *graphDest) planMail(ctx context.Context, p *planner, v catalog.VersionInfo) (Step, error) {
	folder := g.folderPath(v)
	s := Step{Item: v, Action: ActionCreate, folder: folder, Folder: strings.Join(folder, "/"), Name: v.Name}
	s.Path = s.Folder + "/" + v.Name
	if len(folder) == 0 {
		return s, problem("restore: the message %q has no folder", v.Name)
	}
	id, ok, err := g.mailFolderID(ctx, folder)
	if err != nil {
		return s, err
	}
	if !ok {
		s.Reason = "its folder will be created"
		return s, nil
	}
	if v.InternetMessageID == "" {
		return s, nil
	}
	key := "mail:" + foldKey(s.Folder) + "\x00" + v.InternetMessageID
	if !p.claim(key) {
		s.Action, s.Reason = ActionRename, "another copy of this message is restored into the same folder; keeping both"
		return s, nil
	}
	ids, err := g.findMessages(ctx, id, v.InternetMessageID)
	if err != nil {
		return s, err
	}
	if len(ids) == 0 {
		return s, nil
	}
	switch p.conflict {
	case ConflictSkip:
		s.Action, s.Reason = ActionSkip, "the message is already in this folder"
	case ConflictOverwrite:
		s.Action, s.Reason, s.existing = ActionOverwrite, "replaces the copy already in this folder", ids
	default:
		s.Action, s.Reason = ActionRename, "the message is already in this folder; keeping both"
	}
	return s, nil
}

func (g *graphDest) drive(ctx context.Context) (string, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.driveID == "" {
		d, err := g.dr.GetDrive(ctx, g.user)
		if err != nil {
			return "", err
		}
		g.driveID, g.driveName = d.ID, d.Name
	}
	return g.driveID, nil
}

func (g *graphDest) planFile(ctx context.Context, p *planner, v catalog.VersionInfo) (Step, error) {
	folder := g.folderPath(v)
	dir := strings.Join(folder, "/")
	s := Step{Item: v, Action: ActionCreate, folder: folder, Folder: dir}
	if v.Name == "" || strings.ContainsAny(v.Name, "/\\") || v.Name == "." || v.Name == ".." {
		s.Path = strings.TrimPrefix(dir+"/"+v.Name, "/")
		return s, problem("restore: the file name %q cannot be restored to OneDrive", v.Name)
	}
	if v.Size > oneDriveMaxFile {
		s.Path = strings.TrimPrefix(dir+"/"+v.Name, "/")
		return s, problem("restore: %q is larger than OneDrive allows (250 GB); save it to this computer instead", v.Name)
	}
	folder, name, adjusted := fitOneDrivePath(folder, v.Name)
	dir = strings.Join(folder, "/")
	s.folder, s.Folder = folder, dir
	driveID, err := g.drive(ctx)
	if err != nil {
		return s, err
	}
	why := ""
	for n := 0; ; n++ {
		cand := name
		if n > 0 {
			cand = numbered(name, n)
		}
		full := strings.TrimPrefix(dir+"/"+cand, "/")
		key := "file:" + foldKey(full)
		if p.claimed[key] {
			why = "another restored file has this name"
			continue
		}
		l, err := g.itemByPath(ctx, driveID, full)
		if err != nil {
			return s, err
		}
		it, exists := l.it, l.exists
		if exists && n == 0 {
			switch {
			case p.conflict == ConflictSkip:
				s.Action, s.Path, s.Name, s.Reason = ActionSkip, full, cand, "already exists"
				return s, nil
			case p.conflict == ConflictOverwrite && !it.IsFolder && !it.IsPackage:
				p.claim(key)
				s.Action, s.Path, s.Name, s.Reason = ActionOverwrite, full, cand, "replaces the existing file"
				return s, nil
			}
		}
		if exists {
			if why == "" {
				why = "something with this name already exists"
			}
			continue
		}
		p.claim(key)
		if n > 0 {
			s.Action, s.Reason = ActionRename, why
		}
		if adjusted != "" {
			s.Reason = strings.TrimPrefix(s.Reason+"; restored as "+strconv.Quote(full)+": "+adjusted, "; ")
		}
		s.Path, s.Name = full, cand
		return s, nil
	}
}

func (g *graphDest) findMessages(ctx context.Context, folderID, messageID string) ([]string, error) {
	key := folderID + "\x00" + messageID
	g.mu.Lock()
	ids, ok := g.found[key]
	g.mu.Unlock()
	if ok {
		return ids, nil
	}
	ids, err := g.mb.FindMessages(ctx, g.user, folderID, messageID)
	if err != nil {
		return nil, err
	}
	g.mu.Lock()
	if g.found == nil {
		g.found = map[string][]string{}
	}
	g.found[key] = ids
	g.mu.Unlock()
	return ids, nil
}

func (g *graphDest) itemByPath(ctx context.Context, driveID, p string) (lookup, error) {
	g.mu.Lock()
	l, ok := g.items[p]
	g.mu.Unlock()
	if ok {
		return l, nil
	}
	it, err := g.dr.ItemByPath(ctx, driveID, p)
	if err != nil && !errors.Is(err, graph.ErrNotFound) {
		return lookup{}, err
	}
	l = lookup{it: it, exists: err == nil}
	g.mu.Lock()
	if g.items == nil {
		g.items = map[string]lookup{}
	}
	g.items[p] = l
	g.mu.Unlock()
	return l, nil
}

// forget drops what earlier plans looked up: each plan sees the
// destination as it is now.
func (g *graphDest) forget() {
	g.mu.Lock()
	g.folders, g.found, g.items = nil, nil, nil
	g.mu.Unlock()
	g.ensureMu.Lock()
	g.ensured = nil
	g.ensureMu.Unlock()
}

// prefetch makes the lookups planning v needs, so that a bulk restore's
// plan asks Graph many things at once instead of one after another.
func (g *graphDest) prefetch(ctx context.Context, v catalog.VersionInfo) error {
	if g.account != "" && v.Item.Account != g.account {
		return nil // plan reports it
	}
	folder := g.folderPath(v)
	switch {
	case v.Item.Kind == catalog.KindMail && g.mb != nil && len(folder) > 0 && v.InternetMessageID != "":
		id, ok, err := g.mailFolderID(ctx, folder)
		if err != nil || !ok {
			return err
		}
		_, err = g.findMessages(ctx, id, v.InternetMessageID)
		return err
	case v.Item.Kind == catalog.KindFile && g.dr != nil && v.Name != "" && !strings.ContainsAny(v.Name, "/\\"):
		driveID, err := g.drive(ctx)
		if err != nil {
			return err
		}
		if v.Size > oneDriveMaxFile {
			return nil // plan reports it
		}
		folder, name, _ := fitOneDrivePath(folder, v.Name)
		_, err = g.itemByPath(ctx, driveID, strings.TrimPrefix(strings.Join(folder, "/")+"/"+name, "/"))
		return err
	}
	return nil
}

// ensureMailFolder finds or creates a mail folder once per restore.
func (g *graphDest) ensureMailFolder(ctx context.Context, path []string) (string, error) {
	g.ensureMu.Lock()
	defer g.ensureMu.Unlock()
	key := "mail:" + foldKey(strings.Join(path, "/"))
	if id, ok := g.ensured[key]; ok {
		return id, nil
	}
	f, err := g.mb.EnsureMailFolderPath(ctx, g.user, path)
	if err != nil {
		return "", err
	}
	if g.ensured == nil {
		g.ensured = map[string]string{}
	}
	g.ensured[key] = f.ID
	return f.ID, nil
}

// ensureDriveFolder finds or creates a OneDrive folder once per restore.
func (g *graphDest) ensureDriveFolder(ctx context.Context, driveID, path string) (string, error) {
	g.ensureMu.Lock()
	defer g.ensureMu.Unlock()
	key := "file:" + foldKey(path)
	if id, ok := g.ensured[key]; ok {
		return id, nil
	}
	f, err := g.dr.EnsureFolderPath(ctx, driveID, path)
	if err != nil {
		return "", err
	}
	if g.ensured == nil {
		g.ensured = map[string]string{}
	}
	g.ensured[key] = f.ID
	return f.ID, nil
}

func (g *graphDest) write(ctx context.Context, s *Step, content io.Reader) error {
	switch s.Item.Item.Kind {
	case catalog.KindMail:
		return g.writeMail(ctx, s, content)
	case catalog.KindEvent:
		return g.writeEvent(ctx, s, content)
	case catalog.KindContact:
		return g.writeContact(ctx, s, content)
	}
	return g.writeFile(ctx, s, content)
}

func (g *graphDest) writeMail(ctx context.Context, s *Step, content io.Reader) error {
	meta, err := backup.ParseMailMetadata(s.Item.Metadata)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	folderID, err := g.ensureMailFolder(ctx, s.folder)
	if err != nil {
		return fmt.Errorf("restore: mail folder %s: %w", s.Folder, err)
	}
	_, err = g.mb.ImportMessage(ctx, g.user, folderID, content, graph.ImportMeta{
		IsRead: meta.IsRead, Flag: meta.Flag, Categories: meta.Categories, Importance: meta.Importance,
		Received: s.Item.Time, Sent: meta.Sent,
	})
	if err != nil {
		return explainMailWrite(s, err) // msgsize.go
	}
	// The old copy goes only once the restored one exists, so a failure
	// never leaves neither.
	for _, id := range s.existing {
		if err := g.mb.DeleteMessage(ctx, g.user, id); err != nil && !errors.Is(err, graph.ErrNotFound) {
			return fmt.Errorf("restore: removing the replaced message %q: %w", s.Item.Name, err)
		}
	}
	return nil
}

func (g *graphDest) writeFile(ctx context.Context, s *Step, content io.Reader) error {
	meta, err := backup.ParseFileMetadata(s.Item.Metadata)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	driveID, err := g.drive(ctx)
	if err != nil {
		return err
	}
	parentID, err := g.ensureDriveFolder(ctx, driveID, s.Folder)
	if err != nil {
		return fmt.Errorf("restore: OneDrive folder %q: %w", s.Folder, err)
	}
	conflict := "fail"
	if s.Action == ActionOverwrite {
		conflict = "replace"
	}
	modified := meta.Modified
	if modified.IsZero() {
		modified = s.Item.Time
	}
	_, err = g.dr.UploadFile(ctx, driveID, parentID, s.Name, s.Item.Size, content, graph.UploadOptions{
		Conflict: conflict, Created: meta.Created, Modified: modified,
	})
	if errors.Is(err, graph.ErrConflict) {
		return fmt.Errorf("%w: %s exists now", ErrChanged, s.Path)
	}
	if werr := oneDriveWriteError(s.Path, err); werr != nil {
		return werr
	}
	if err != nil {
		return fmt.Errorf("restore: uploading %s: %w", s.Path, err)
	}
	return nil
}
