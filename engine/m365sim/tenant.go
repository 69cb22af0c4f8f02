package m365sim

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"
)

// Errors returned by Tenant methods; Graph handlers map them to HTTP codes.
var (
	ErrNoUser   = errors.New("m365sim: no such user")
	ErrNoFolder = errors.New("m365sim: no such mail folder")
	ErrNoItem   = errors.New("m365sim: no such item")
	ErrConflict = errors.New("m365sim: name already exists")
)

// Well-known mail folder names that Graph accepts in place of a folder ID.
var wellKnownFolders = []struct{ name, display string }{
	{"inbox", "Inbox"},
	{"drafts", "Drafts"},
	{"sentitems", "Sent Items"},
	{"deleteditems", "Deleted Items"},
	{"junkemail", "Junk Email"},
	{"archive", "Archive"},
	{"outbox", "Outbox"},
}

// Tenant is the whole simulated organisation. All state changes go through
// its methods, which take the lock and bump the change sequence that delta
// queries are answered from.
type Tenant struct {
	mu      sync.RWMutex
	ID      string
	Domain  string
	Name    string
	seq     int64 // last change sequence number; every mutation increments it
	epoch   int64 // bumped to invalidate all outstanding drive delta tokens
	users   []*User
	byID    map[string]*User
	byUPN   map[string]*User
	now     func() time.Time
	nextIDs int64
	outbox  []SentMessage // invitations, updates, cancellations (calendar.go)
	// msgSizeLimit is the mailboxes' message size limit (msgsize.go).
	msgSizeLimit int64
	// seqTimes records when sequence numbers were reached, for drive
	// delta with a timestamp token (drivedelta_time.go).
	seqTimes []seqMark
	// driveGoneCode, when set, is the error code of the 410 that expired
	// drive delta tokens get (ExpireDeltaTokensWith).
	driveGoneCode string
	// org holds app registrations and their permissions (applications.go).
	org orgDirectory
	// sites are the SharePoint sites and their libraries (sites.go).
	sites siteDirectory
	// deletedUsers are soft-deleted users; driveRetention how long their
	// OneDrive is kept (lifecycle.go).
	deletedUsers   []deletedUser
	driveRetention time.Duration
	// teams are the teams and their conversations (teams.go).
	teams teamsState
}

// User is one mailbox and one OneDrive.
type User struct {
	ID          string
	UPN         string
	DisplayName string
	GivenName   string
	Surname     string
	JobTitle    string

	folders    map[string]*MailFolder
	rootFolder string
	messages   map[string]*Message
	mailGone   []tombstone // deletions and moves out of a folder, for delta
	pim        *userPIM    // calendars and contacts (calendar.go, contacts.go)
	// deltaEvicted counts, per folder ID (mailDeltaFolders for the folder
	// list), how often its delta tokens were evicted (ExpireMailDelta).
	deltaEvicted map[string]mailEviction
	// foldersGone are deleted folders, for the folder list's delta.
	foldersGone []tombstone
	// restIDs maps the default-format IDs of moved messages to their IDs.
	restIDs map[string]string

	Drive *Drive
	// dir is the directory state: account, licence, mailbox kind, OneDrive
	// (directory.go).
	dir directoryState
	// roles are directory role template IDs (directoryroles.go).
	roles []string
}

// tombstone records that an item left a container at a sequence number.
type tombstone struct {
	ID       string
	ParentID string
	Seq      int64
	RestID   string // a message's default-format ID when it left (immutableid.go)
}

// MailFolder is one folder of a mailbox.
type MailFolder struct {
	ID            string
	ParentID      string
	DisplayName   string
	WellKnownName string
	Hidden        bool
	Seq           int64
	removed       bool // a tombstone in a folder delta page
}

// Message is one email: the MIME bytes exactly as stored, plus the mutable
// properties Graph exposes beside them.
type Message struct {
	ID                string
	FolderID          string
	MIME              []byte
	Header            MessageHeader
	IsRead            bool
	FlagStatus        string // notFlagged, flagged, complete
	Categories        []string
	Importance        string // low, normal, high
	IsDraft           bool
	Inference         string // inferenceClassification; "" is focused
	Created           time.Time
	Modified          time.Time
	ChangeKey         string
	Seq               int64             // last change
	CreatedSeq        int64             // when it was created or moved into its folder
	ExtendedPropsJSON map[string]string // singleValueExtendedProperties by id
	// Attachments are those added through Graph (POST or upload session)
	// to a message created from JSON; MIME is rebuilt with them.
	Attachments []Attachment
	// References are links to files attached to the message
	// (itemattach.go).
	References []ReferenceAttachment
	// composed holds the JSON a message was created from, so its MIME can
	// be rebuilt when attachments are added; nil for MIME messages.
	composed *composedMessage
	// restID is the default-format ID when it differs from ID (after a
	// move); see immutableid.go.
	restID string
}

