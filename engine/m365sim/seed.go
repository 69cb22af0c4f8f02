package m365sim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// A seed folder describes a tenant on disk:
//
//	tenant.json                            optional: {"name", "domain", "users": [{"upn", "displayName", "jobTitle"}]}
//	users/<upn>/mail/<Folder>/<Sub>/*.eml   messages, bytes kept exactly
//	users/<upn>/mail/.../<name>.eml.json    optional: {"isRead", "flagged", "categories", "isDraft"}
//	users/<upn>/onedrive/<path>             files, bytes and modification time kept
//
// Mail folders named like a well-known folder ("Inbox", "Sent Items",
// "Deleted Items", "Archive", "Junk Email", "Drafts", "Outbox") are that
// folder; every directory below mail/ becomes a mail folder, even when empty,
// and every directory below onedrive/ a drive folder. Other entries at the
// top of the seed folder (a README, say) are ignored.
//
// Rules for hostile input, each reported as a SeedProblem naming the path:
//   - every name must be valid UTF-8; drive names must pass ValidateDriveName;
//     two names that differ only in case cannot share a folder (Exchange and
//     OneDrive both compare names case-insensitively);
//   - a user folder name is a user principal name (local@domain);
//   - only regular files and directories are imported. A symbolic link is
//     followed only when it resolves to a regular file inside the seed
//     folder; links to folders, to anything outside the seed folder, dangling
//     links and special files (FIFOs, sockets, devices) are refused;
//   - a message must be a MIME message of at most MaxSeedMessageSize bytes,
//     inside a folder (not directly in mail/);
//   - the junk files .DS_Store, Thumbs.db and desktop.ini are ignored in
//     users/ and below mail/ (below onedrive/ they are ordinary files).
//
// The whole folder is checked before the tenant is touched, so a malformed
// seed changes nothing.

// MaxSeedMessageSize is the largest .eml a seed folder may hold: Exchange
// Online's maximum message size (150 MB).
const MaxSeedMessageSize = 150 << 20

const (
	maxSeedSidecar  = 1 << 20 // .eml.json and tenant.json
	maxSeedDepth    = 64      // nested folders below mail/ or onedrive/
	maxSeedProblems = 50      // problems listed before "and N more"
)

// SeedProblem is one thing wrong with a seed folder.
type SeedProblem struct {
	Path string // slash-separated, relative to the seed folder
	Err  error
}

func (p *SeedProblem) Error() string { return seedQuote(p.Path) + ": " + p.Err.Error() }

// Unwrap returns the cause, so errors.Is(err, fs.ErrPermission) works.
func (p *SeedProblem) Unwrap() error { return p.Err }

// SeedError lists what is wrong with a seed folder.
type SeedError struct {
	Dir      string
	Problems []*SeedProblem // in walk order, at most 50
	More     int            // problems found beyond Problems
}

func (e *SeedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "m365sim: seed folder %s", seedQuote(e.Dir))
	if len(e.Problems) == 1 && e.More == 0 {
		b.WriteString(": ")
		b.WriteString(e.Problems[0].Error())
		return b.String()
	}
	fmt.Fprintf(&b, " has %d problems:", len(e.Problems)+e.More)
	for _, p := range e.Problems {
		b.WriteString("\n\t")
		b.WriteString(p.Error())
	}
	if e.More > 0 {
		fmt.Fprintf(&b, "\n\tand %d more", e.More)
	}
	return b.String()
}

// Unwrap returns the problems, for errors.Is and errors.As.
func (e *SeedError) Unwrap() []error {
	out := make([]error, len(e.Problems))
	for i, p := range e.Problems {
		out[i] = p
	}
	return out
}

// seedQuote quotes a path so that spaces, control characters and invalid
// UTF-8 are visible; printable Unicode stays readable.
func seedQuote(p string) string { return strconv.Quote(p) }

// seedManifest is tenant.json.
type seedManifest struct {
	Name   string     `json:"name"`
	Domain string     `json:"domain"`
	Users  []seedUser `json:"users"`
}

