package restore

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/backup"
	"github.com/lifeboat-backup/lifeboat/engine/catalog"
)

// DirOptions tune a restore to a folder on this computer.
type DirOptions struct {
	// AccountFolder, when set, names a top folder per account (e.g. its
	// e-mail address) so several accounts' items do not mix.
	AccountFolder func(account string) string
	// FilesFolder, when set and not "", names the folder an account's files
	// go in instead of "OneDrive" (a SharePoint library's name, say).
	FilesFolder func(account string) string
	// MaxPathBytes limits the path of anything written, relative to the
	// folder (default DefaultMaxPathBytes). Longer paths have their folder
	// names shortened; an item whose path is still too long fails.
	MaxPathBytes int
}

// Top folders of a local restore.
const (
	mailDir  = "Mail"
	filesDir = "OneDrive"
)

// noSubject names a message file when the message has no subject.
const noSubject = "(no subject)"

type dirDest struct {
	dir     string
	root    *os.Root
	o       DirOptions
	content ContentSource // attachments and photos (pimdisk.go), set by Execute
}

// ToDir restores into dir on this computer: messages as .eml files with
// the exact MIME bytes backed up (named by subject, dated by their
// received time), files with their bytes and modification time, under
// Mail/<mail folder path> and OneDrive/<file's folder>. dir is created if
// needed. Nothing is ever written outside it.
func ToDir(dir string, o DirOptions) (Destination, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("restore: creating %s: %w", abs, err)
	}
	root, err := os.OpenRoot(abs)
	if err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	if o.MaxPathBytes <= 0 {
		o.MaxPathBytes = DefaultMaxPathBytes
	}
	return &dirDest{dir: abs, root: root, o: o}, nil
}

func (d *dirDest) String() string { return d.dir }
func (d *dirDest) Close() error   { return d.root.Close() }
func (d *dirDest) key() string    { return "dir:" + d.dir }

// components is where an item goes, before names are made safe.
func (d *dirDest) components(v catalog.VersionInfo) (dirs []string, name string) {
	if d.o.AccountFolder != nil {
		dirs = append(dirs, d.o.AccountFolder(v.Item.Account))
	}
	if v.Item.Kind == catalog.KindEvent || v.Item.Kind == catalog.KindContact {
		pd, name := pimComponents(v)
		dirs = append(dirs, pd...)
		for i := range dirs {
			dirs[i] = SafeName(dirs[i])
		}
		return dirs, name
	}
	if v.Item.Kind == catalog.KindMail {
		dirs = append(dirs, mailDir)
		name = strings.TrimSpace(v.Name)
		if name == "" {
			name = noSubject
		}
		// The extension is added after the subject is made safe and cut,
		// so it is never lost.
		name = truncateName(SafeName(name), MaxNameBytes-4) + ".eml"
	} else {
		top := filesDir
		if d.o.FilesFolder != nil {
			top = cmp.Or(d.o.FilesFolder(v.Item.Account), filesDir)
		}
		dirs = append(dirs, top)
		name = SafeName(v.Name)
	}
	for _, c := range strings.Split(v.Folder, "/") {
		if c != "" {
			dirs = append(dirs, c)
		}
	}
	for i := range dirs {
		dirs[i] = SafeName(dirs[i])
	}
	return dirs, name
}

func (d *dirDest) plan(ctx context.Context, p *planner, v catalog.VersionInfo) (Step, error) {
	s := Step{Item: v}
	dirs, name := d.components(v)
	dir := path.Join(dirs...)
	if len(dir)+1+len(name)+len(" (99)") > d.o.MaxPathBytes {
		for i := range dirs {
			dirs[i] = truncateName(dirs[i], shortDirBytes)
		}
		dir = path.Join(dirs...)
		s.Reason = "folder names shortened to fit the path length limit"
	}
	if len(dir)+1+len(name)+len(" (99)") > d.o.MaxPathBytes {
		s.Path = dir + "/" + name
		return s, problem("restore: the path %q is too long to be written here (limit %d bytes)", s.Path, d.o.MaxPathBytes)
	}
	// A folder on the way that is a file (or a link) cannot be written
	// into; such an item is planned into a numbered folder instead.
	dir = d.usableDir(p, dir)
	s.dir = dir
	s.Action = ActionCreate
	why := ""
	for n := 0; ; n++ {
		cand := name
		if n > 0 {
			cand = numbered(name, n)
		}
		rel := path.Join(dir, cand)
		key := foldKey(rel)
		if p.claimed[key] {
			why = "another restored item has this name"
			continue
		}
		fi, err := d.root.Lstat(filepath.FromSlash(rel))
		exists := err == nil
		if err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
			return s, fmt.Errorf("checking %s: %w", rel, err)
		}
		if exists && n == 0 {
			switch {
			case p.conflict == ConflictSkip:
				s.Action, s.Path, s.Reason = ActionSkip, rel, "already exists"
				s.Folder, s.Name = dir, cand
				return s, nil
			case p.conflict == ConflictOverwrite && fi.Mode().IsRegular():
				p.claim(key)
				s.Action, s.Path, s.Name, s.Reason = ActionOverwrite, rel, cand, "replaces the existing file"
				s.Folder, s.Name = dir, cand
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
			s.Action = ActionRename
			s.Reason = strings.TrimPrefix(s.Reason+"; "+why, "; ")
		}
		s.Path = rel
		s.Folder, s.Name = dir, cand
		return s, nil
	}
}

