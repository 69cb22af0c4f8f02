package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Local is a Store in a folder on a local disk, an external drive or a
// network share (a mapped drive or a UNC path such as \\nas\backup\lifeboat
// on Windows, an SMB/NFS mount elsewhere).
//
// Objects are plain files under the folder, named by their slash-separated
// names. Writes go to a ".tmp-" file in the target directory which is
// fsynced, renamed over the final name, and followed by an fsync of the
// directory, so a crash or a pulled cable leaves either the whole object or
// nothing. Temp files left by a crash are never listed; CleanTemp removes
// them.
//
// On Windows, an object that some reader holds open cannot be replaced or
// deleted until the reader is closed; the repository never does that to
// data objects.
type Local struct {
	root string // absolute, OS-specific path of the folder
	// rootInfo identifies the folder that was opened, so a drive that is
	// unmounted under a run (leaving the bare mount point at the same path)
	// is reported as gone instead of being written to.
	rootInfo os.FileInfo
}

var _ Store = (*Local)(nil)

// Permissions for what Local creates: the repository is encrypted, but there
// is no reason for other local users to read or list it.
const (
	dirPerm = 0o700
)

// NewLocal opens the folder dir as a Store. The folder must already exist:
// Local never creates it, so a backup drive or share that is not mounted is
// reported (the error wraps fs.ErrNotExist) instead of silently filling the
// empty mount-point folder on the system disk. Whoever sets up a repository
// creates the folder first (os.MkdirAll).
func NewLocal(dir string) (*Local, error) {
	if dir == "" {
		return nil, errors.New("store: open local folder: no folder given")
	}
	// Absolute, so a later change of working directory cannot move the store.
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("store: open local folder %s: %w", dir, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		if isUnreachable(err) {
			err = fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		return nil, fmt.Errorf("store: open local folder %s: %w", abs, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("store: open local folder %s: not a folder", abs)
	}
	return &Local{root: abs, rootInfo: fi}, nil
}

// Root returns the absolute path of the store's folder.
func (l *Local) Root() string { return l.root }

// path turns a validated object name into an OS path. This, NewLocal and the
// walks are the only places that know about OS paths.
func (l *Local) path(name string) string {
	return filepath.Join(l.root, filepath.FromSlash(name))
}

// Put implements Store.
func (l *Local) Put(ctx context.Context, name string, r io.Reader, size int64) (err error) {
	if err := ValidateName(name); err != nil {
		return fmt.Errorf("store: put: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: put %s: %w", name, err)
	}
	defer func() {
		if err != nil && isDiskFull(err) && !errors.Is(err, ErrDiskFull) {
			err = fmt.Errorf("%w: %w", ErrDiskFull, err)
		}
		if err != nil {
			err = fmt.Errorf("store: put %s: %w", name, l.unavailable(err))
		}
	}()

	final := l.path(name)
	dir := filepath.Dir(final)
	f, err := os.CreateTemp(dir, tempPrefix+"*")
	if errors.Is(err, fs.ErrNotExist) {
		if l.rootGone() {
			// Never create folders in what is now an empty mount point.
			return err
		}
		if err = l.mkdirs(name); err != nil {
			return err
		}
		f, err = os.CreateTemp(dir, tempPrefix+"*")
	}
	if err != nil {
		return err
	}
	tmp := f.Name()
	closed := false
	defer func() {
		if err != nil {
			if !closed {
				f.Close()
			}
			// Best effort: if this fails too (drive gone), CleanTemp or the
			// next run removes it, and List never shows it.
			os.Remove(tmp)
		}
	}()

	// Large writes mean fewer round trips on a network share. The writer is
	// wrapped to hide os.File.ReadFrom, which would ignore the buffer.
	bufSize := int64(256 << 10)
	if size >= 0 && size < bufSize {
		bufSize = size + 1
	}
	n, err := io.CopyBuffer(struct{ io.Writer }{f}, ctxReader{ctx, r}, make([]byte, bufSize))
	if err != nil {
		return err
	}
	if size >= 0 && n != size {
		return fmt.Errorf("read %d bytes, expected %d", n, size)
	}
	if err = syncFile(f); err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	closed = true
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, final); err != nil {
		return err
	}
	// After the rename the object is complete and visible; an error from here
	// on only means its directory entry may not have reached the disk yet.
	if err = syncDir(dir); err != nil {
		return fmt.Errorf("sync folder: %w", err)
	}
	return nil
}

// mkdirs creates the missing parent folders of name one at a time, syncing
// the parent of each new folder so the new entry survives a crash.
func (l *Local) mkdirs(name string) error {
	parts := strings.Split(name, "/")
	cur := l.root
	for _, p := range parts[:len(parts)-1] {
		parent := cur
		cur = filepath.Join(cur, p)
		err := os.Mkdir(cur, dirPerm)
		switch {
		case err == nil:
			if err := syncDir(parent); err != nil {
				return fmt.Errorf("sync folder: %w", err)
			}
		case errors.Is(err, fs.ErrExist):
			// Already there (perhaps made by a concurrent Put). If it is a
			// file, creating the temp file below it fails and says so.
		default:
			return err
		}
	}
	return nil
}

// syncFile fsyncs f, tolerating file systems that do not implement fsync
// (some FUSE and network file systems): there is nothing better to do there.
func syncFile(f *os.File) error {
	if err := f.Sync(); err != nil && !syncUnsupported(err) {
		return err
	}
	return nil
}

// Get implements Store.
func (l *Local) Get(ctx context.Context, name string, offset, length int64) (io.ReadCloser, error) {
	if err := ValidateName(name); err != nil {
		return nil, fmt.Errorf("store: get: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("store: get %s: %w", name, err)
	}
	f, err := os.Open(l.path(name))
	if err != nil {
		return nil, l.mapErr("get", name, err)
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = fs.ErrNotExist // a folder such as "data" is not an object
	}
	if err != nil {
		f.Close()
		return nil, l.mapErr("get", name, err)
	}
	n, err := rangeLen(fi.Size(), offset, length)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("store: get %s: %w", name, err)
	}
	return &fileReader{SectionReader: io.NewSectionReader(f, offset, n), f: f, l: l}, nil
}

// rangeLen checks offset against an object of the given size and returns how
// many bytes a read of length (< 0: to the end) from there yields.
func rangeLen(size, offset, length int64) (int64, error) {
	if offset < 0 || offset > size {
		return 0, fmt.Errorf("%w: offset %d, object size %d", ErrInvalidRange, offset, size)
	}
	if length < 0 || length > size-offset {
		return size - offset, nil
	}
	return length, nil
}

// fileReader reads a section of a file and closes the file.
type fileReader struct {
	*io.SectionReader
	f *os.File
	l *Local
}

// Read reports a drive that went away mid-read as ErrUnavailable.
func (r *fileReader) Read(p []byte) (int, error) {
	n, err := r.SectionReader.Read(p)
	if err != nil && err != io.EOF {
		err = r.l.unavailable(err)
	}
	return n, err
}

func (r *fileReader) Close() error { return r.f.Close() }

// Stat implements Store.
func (l *Local) Stat(ctx context.Context, name string) (Info, error) {
	if err := ValidateName(name); err != nil {
		return Info{}, fmt.Errorf("store: stat: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return Info{}, fmt.Errorf("store: stat %s: %w", name, err)
	}
	fi, err := os.Stat(l.path(name))
	if err == nil && !fi.Mode().IsRegular() {
		err = fs.ErrNotExist
	}
	if err != nil {
		return Info{}, l.mapErr("stat", name, err)
	}
	return Info{Name: name, Size: fi.Size(), ModTime: fi.ModTime()}, nil
}

// Delete implements Store.
func (l *Local) Delete(ctx context.Context, name string) error {
	if err := ValidateName(name); err != nil {
		return fmt.Errorf("store: delete: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: delete %s: %w", name, err)
	}
	p := l.path(name)
	// Lstat first so a folder is never removed as if it were an object.
	fi, err := os.Lstat(p)
	if err == nil && !fi.Mode().IsRegular() {
		err = fs.ErrNotExist
	}
	if err == nil {
		err = os.Remove(p)
	}
	if err != nil {
		return l.mapErr("delete", name, err)
	}
	// Make the removal durable: a deleted lock file must stay deleted.
	if err := syncDir(filepath.Dir(p)); err != nil {
		return fmt.Errorf("store: delete %s: sync folder: %w", name, err)
	}
	return nil
}

// mapErr wraps ErrNotFound for a missing object (or a missing or non-folder
// parent on the way to it) and the OS error otherwise.
func (l *Local) mapErr(op, name string, err error) error {
	if (errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)) && !l.rootGone() {
		return fmt.Errorf("store: %s %s: %w", op, name, ErrNotFound)
	}
	return fmt.Errorf("store: %s %s: %w", op, name, l.unavailable(err))
}

// List implements Store. It walks only the folders that can hold names with
// the prefix: for "data/3f" it reads "data" and descends into "data/3f" and
// "data/3f0", not "data/4a".
func (l *Local) List(ctx context.Context, prefix string, fn func(Info) error) error {
	if err := validatePrefix(prefix); err != nil {
		return fmt.Errorf("store: list: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: list %q: %w", prefix, err)
	}
	start, _ := splitPrefix(prefix)
	if start == "" {
		start = "."
	}
	fsys := os.DirFS(l.root) // slash-separated names, whatever the OS
	err := fs.WalkDir(fsys, start, func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			if name == start && (errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)) && !l.rootGone() {
				return nil // nothing stored under this prefix yet
			}
			if errors.Is(err, fs.ErrNotExist) && !l.rootGone() {
				return nil // removed while we walked
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			if name == "." || name == start {
				return nil
			}
			// Descend only if names below can match: the folder is inside
			// the prefix, or the prefix goes deeper through it.
			dir := name + "/"
			if strings.HasPrefix(dir, prefix) || strings.HasPrefix(prefix, dir) {
				return nil
			}
			return fs.SkipDir
		}
		if !d.Type().IsRegular() || strings.HasPrefix(d.Name(), tempPrefix) || !strings.HasPrefix(name, prefix) {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if err := fn(Info{Name: name, Size: fi.Size(), ModTime: fi.ModTime()}); err != nil {
			// Wrapped so a callback returning fs.SkipDir or fs.SkipAll
			// stops the listing with that error instead of steering the walk.
			return callbackError{err}
		}
		return nil
	})
	var cbErr callbackError
	if errors.As(err, &cbErr) {
		err = cbErr.err
	} else {
		err = l.unavailable(err)
	}
	if err != nil {
		return fmt.Errorf("store: list %q: %w", prefix, err)
	}
	return nil
}

// callbackError carries an error from List's callback through fs.WalkDir.
type callbackError struct{ err error }

func (e callbackError) Error() string { return e.err.Error() }

// CleanTemp removes temp files left behind by interrupted Puts that are
// older than olderThan, and returns how many it removed. Pass an age well
// above the longest Put (an hour, say) when another process might be
// writing to the same folder; 0 removes every temp file.
func (l *Local) CleanTemp(olderThan time.Duration) (int, error) {
	cutoff := time.Now().Add(-olderThan)
	removed := 0
	err := filepath.WalkDir(l.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() || !strings.HasPrefix(d.Name(), tempPrefix) {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if olderThan > 0 && !fi.ModTime().Before(cutoff) {
			return nil
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		removed++
		return nil
	})
	if err != nil {
		return removed, fmt.Errorf("store: clean temp files in %s: %w", l.root, err)
	}
	return removed, nil
}

// ctxReader stops a copy once ctx is done, so a cancelled Put ends promptly
// even while its reader keeps producing data.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