type seedUser struct {
	UPN         string `json:"upn"`
	DisplayName string `json:"displayName"`
	JobTitle    string `json:"jobTitle"`
}

// seedMessageMeta is a message's optional .eml.json sidecar.
type seedMessageMeta struct {
	IsRead     bool     `json:"isRead"`
	Flagged    bool     `json:"flagged"`
	Categories []string `json:"categories"`
	IsDraft    bool     `json:"isDraft"`
}

// ImportTenant creates a tenant from a seed folder. Its name and domain come
// from tenant.json, or else from the first user's domain.
func ImportTenant(dir string) (*Tenant, error) {
	plan, err := scanSeed(dir)
	if err != nil {
		return nil, err
	}
	name, domain := plan.manifest.Name, plan.manifest.Domain
	if domain == "" && len(plan.users) > 0 {
		_, domain, _ = strings.Cut(plan.users[0].upn, "@")
	}
	if name == "" {
		name = seedNameFromDomain(domain)
	}
	t := NewTenant(name, domain, nil)
	if err := plan.apply(t); err != nil {
		return nil, err
	}
	return t, nil
}

// Import adds the users, mail and files of a seed folder to t. Users that
// already exist in t receive the seed's mail and files. The folder is checked
// completely first: when it has problems, Import returns a *SeedError and
// leaves t unchanged. tenant.json's name and domain are not applied to t.
func Import(dir string, t *Tenant) error {
	plan, err := scanSeed(dir)
	if err != nil {
		return err
	}
	return plan.apply(t)
}

// seedNameFromDomain turns "contoso-bakery.example" into "Contoso Bakery".
func seedNameFromDomain(domain string) string {
	label, _, _ := strings.Cut(domain, ".")
	words := strings.FieldsFunc(label, func(r rune) bool { return r == '-' || r == '_' })
	for i, w := range words {
		r, n := utf8.DecodeRuneInString(w)
		words[i] = string(unicode.ToUpper(r)) + w[n:]
	}
	if len(words) == 0 {
		return "Seeded tenant"
	}
	return strings.Join(words, " ")
}

// seedDisplayName turns "paul.martin@x" into "Paul Martin".
func seedDisplayName(upn string) string {
	local, _, _ := strings.Cut(upn, "@")
	return seedNameFromDomain(strings.NewReplacer(".", "-", "+", "-").Replace(local))
}

// ---- scanning ----

type seedPlan struct {
	dir      string
	manifest seedManifest
	users    []*seedPlanUser
}

type seedPlanUser struct {
	upn, displayName, jobTitle string
	mailFolders                []string // folder paths below the mailbox root, parents first
	messages                   []*seedPlanMessage
	driveDirs                  []seedPlanDir
	files                      []seedPlanFile
}

type seedPlanMessage struct {
	rel    string // for errors
	folder string
	mime   []byte
	opts   MessageOptions
}

type seedPlanDir struct {
	rel, path string
	modTime   time.Time
}

type seedPlanFile struct {
	rel, path string
	content   *FileContent
	modTime   time.Time
}

type seedScanner struct {
	root     string // the seed folder with symlinks resolved
	problems []*SeedProblem
	more     int
}

func (s *seedScanner) fail(rel string, err error) {
	if len(s.problems) >= maxSeedProblems {
		s.more++
		return
	}
	s.problems = append(s.problems, &SeedProblem{Path: rel, Err: err})
}

func (s *seedScanner) failf(rel, format string, args ...any) {
	s.fail(rel, fmt.Errorf(format, args...))
}

// abs returns the OS path of a slash path relative to the root.
func (s *seedScanner) abs(rel string) string {
	if rel == "" {
		return s.root
	}
	return filepath.Join(s.root, filepath.FromSlash(rel))
}