// Drive is a user's OneDrive for Business.
type Drive struct {
	ID     string
	RootID string
	Quota  int64
	items  map[string]*DriveItem
	gone   []*DriveItem    // deleted items, kept as tombstones for delta
	locked map[string]bool // LockFile
}

// DriveItem is a file or folder in a drive.
type DriveItem struct {
	ID       string
	ParentID string // empty for the root
	Name     string
	Folder   bool
	// Package is the package type ("oneNote") of a folder-like item that
	// Graph shows with the package facet instead of folder (notebook.go).
	Package  string
	Content  Content // nil for folders
	QuickXor string  // base64 QuickXorHash of Content
	Created  time.Time
	Modified time.Time
	// FSCreated and FSModified are fileSystemInfo: the client-side times.
	FSCreated  time.Time
	FSModified time.Time
	ETag       string
	CTag       string
	Seq        int64
	Deleted    bool
	// Served, when set, is what the download host serves instead of
	// Content, whose size and QuickXorHash the metadata keeps describing
	// (RewriteOnDownload).
	Served Content
}

// Content is a file's bytes. Generated demo content need not sit in memory.
type Content interface {
	Size() int64
	// Open returns a fresh reader positioned at the start.
	Open() io.ReadSeeker
}

// BytesContent is Content held in memory.
type BytesContent []byte

// Size implements Content.
func (b BytesContent) Size() int64 { return int64(len(b)) }

// Open implements Content.
func (b BytesContent) Open() io.ReadSeeker { return bytes.NewReader(b) }

// NewTenant returns an empty tenant. now is the clock used for timestamps
// (nil means time.Now).
func NewTenant(name, domain string, now func() time.Time) *Tenant {
	if now == nil {
		now = time.Now
	}
	return &Tenant{
		ID:     newGUID(),
		Domain: domain,
		Name:   name,
		byID:   map[string]*User{},
		byUPN:  map[string]*User{},
		now:    now,
	}
}

func newGUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// newItemID returns an opaque ID in the style of Exchange / OneDrive IDs.
func (t *Tenant) newItemID(prefix string) string {
	t.nextIDs++
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return fmt.Sprintf("%s%06d%s", prefix, t.nextIDs, strings.ToUpper(hex.EncodeToString(b[:])))
}

func (t *Tenant) bump() int64 {
	t.seq++
	t.markSeqLocked()
	return t.seq
}

// Seq returns the current change sequence number.
func (t *Tenant) Seq() int64 {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.seq
}

// AddUser creates a user with the standard mail folders and an empty drive.
func (t *Tenant) AddUser(upn, displayName string) (*User, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	key := strings.ToLower(upn)
	if !strings.Contains(upn, "@") {
		return nil, fmt.Errorf("m365sim: user principal name %q has no domain", upn)
	}
	if _, ok := t.byUPN[key]; ok {
		return nil, fmt.Errorf("m365sim: user %s: %w", upn, ErrConflict)
	}
	given, sur, _ := strings.Cut(displayName, " ")
	u := &User{
		ID:          newGUID(),
		UPN:         upn,
		DisplayName: displayName,
		GivenName:   given,
		Surname:     sur,
		folders:     map[string]*MailFolder{},
		messages:    map[string]*Message{},
	}
	root := &MailFolder{ID: t.newItemID("AAMkFolder"), DisplayName: "Top of Information Store", WellKnownName: "msgfolderroot", Seq: t.bump()}
	u.folders[root.ID] = root
	u.rootFolder = root.ID
	for _, wk := range wellKnownFolders {
		f := &MailFolder{ID: t.newItemID("AAMkFolder"), ParentID: root.ID, DisplayName: wk.display, WellKnownName: wk.name, Seq: t.bump()}
		u.folders[f.ID] = f
	}
	now := t.now().UTC()
	d := &Drive{ID: "b!" + t.newItemID(""), Quota: 1 << 40, items: map[string]*DriveItem{}}
	rootItem := &DriveItem{ID: t.newItemID("01ROOT"), Name: "root", Folder: true, Created: now, Modified: now, FSCreated: now, FSModified: now, Seq: t.bump()}
	rootItem.stamp()
	d.RootID = rootItem.ID
	d.items[rootItem.ID] = rootItem
	u.Drive = d
	t.users = append(t.users, u)
	t.byID[u.ID] = u
	t.byUPN[key] = u
	return u, nil
}