// usableDir returns dir, or dir with its first component that exists as
// something other than a folder (or was claimed as a file) numbered.
func (d *dirDest) usableDir(p *planner, dir string) string {
	parts := strings.Split(dir, "/")
	for i := range parts {
		for n := 0; ; n++ {
			cand := parts[i]
			if n > 0 {
				cand = numbered(parts[i], n)
			}
			prefix := path.Join(append(slicesClone(parts[:i]), cand)...)
			if p.claimed[foldKey(prefix)] {
				continue // a file of this restore has that name
			}
			fi, err := d.root.Lstat(filepath.FromSlash(prefix))
			if err == nil && !fi.IsDir() {
				continue
			}
			parts[i] = cand
			p.claimed["dir:"+foldKey(prefix)] = true
			break
		}
	}
	return path.Join(parts...)
}

func slicesClone(s []string) []string { return append([]string(nil), s...) }

// write stores the content under a temporary name beside the target,
// syncs it, dates it and then gives it its final name — without ever
// replacing a file the plan did not say to overwrite.
func (d *dirDest) write(ctx context.Context, s *Step, content io.Reader) error {
	dir := filepath.FromSlash(s.dir)
	if err := d.root.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("restore: creating folder %s: %w", s.dir, err)
	}
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	tmp := filepath.Join(dir, ".lifeboat-"+hex.EncodeToString(rnd[:])+".tmp")
	f, err := d.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
			_ = d.root.Remove(tmp)
		}
	}()
	want := s.Item.Size
	if k := s.Item.Item.Kind; k == catalog.KindEvent || k == catalog.KindContact {
		b, err := d.renderPIM(ctx, s, content)
		if err != nil {
			return err
		}
		content, want = bytes.NewReader(b), int64(len(b))
	}
	n, err := io.Copy(f, &ctxReader{ctx: ctx, r: content})
	if err != nil {
		return fmt.Errorf("restore: writing %s: %w", s.Path, err)
	}
	if n != want {
		return fmt.Errorf("restore: %s: got %d bytes, expected %d", s.Path, n, s.Item.Size)
	}
	if s.Item.Item.Kind == catalog.KindFile {
		if meta, err := backup.ParseFileMetadata(s.Item.Metadata); err == nil && !meta.Created.IsZero() {
			if err := setCreated(f, meta.Created); err != nil {
				return fmt.Errorf("restore: dating %s: %w", s.Path, err)
			}
		}
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("restore: writing %s: %w", s.Path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("restore: writing %s: %w", s.Path, err)
	}
	if t := s.Item.Time; !t.IsZero() {
		if err := d.root.Chtimes(tmp, time.Now(), t); err != nil {
			return fmt.Errorf("restore: dating %s: %w", s.Path, err)
		}
	}
	final := filepath.Join(dir, s.Name)
	if s.Action == ActionOverwrite {
		if err := d.root.Rename(tmp, final); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
	} else if err := d.place(tmp, final); err != nil {
		return fmt.Errorf("restore: %s: %w", s.Path, err)
	}
	ok = true
	syncDir(d.root, dir)
	return nil
}

// place gives tmp the name final only if nothing has that name: a hard
// link fails if the name exists. File systems without hard links (FAT,
// exFAT) fall back to a check and a rename.
func (d *dirDest) place(tmp, final string) error {
	err := d.root.Link(tmp, final)
	if err == nil {
		return d.root.Remove(tmp)
	}
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%w: something named %s appeared", ErrChanged, filepath.ToSlash(final))
	}
	if _, serr := d.root.Lstat(final); serr == nil {
		return fmt.Errorf("%w: something named %s appeared", ErrChanged, filepath.ToSlash(final))
	}
	return d.root.Rename(tmp, final)
}

// syncDir makes a rename durable; failures are ignored (not every file
// system supports syncing a folder).
func syncDir(root *os.Root, dir string) {
	if f, err := root.Open(dir); err == nil {
		_ = f.Sync()
		f.Close()
	}
}

// ctxReader stops a copy when ctx is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