func scanSeed(dir string) (*seedPlan, error) {
	root, err := filepath.Abs(dir)
	if err == nil {
		root, err = filepath.EvalSymlinks(root)
	}
	if err != nil {
		return nil, fmt.Errorf("m365sim: seed folder %s: %w", seedQuote(dir), err)
	}
	if fi, err := os.Stat(root); err != nil {
		return nil, fmt.Errorf("m365sim: seed folder %s: %w", seedQuote(dir), err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("m365sim: seed folder %s is not a folder", seedQuote(dir))
	}
	s := &seedScanner{root: root}
	plan := &seedPlan{dir: dir}
	byUPN := map[string]*seedPlanUser{}
	addUser := func(upn string) *seedPlanUser {
		key := strings.ToLower(upn)
		if u := byUPN[key]; u != nil {
			return u
		}
		u := &seedPlanUser{upn: upn}
		byUPN[key] = u
		plan.users = append(plan.users, u)
		return u
	}

	if data, ok := s.readSmall("tenant.json"); ok {
		if err := seedDecodeJSON(data, &plan.manifest); err != nil {
			s.failf("tenant.json", "not a valid tenant description: %w", err)
		}
		for i, mu := range plan.manifest.Users {
			if err := seedCheckUPN(mu.UPN); err != nil {
				s.failf("tenant.json", "users[%d]: %w", i, err)
				continue
			}
			if byUPN[strings.ToLower(mu.UPN)] != nil {
				s.failf("tenant.json", "users[%d]: user %s is listed twice", i, mu.UPN)
				continue
			}
			u := addUser(mu.UPN)
			u.displayName, u.jobTitle = mu.DisplayName, mu.JobTitle
		}
	}

	entries, ok := s.readDir("users", true)
	if !ok && len(plan.manifest.Users) == 0 && len(s.problems) == 0 {
		s.failf("users", "missing: a seed folder holds users/<upn>/mail and users/<upn>/onedrive")
	}
	seenUsers := map[string]string{}
	for _, e := range entries {
		rel := "users/" + e.Name()
		if !s.checkName(rel, e.Name()) || seedJunkFile(e.Name()) || s.linkedDir(rel, e) {
			continue
		}
		if !e.IsDir() {
			s.failf(rel, "not a user folder: users/ holds one folder per user, named by user principal name")
			continue
		}
		if err := seedCheckUPN(e.Name()); err != nil {
			s.failf(rel, "not a user folder: %w", err)
			continue
		}
		key := strings.ToLower(e.Name())
		if other, dup := seenUsers[key]; dup {
			s.failf(rel, "same user as %s (user names are case-insensitive)", seedQuote("users/"+other))
			continue
		}
		seenUsers[key] = e.Name()
		u := addUser(e.Name())
		s.scanUser(u, rel)
	}
	for _, u := range plan.users {
		if u.displayName == "" {
			u.displayName = seedDisplayName(u.upn)
		}
	}
	if len(s.problems) > 0 {
		return nil, &SeedError{Dir: dir, Problems: s.problems, More: s.more}
	}
	return plan, nil
}

func (s *seedScanner) scanUser(u *seedPlanUser, rel string) {
	entries, _ := s.readDir(rel, false)
	for _, e := range entries {
		erel := rel + "/" + e.Name()
		if !s.checkName(erel, e.Name()) || seedJunkFile(e.Name()) || s.linkedDir(erel, e) {
			continue
		}
		switch {
		case e.Name() == "mail" && e.IsDir():
			s.scanMailDir(u, erel, "", 0)
		case e.Name() == "onedrive" && e.IsDir():
			s.scanDriveDir(u, erel, "", 0)
		default:
			s.failf(erel, "unexpected entry: a user folder holds only the folders mail and onedrive")
		}
	}
}

// scanMailDir reads a directory below mail/; folder is its mail folder path
// ("" for mail/ itself).
func (s *seedScanner) scanMailDir(u *seedPlanUser, rel, folder string, depth int) {
	if depth > maxSeedDepth {
		s.failf(rel, "folders nested deeper than %d levels", maxSeedDepth)
		return
	}
	entries, _ := s.readDir(rel, false)
	if folder != "" {
		u.mailFolders = append(u.mailFolders, folder)
	}
	names := s.checkCaseClashes(rel, entries)
	emls := map[string]bool{}       // lower-case names of messages
	sidecars := map[string]string{} // lower-case message name -> sidecar name
	for _, e := range entries {
		lower := strings.ToLower(e.Name())
		switch {
		case !names[e.Name()]:
		case strings.HasSuffix(lower, ".eml"):
			emls[lower] = true
		case strings.HasSuffix(lower, ".eml.json"):
			sidecars[strings.TrimSuffix(lower, ".json")] = e.Name()
		}
	}
	for _, e := range entries {
		name := e.Name()
		erel := rel + "/" + name
		if !names[name] || seedJunkFile(name) || s.linkedDir(erel, e) {
			continue
		}
		lower := strings.ToLower(name)
		if e.IsDir() {
			if strings.TrimSpace(name) == "" {
				s.failf(erel, "a mail folder name cannot be blank")
				continue
			}
			if folder == "" {
				s.scanMailDir(u, erel, name, depth+1)
			} else {
				s.scanMailDir(u, erel, folder+"/"+name, depth+1)
			}
			continue
		}
		if strings.HasSuffix(lower, ".eml.json") {
			if !emls[strings.TrimSuffix(lower, ".json")] {
				s.failf(erel, "message properties without a message: %s is missing", seedQuote(strings.TrimSuffix(name, ".json")))
			}
			continue
		}
		if !strings.HasSuffix(lower, ".eml") {
			s.failf(erel, "not a message: files below mail/ must be .eml messages (or .eml.json properties)")
			continue
		}
		if folder == "" {
			s.failf(erel, "message outside a mail folder: put it in a folder such as mail/Inbox/")
			continue
		}
		path, fi, ok := s.regularFile(erel, e)
		if !ok {
			continue
		}
		if fi.Size() > MaxSeedMessageSize {
			s.failf(erel, "message is %d bytes, over the %d-byte limit Exchange Online accepts", fi.Size(), MaxSeedMessageSize)
			continue
		}
		raw, err := seedReadFile(path, MaxSeedMessageSize)
		if err != nil {
			s.fail(erel, err)
			continue
		}
		if len(raw) == 0 {
			s.failf(erel, "not a MIME message: the file is empty")
			continue
		}
		if _, err := ParseMessageHeader(raw); err != nil {
			s.fail(erel, err)
			continue
		}
		m := &seedPlanMessage{rel: erel, folder: folder, mime: raw}
		if sc, has := sidecars[lower]; has {
			data, ok := s.readSmall(rel + "/" + sc)
			if !ok {
				continue
			}
			var meta seedMessageMeta
			if err := seedDecodeJSON(data, &meta); err != nil {
				s.failf(rel+"/"+sc, "not valid message properties: %w", err)
			}
			//lint:ignore S1016 the sidecar format must not change when MessageOptions grows
			m.opts = MessageOptions{IsRead: meta.IsRead, Flagged: meta.Flagged, Categories: meta.Categories, IsDraft: meta.IsDraft}
		}
		u.messages = append(u.messages, m)
	}
}

// scanDriveDir reads a directory below onedrive/; dpath is its drive path.
func (s *seedScanner) scanDriveDir(u *seedPlanUser, rel, dpath string, depth int) {
	if depth > maxSeedDepth {
		s.failf(rel, "folders nested deeper than %d levels", maxSeedDepth)
		return
	}
	entries, _ := s.readDir(rel, false)
	names := s.checkCaseClashes(rel, entries)
	for _, e := range entries {
		name := e.Name()
		erel := rel + "/" + name
		if !names[name] || s.linkedDir(erel, e) {
			continue
		}
		if err := ValidateDriveName(name); err != nil {
			s.failf(erel, "OneDrive does not accept this name: %w", err)
			continue
		}
		p := name
		if dpath != "" {
			p = dpath + "/" + name
		}
		if e.IsDir() {
			var mod time.Time
			if fi, err := e.Info(); err == nil {
				mod = fi.ModTime()
			}
			u.driveDirs = append(u.driveDirs, seedPlanDir{rel: erel, path: p, modTime: mod})
			s.scanDriveDir(u, erel, p, depth+1)
			continue
		}
		path, fi, ok := s.regularFile(erel, e)
		if !ok {
			continue
		}
		// Check now that the file can be opened, so a permission problem is
		// reported with the others rather than when the tenant is built.
		f, err := os.Open(path)
		if err != nil {
			s.fail(erel, seedPathError(err))
			continue
		}
		_ = f.Close()
		u.files = append(u.files, seedPlanFile{rel: erel, path: p, content: &FileContent{Path: path, size: fi.Size()}, modTime: fi.ModTime()})
	}
}

// checkName reports names that are not valid UTF-8.
func (s *seedScanner) checkName(rel, name string) bool {
	if !utf8.ValidString(name) {
		s.failf(rel, "the name is not valid UTF-8")
		return false
	}
	return true
}

// checkCaseClashes validates entry names and returns the usable ones:
// valid UTF-8 and not equal, ignoring case, to an earlier entry.
func (s *seedScanner) checkCaseClashes(rel string, entries []os.DirEntry) map[string]bool {
	ok := map[string]bool{}
	seen := map[string]string{}
	for _, e := range entries {
		name := e.Name()
		erel := rel + "/" + name
		if !s.checkName(erel, name) {
			continue
		}
		key := strings.ToLower(name)
		if other, dup := seen[key]; dup {
			s.failf(erel, "clashes with %s: names that differ only in case are the same name in Microsoft 365", seedQuote(rel+"/"+other))
			continue
		}
		seen[key] = name
		ok[name] = true
	}
	return ok
}

// readDir lists a directory; missing reports whether absence is acceptable.
func (s *seedScanner) readDir(rel string, optional bool) ([]os.DirEntry, bool) {
	entries, err := os.ReadDir(s.abs(rel))
	if err != nil {
		if optional && errors.Is(err, fs.ErrNotExist) {
			return nil, false
		}
		s.fail(rel, seedPathError(err))
		return nil, false
	}
	return entries, true
}

// linkedDir reports (as a problem) a symbolic link to a folder. Such links
// are refused, which also rules out loops.
func (s *seedScanner) linkedDir(rel string, e os.DirEntry) bool {
	if e.Type()&fs.ModeSymlink == 0 {
		return false
	}
	if fi, err := os.Stat(s.abs(rel)); err == nil && fi.IsDir() {
		s.failf(rel, "symbolic link to a folder: links are followed only to files inside the seed folder")
		return true
	}
	return false
}

// regularFile resolves e to a regular file inside the seed folder and
// returns its OS path and metadata.
func (s *seedScanner) regularFile(rel string, e os.DirEntry) (string, os.FileInfo, bool) {
	path := s.abs(rel)
	mode := e.Type()
	if mode&fs.ModeSymlink != 0 {
		target, err := filepath.EvalSymlinks(path)
		if err != nil {
			dest, _ := os.Readlink(path)
			s.failf(rel, "symbolic link to %s cannot be followed (dangling or looping)", seedQuote(dest))
			return "", nil, false
		}
		inside, err := filepath.Rel(s.root, target)
		if err != nil || inside == ".." || strings.HasPrefix(inside, ".."+string(filepath.Separator)) || filepath.IsAbs(inside) {
			s.failf(rel, "symbolic link points outside the seed folder (to %s)", seedQuote(target))
			return "", nil, false
		}
		fi, err := os.Stat(target)
		if err != nil {
			s.fail(rel, seedPathError(err))
			return "", nil, false
		}
		if fi.IsDir() {
			s.failf(rel, "symbolic link to a folder: links are followed only to files inside the seed folder")
			return "", nil, false
		}
		if !fi.Mode().IsRegular() {
			s.failf(rel, "symbolic link to a %s, not a regular file", seedFileKind(fi.Mode()))
			return "", nil, false
		}
		return target, fi, true
	}
	if !mode.IsRegular() {
		s.failf(rel, "%s, not a regular file", seedFileKind(mode))
		return "", nil, false
	}
	fi, err := e.Info()
	if err != nil {
		s.fail(rel, seedPathError(err))
		return "", nil, false
	}
	return path, fi, true
}

func seedFileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeCharDevice != 0:
		return "character device"
	case m&fs.ModeDevice != 0:
		return "device"
	case m&fs.ModeIrregular != 0:
		return "special file"
	}
	return "special file"
}