// Users returns the users in creation order.
func (t *Tenant) Users() []*User {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return append([]*User(nil), t.users...)
}

// User finds a user by ID or user principal name (case-insensitive).
func (t *Tenant) User(idOrUPN string) (*User, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.userLocked(idOrUPN)
}

func (t *Tenant) userLocked(idOrUPN string) (*User, error) {
	if u, ok := t.byID[idOrUPN]; ok {
		return u, nil
	}
	if u, ok := t.byUPN[strings.ToLower(idOrUPN)]; ok {
		return u, nil
	}
	return nil, fmt.Errorf("%w: %s", ErrNoUser, idOrUPN)
}

// ---- mail folders ----

// folderLocked resolves a folder ID or well-known name.
func (u *User) folderLocked(idOrName string) (*MailFolder, error) {
	if f, ok := u.folders[idOrName]; ok {
		return f, nil
	}
	lower := strings.ToLower(idOrName)
	for _, f := range u.folders {
		if f.WellKnownName != "" && f.WellKnownName == lower {
			return f, nil
		}
	}
	return nil, fmt.Errorf("%w: %s", ErrNoFolder, idOrName)
}

// childFoldersLocked lists a folder's children sorted by display name.
func (u *User) childFoldersLocked(parentID string) []*MailFolder {
	var out []*MailFolder
	for _, f := range u.folders {
		if f.ParentID == parentID {
			out = append(out, f)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].DisplayName != out[j].DisplayName {
			return out[i].DisplayName < out[j].DisplayName
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// EnsureFolderPath returns the folder at a slash-separated display-name path
// below the mailbox root ("Inbox/Invoices"), creating missing folders. The
// first component matches well-known folders by display name or name.
func (t *Tenant) EnsureFolderPath(user, path string) (*MailFolder, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	u, err := t.userLocked(user)
	if err != nil {
		return nil, err
	}
	parent := u.folders[u.rootFolder]
	for _, name := range strings.Split(strings.Trim(path, "/"), "/") {
		if name == "" {
			return nil, fmt.Errorf("m365sim: empty folder name in path %q", path)
		}
		var found *MailFolder
		for _, c := range u.childFoldersLocked(parent.ID) {
			if strings.EqualFold(c.DisplayName, name) || (c.WellKnownName != "" && c.WellKnownName == strings.ToLower(name)) {
				found = c
				break
			}
		}
		if found == nil {
			found = &MailFolder{ID: t.newItemID("AAMkFolder"), ParentID: parent.ID, DisplayName: name, Seq: t.bump()}
			u.folders[found.ID] = found
		}
		parent = found
	}
	return parent, nil
}

// FolderPath returns the display-name path of a folder ("Inbox/Invoices").
func (t *Tenant) FolderPath(user, folderID string) (string, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	u, err := t.userLocked(user)
	if err != nil {
		return "", err
	}
	return u.folderPathLocked(folderID)
}

func (u *User) folderPathLocked(folderID string) (string, error) {
	var parts []string
	for id := folderID; id != "" && id != u.rootFolder; {
		f, ok := u.folders[id]
		if !ok {
			return "", fmt.Errorf("%w: %s", ErrNoFolder, folderID)
		}
		parts = append([]string{f.DisplayName}, parts...)
		id = f.ParentID
	}
	return strings.Join(parts, "/"), nil
}

// RenameFolder changes a folder's display name (its ID stays).
func (t *Tenant) RenameFolder(user, folderID, name string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	u, err := t.userLocked(user)
	if err != nil {
		return err
	}
	f, err := u.folderLocked(folderID)
	if err != nil {
		return err
	}
	f.DisplayName = name
	f.Seq = t.bump()
	return nil
}

// ---- messages ----

// AddMessage stores MIME bytes as a new message in a folder (ID or
// well-known name). The bytes are kept exactly; metadata is parsed from them.
func (t *Tenant) AddMessage(user, folder string, mime []byte, opts MessageOptions) (*Message, error) {
	hdr, err := ParseMessageHeader(mime)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	u, err := t.userLocked(user)
	if err != nil {
		return nil, err
	}
	f, err := u.folderLocked(folder)
	if err != nil {
		return nil, err
	}
	now := t.now().UTC()
	m := &Message{
		ID:         t.newItemID("AAMkMsg"),
		FolderID:   f.ID,
		MIME:       append([]byte(nil), mime...),
		Header:     hdr,
		IsRead:     opts.IsRead,
		FlagStatus: "notFlagged",
		Categories: append([]string(nil), opts.Categories...),
		Importance: hdr.Importance,
		IsDraft:    opts.IsDraft,
		Created:    now,
		Modified:   now,
	}
	if opts.Flagged {
		m.FlagStatus = "flagged"
	}
	m.touch(t.bump())
	m.CreatedSeq = m.Seq
	u.messages[m.ID] = m
	return m, nil
}

// MessageOptions are the properties of a new message that MIME does not carry.
type MessageOptions struct {
	IsRead     bool
	Flagged    bool
	Categories []string
	IsDraft    bool
}

func (m *Message) touch(seq int64) {
	m.Seq = seq
	m.ChangeKey = fmt.Sprintf("CQAAABYAAAC%08d", seq)
}

// Message returns a copy of a message's current state.
func (t *Tenant) Message(user, id string) (Message, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	u, err := t.userLocked(user)
	if err != nil {
		return Message{}, err
	}
	m, ok := u.msgLocked(id)
	if !ok {
		return Message{}, fmt.Errorf("%w: message %s", ErrNoItem, id)
	}
	return *m, nil
}

// Messages returns copies of the messages in a folder (all folders when
// folder is empty), oldest first.
func (t *Tenant) Messages(user, folder string) ([]Message, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	u, err := t.userLocked(user)
	if err != nil {
		return nil, err
	}
	fid := ""
	if folder != "" {
		f, err := u.folderLocked(folder)
		if err != nil {
			return nil, err
		}
		fid = f.ID
	}
	var out []Message
	for _, m := range u.messages {
		if fid == "" || m.FolderID == fid {
			out = append(out, *m)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out, nil
}

// FindMessages returns the messages whose subject contains substr
// (case-insensitive), for tests and the control API.
func (t *Tenant) FindMessages(user, substr string) ([]Message, error) {
	all, err := t.Messages(user, "")
	if err != nil {
		return nil, err
	}
	var out []Message
	for _, m := range all {
		if strings.Contains(strings.ToLower(m.Header.Subject), strings.ToLower(substr)) {
			out = append(out, m)
		}
	}
	return out, nil
}

// DeleteMessage removes a message for good (as a hard delete or a purge
// from Deleted Items would).
func (t *Tenant) DeleteMessage(user, id string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	u, err := t.userLocked(user)
	if err != nil {
		return err
	}
	m, ok := u.msgLocked(id)
	if !ok {
		return fmt.Errorf("%w: message %s", ErrNoItem, id)
	}
	delete(u.messages, m.ID)
	u.mailGone = append(u.mailGone, tombstone{ID: m.ID, ParentID: m.FolderID, Seq: t.bump(), RestID: m.restIDOrID()})
	u.forgetRestIDLocked(m)
	return nil
}

// MoveMessage moves a message to another folder. Its ID (the immutable
// one) stays; its default-format ID, which requests without Prefer:
// IdType="ImmutableId" see, changes, as Exchange's does (immutableid.go).
func (t *Tenant) MoveMessage(user, id, toFolder string) (*Message, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	u, err := t.userLocked(user)
	if err != nil {
		return nil, err
	}
	m, ok := u.msgLocked(id)
	if !ok {
		return nil, fmt.Errorf("%w: message %s", ErrNoItem, id)
	}
	f, err := u.folderLocked(toFolder)
	if err != nil {
		return nil, err
	}
	if f.ID == m.FolderID {
		return m, nil
	}
	u.mailGone = append(u.mailGone, tombstone{ID: m.ID, ParentID: m.FolderID, Seq: t.bump(), RestID: m.restIDOrID()})
	m.FolderID = f.ID
	t.newRestIDLocked(u, m)
	m.Modified = t.now().UTC()
	m.touch(t.bump())
	m.CreatedSeq = m.Seq
	return m, nil
}

// MessageEdit is a change to a message's mutable properties; nil fields stay.
type MessageEdit struct {
	IsRead     *bool
	FlagStatus *string
	Categories *[]string
	Importance *string
	Inference  *string
}

// EditMessage applies a property change.
func (t *Tenant) EditMessage(user, id string, e MessageEdit) (*Message, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	u, err := t.userLocked(user)
	if err != nil {
		return nil, err
	}
	m, ok := u.msgLocked(id)
	if !ok {
		return nil, fmt.Errorf("%w: message %s", ErrNoItem, id)
	}
	if e.IsRead != nil {
		m.IsRead = *e.IsRead
	}
	if e.FlagStatus != nil {
		m.FlagStatus = *e.FlagStatus
	}
	if e.Categories != nil {
		m.Categories = append([]string(nil), (*e.Categories)...)
	}
	if e.Importance != nil {
		m.Importance = *e.Importance
	}
	if e.Inference != nil {
		m.Inference = *e.Inference
	}
	m.Modified = t.now().UTC()
	m.touch(t.bump())
	return m, nil
}

// ---- drive ----

func (it *DriveItem) stamp() {
	it.ETag = fmt.Sprintf("\"{%s},%d\"", it.ID, it.Seq)
	it.CTag = fmt.Sprintf("\"c:{%s},%d\"", it.ID, it.Seq)
}

// itemPathLocked returns the item's path below the root, "" for the root.
func (d *Drive) itemPathLocked(id string) (string, error) {
	var parts []string
	for cur := id; cur != d.RootID; {
		it, ok := d.items[cur]
		if !ok {
			return "", fmt.Errorf("%w: drive item %s", ErrNoItem, id)
		}
		parts = append([]string{it.Name}, parts...)
		cur = it.ParentID
	}
	return strings.Join(parts, "/"), nil
}

func (d *Drive) childLocked(parentID, name string) *DriveItem {
	for _, it := range d.items {
		if it.ParentID == parentID && strings.EqualFold(it.Name, name) {
			return it
		}
	}
	return nil
}

func (d *Drive) childrenLocked(parentID string) []*DriveItem {
	var out []*DriveItem
	for _, it := range d.items {
		if it.ParentID == parentID {
			out = append(out, it)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// ensureDirLocked walks or creates folders along a slash path.
func (t *Tenant) ensureDirLocked(d *Drive, dir string) (*DriveItem, error) {
	cur := d.items[d.RootID]
	for _, name := range strings.Split(strings.Trim(dir, "/"), "/") {
		if name == "" {
			continue
		}
		if err := ValidateDriveName(name); err != nil {
			return nil, err
		}
		c := d.childLocked(cur.ID, name)
		if c == nil {
			now := t.now().UTC()
			c = &DriveItem{ID: t.newItemID("01"), ParentID: cur.ID, Name: name, Folder: true, Created: now, Modified: now, FSCreated: now, FSModified: now, Seq: t.bump()}
			c.stamp()
			d.items[c.ID] = c
		} else if !c.Folder {
			return nil, fmt.Errorf("m365sim: %q is a file, not a folder: %w", name, ErrConflict)
		}
		cur = c
	}
	return cur, nil
}

// ValidateDriveName applies OneDrive's naming rules to one path component.
func ValidateDriveName(name string) error {
	if name == "" || name == "." || name == ".." {
		return fmt.Errorf("m365sim: invalid file name %q", name)
	}
	if strings.ContainsAny(name, "\"*:<>?/\\|") {
		return fmt.Errorf("m365sim: file name %q contains a character OneDrive does not allow", name)
	}
	if strings.HasPrefix(name, " ") || strings.HasSuffix(name, " ") {
		return fmt.Errorf("m365sim: file name %q begins or ends with a space", name)
	}
	return nil
}

// PutFile creates or replaces a file at a slash path in the user's drive,
// creating parent folders. modTime sets fileSystemInfo (zero means now).
func (t *Tenant) PutFile(user, path string, c Content, modTime time.Time) (*DriveItem, error) {
	hash, err := quickXorOf(c)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	u, err := t.userLocked(user)
	if err != nil {
		return nil, err
	}
	return t.putFileLocked(u.Drive, path, c, hash, modTime)
}

// putFileLocked is PutFile on any drive (a OneDrive or a site's library).
func (t *Tenant) putFileLocked(d *Drive, path string, c Content, hash string, modTime time.Time) (*DriveItem, error) {
	dir, name := splitPath(path)
	if err := ValidateDriveName(name); err != nil {
		return nil, err
	}
	parent, err := t.ensureDirLocked(d, dir)
	if err != nil {
		return nil, err
	}
	now := t.now().UTC()
	if modTime.IsZero() {
		modTime = now
	}
	it := d.childLocked(parent.ID, name)
	if it != nil && it.Folder {
		return nil, fmt.Errorf("m365sim: %s is a folder: %w", path, ErrConflict)
	}
	if it == nil {
		it = &DriveItem{ID: t.newItemID("01"), ParentID: parent.ID, Name: name, Created: now, FSCreated: modTime}
		d.items[it.ID] = it
	}
	it.Content = c
	it.Served = nil
	it.QuickXor = hash
	it.Modified = now
	it.FSModified = modTime.UTC()
	it.Seq = t.bump()
	it.stamp()
	return it, nil
}

func splitPath(p string) (dir, name string) {
	p = strings.Trim(p, "/")
	i := strings.LastIndex(p, "/")
	if i < 0 {
		return "", p
	}
	return p[:i], p[i+1:]
}

// DriveItemByPath finds an item by its slash path below the root.
func (t *Tenant) DriveItemByPath(user, path string) (DriveItem, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	u, err := t.userLocked(user)
	if err != nil {
		return DriveItem{}, err
	}
	it, err := u.Drive.byPathLocked(path)
	if err != nil {
		return DriveItem{}, err
	}
	return *it, nil
}

func (d *Drive) byPathLocked(path string) (*DriveItem, error) {
	cur := d.items[d.RootID]
	for _, name := range strings.Split(strings.Trim(path, "/"), "/") {
		if name == "" {
			continue
		}
		c := d.childLocked(cur.ID, name)
		if c == nil {
			return nil, fmt.Errorf("%w: %s", ErrNoItem, path)
		}
		cur = c
	}
	return cur, nil
}

// DriveItems returns copies of every live item except the root.
func (t *Tenant) DriveItems(user string) ([]DriveItem, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	u, err := t.userLocked(user)
	if err != nil {
		return nil, err
	}
	var out []DriveItem
	for _, it := range u.Drive.items {
		if it.ID != u.Drive.RootID {
			out = append(out, *it)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out, nil
}

// DeleteDriveItem deletes a file or a folder with everything below it.
func (t *Tenant) DeleteDriveItem(user, id string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	u, err := t.userLocked(user)
	if err != nil {
		return err
	}
	d := u.Drive
	it, ok := d.items[id]
	if !ok || id == d.RootID {
		return fmt.Errorf("%w: drive item %s", ErrNoItem, id)
	}
	t.deleteTreeLocked(d, it)
	return nil
}

func (t *Tenant) deleteTreeLocked(d *Drive, it *DriveItem) {
	for _, c := range d.childrenLocked(it.ID) {
		t.deleteTreeLocked(d, c)
	}
	delete(d.items, it.ID)
	gone := *it
	gone.Deleted = true
	gone.Content = nil
	gone.Seq = t.bump()
	d.gone = append(d.gone, &gone)
}

// MoveDriveItem moves and/or renames an item; empty newParentPath keeps the
// parent, empty newName keeps the name.
func (t *Tenant) MoveDriveItem(user, id, newParentPath, newName string) (*DriveItem, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	u, err := t.userLocked(user)
	if err != nil {
		return nil, err
	}
	d := u.Drive
	it, ok := d.items[id]
	if !ok || id == d.RootID {
		return nil, fmt.Errorf("%w: drive item %s", ErrNoItem, id)
	}
	parentID := it.ParentID
	if newParentPath != "" {
		p, err := t.ensureDirLocked(d, newParentPath)
		if err != nil {
			return nil, err
		}
		for cur := p.ID; cur != ""; cur = d.items[cur].ParentID {
			if cur == it.ID {
				return nil, fmt.Errorf("m365sim: cannot move a folder into itself")
			}
		}
		parentID = p.ID
	}
	name := it.Name
	if newName != "" {
		if err := ValidateDriveName(newName); err != nil {
			return nil, err
		}
		name = newName
	}
	if c := d.childLocked(parentID, name); c != nil && c != it {
		return nil, fmt.Errorf("m365sim: %s: %w", name, ErrConflict)
	}
	it.ParentID = parentID
	it.Name = name
	it.Modified = t.now().UTC()
	it.Seq = t.bump()
	it.stamp()
	return it, nil
}

// ExpireDeltaTokens makes every outstanding drive delta token answer 410
// Gone, as OneDrive does after a token ages out or the service resets.
func (t *Tenant) ExpireDeltaTokens() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.epoch++
	t.driveGoneCode = ""
}

// randomToken returns n random bytes as unpadded base64url.
func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