// readSmall reads an optional small JSON file (tenant.json).
func (s *seedScanner) readSmall(rel string) ([]byte, bool) {
	lfi, err := os.Lstat(s.abs(rel))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false
	}
	if err != nil {
		s.fail(rel, seedPathError(err))
		return nil, false
	}
	return s.readSmallEntry(rel, fs.FileInfoToDirEntry(lfi))
}

func (s *seedScanner) readSmallEntry(rel string, e os.DirEntry) ([]byte, bool) {
	path, fi, ok := s.regularFile(rel, e)
	if !ok {
		return nil, false
	}
	if fi.Size() > maxSeedSidecar {
		s.failf(rel, "%d bytes, over the %d-byte limit for this file", fi.Size(), maxSeedSidecar)
		return nil, false
	}
	data, err := seedReadFile(path, maxSeedSidecar)
	if err != nil {
		s.fail(rel, err)
		return nil, false
	}
	return data, true
}

// seedReadFile reads a whole regular file, failing if it grows past limit.
func seedReadFile(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, seedPathError(err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, seedPathError(err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("grew past the %d-byte limit while being read", limit)
	}
	return data, nil
}

// seedPathError drops the absolute path from an *fs.PathError: problems
// already name the path relative to the seed folder.
func seedPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("cannot %s: %w", pe.Op, pe.Err)
	}
	return err
}

func seedDecodeJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("unexpected data after the JSON value")
	}
	return nil
}

// seedCheckUPN accepts local@domain without spaces or control characters.
func seedCheckUPN(upn string) error {
	local, domain, ok := strings.Cut(upn, "@")
	switch {
	case !ok:
		return fmt.Errorf("%q is not a user principal name (no '@')", upn)
	case local == "" || domain == "" || strings.Contains(domain, "@"):
		return fmt.Errorf("%q is not a user principal name (expected local@domain)", upn)
	case !utf8.ValidString(upn):
		return fmt.Errorf("%q is not valid UTF-8", upn)
	case strings.IndexFunc(upn, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
		return fmt.Errorf("%q is not a user principal name (contains white space)", upn)
	}
	return nil
}

func seedJunkFile(name string) bool {
	switch strings.ToLower(name) {
	case ".ds_store", "thumbs.db", "desktop.ini":
		return true
	}
	return false
}

// ---- applying ----

func (p *seedPlan) apply(t *Tenant) error {
	wrap := func(rel string, err error) error {
		return &SeedError{Dir: p.dir, Problems: []*SeedProblem{{Path: rel, Err: err}}}
	}
	for _, pu := range p.users {
		u, err := t.User(pu.upn)
		if errors.Is(err, ErrNoUser) {
			u, err = t.AddUser(pu.upn, pu.displayName)
			if err == nil {
				t.mu.Lock()
				u.JobTitle = pu.jobTitle
				t.mu.Unlock()
			}
		}
		if err != nil {
			return wrap("users/"+pu.upn, err)
		}
		for _, f := range pu.mailFolders {
			if _, err := t.EnsureFolderPath(u.ID, f); err != nil {
				return wrap("users/"+pu.upn+"/mail/"+f, err)
			}
		}
		for i, m := range pu.messages {
			f, err := t.EnsureFolderPath(u.ID, m.folder)
			if err == nil {
				_, err = t.AddMessage(u.ID, f.ID, m.mime, m.opts)
			}
			if err != nil {
				return wrap(m.rel, err)
			}
			pu.messages[i] = nil // AddMessage keeps its own copy
		}
		for _, d := range pu.driveDirs {
			if err := t.ensureDriveFolder(u.ID, d.path, d.modTime); err != nil {
				return wrap(d.rel, err)
			}
		}
		for _, f := range pu.files {
			if _, err := t.PutFile(u.ID, f.path, f.content, f.modTime); err != nil {
				return wrap(f.rel, err)
			}
		}
	}
	return nil
}

// ensureDriveFolder creates a drive folder (and its parents) so that empty
// folders survive an import; modTime, when set, becomes its fileSystemInfo.
func (t *Tenant) ensureDriveFolder(user, path string, modTime time.Time) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	u, err := t.userLocked(user)
	if err != nil {
		return err
	}
	it, err := t.ensureDirLocked(u.Drive, path)
	if err != nil {
		return err
	}
	if !modTime.IsZero() && it.ID != u.Drive.RootID {
		it.FSModified = modTime.UTC()
		if it.FSCreated.After(it.FSModified) {
			it.FSCreated = it.FSModified
		}
	}
	return nil
}

// ---- file content ----

// FileContent is Content read from a file on demand, so large seed files
// never sit in memory. The file must keep the size it had when imported: a
// reader fails with io.ErrUnexpectedEOF if it shrinks, and never returns
// more than Size bytes if it grows.
type FileContent struct {
	Path string
	size int64
}

// NewFileContent returns Content for the regular file at path.
func NewFileContent(path string) (*FileContent, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("m365sim: %s is not a regular file", seedQuote(path))
	}
	return &FileContent{Path: path, size: fi.Size()}, nil
}

// Size implements Content.
func (c *FileContent) Size() int64 { return c.size }

// Open implements Content. The file is opened at the first Read and closed
// at the end of the content or by Close, so readers that are dropped after
// reading everything hold no descriptor.
func (c *FileContent) Open() io.ReadSeeker { return &fileContentReader{c: c} }

type fileContentReader struct {
	mu  sync.Mutex
	c   *FileContent
	f   *os.File
	off int64
}

func (r *fileContentReader) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.off >= r.c.size {
		r.closeLocked()
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	if r.f == nil {
		f, err := os.Open(r.c.Path)
		if err != nil {
			return 0, fmt.Errorf("m365sim: seed file: %w", err)
		}
		r.f = f
	}
	if int64(len(p)) > r.c.size-r.off {
		p = p[:r.c.size-r.off]
	}
	n, err := r.f.ReadAt(p, r.off)
	r.off += int64(n)
	if err == io.EOF {
		if r.off < r.c.size {
			r.closeLocked()
			return n, fmt.Errorf("m365sim: seed file %s shrank after import: %w", seedQuote(r.c.Path), io.ErrUnexpectedEOF)
		}
		err = nil
	}
	if err == nil && r.off >= r.c.size {
		r.closeLocked()
	}
	return n, err
}

func (r *fileContentReader) Seek(offset int64, whence int) (int64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var abs int64
	switch whence {
	case io.SeekStart:
		abs = offset
	case io.SeekCurrent:
		abs = r.off + offset
	case io.SeekEnd:
		abs = r.c.size + offset
	default:
		return r.off, errors.New("m365sim: invalid whence")
	}
	if abs < 0 {
		return r.off, errors.New("m365sim: negative position")
	}
	r.off = abs
	return abs, nil
}

// Close releases the file, if open. Reading again reopens it.
func (r *fileContentReader) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closeLocked()
	return nil
}

func (r *fileContentReader) closeLocked() {
	if r.f != nil {
		_ = r.f.Close()
		r.f = nil
	}
}
