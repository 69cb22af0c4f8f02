package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"
)

// ErrUnsafeFolder is matched by *UnsafeFolderError: the folder's storage
// breaks a guarantee crash-safe writes depend on, so Lifeboat will not keep
// a backup there.
var ErrUnsafeFolder = errors.New("store: this folder cannot hold a backup safely")

// ProbeFinding is one thing Probe noticed, in words for the owner.
type ProbeFinding struct {
	// Refuse: Lifeboat must not write a backup here. Otherwise it is a
	// warning: backups work, with the risk the sentence names.
	Refuse bool
	// Check names the guarantee tested: "exclusive-create", "read-back",
	// "fsync", "folder-fsync", "rename-replace", "delete", "clock".
	Check string
	// Sentence explains it to a person who is not in IT.
	Sentence string
	// Err is the system's own error, for the log; nil when there was none.
	Err error
}

// ProbeReport is what Probe found out about a folder's storage.
type ProbeReport struct {
	// FSType is the file system as the OS names it ("ext4", "fuse.sshfs",
	// "cifs", "ntfs"…), "" when unknown.
	FSType string
	// ClockSkew is how far the storage's clock (the modification time it
	// gives a new file) is from this computer's: positive when it is ahead.
	// Zero when within the probe's own duration.
	ClockSkew time.Duration
	Findings  []ProbeFinding
}

// Err returns an *UnsafeFolderError when a finding refuses the folder.
func (p *ProbeReport) Err() error {
	for _, f := range p.Findings {
		if f.Refuse {
			return &UnsafeFolderError{Report: p}
		}
	}
	return nil
}

// Warnings are the findings that do not refuse the folder.
func (p *ProbeReport) Warnings() []ProbeFinding {
	var out []ProbeFinding
	for _, f := range p.Findings {
		if !f.Refuse {
			out = append(out, f)
		}
	}
	return out
}

// UnsafeFolderError says why a folder was refused.
type UnsafeFolderError struct{ Report *ProbeReport }

func (e *UnsafeFolderError) Error() string {
	var parts []string
	for _, f := range e.Report.Findings {
		if f.Refuse {
			parts = append(parts, f.Sentence)
		}
	}
	return "this folder cannot hold a backup safely: " + strings.Join(parts, " ")
}

// Is makes errors.Is(err, ErrUnsafeFolder) true.
func (e *UnsafeFolderError) Is(target error) bool { return target == ErrUnsafeFolder }

// maxClockSkew is how far the storage's clock may be from this computer's
// before Probe says so: prune's safety margin for a running backup and the
// age of locks are both judged in minutes.
const maxClockSkew = 2 * time.Minute

// Probe tests, with a few small temporary files in the folder, the
// guarantees every write of the repository relies on: that creating a file
// that exists fails, that bytes read back are the bytes written, that
// fsync (of a file and of a folder) is honoured, that renaming a file over
// another replaces it in one step, that a deleted file is gone, and how far
// the storage's clock is from this computer's. Network shares and FUSE
// mounts are where these fail; a refusing finding means a crash or a
// second computer could corrupt the backup there. The error is for a probe
// that could not run at all (the folder is gone, is read-only, is full).
//
// The temporary files use the store's temp prefix: List never shows them
// and CleanTemp removes any that a crash leaves.
func (l *Local) Probe(ctx context.Context) (*ProbeReport, error) {
	rep := &ProbeReport{FSType: fsType(l.root)}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("store: probe: %w", err)
	}
	var made []string
	defer func() {
		for _, p := range made {
			os.Remove(p)
		}
	}()
	fail := func(err error) (*ProbeReport, error) {
		if isDiskFull(err) {
			err = fmt.Errorf("%w: %w", ErrDiskFull, err)
		}
		return nil, fmt.Errorf("store: probe of %s: %w", l.root, l.unavailable(err))
	}
	add := func(refuse bool, check, sentence string, err error) {
		rep.Findings = append(rep.Findings, ProbeFinding{Refuse: refuse, Check: check, Sentence: sentence, Err: err})
	}

	first := make([]byte, 64<<10)
	second := make([]byte, 48<<10)
	rand.Read(first)
	rand.Read(second)

	// 1. A new file, written, fsynced and closed.
	before := time.Now()
	a, fsyncErr, err := l.probeWrite(first)
	if a != "" {
		made = append(made, a)
	}
	if err != nil {
		return fail(err)
	}
	after := time.Now()
	switch {
	case fsyncErr != nil && syncUnsupported(fsyncErr):
		add(false, "fsync", "The storage does not confirm that data has reached its disk (it does not support fsync). "+
			"Backups still work, but if it loses power or its connection during a backup, the last files written may be lost; "+
			"run a check of the backup (verify) after such an outage.", fsyncErr)
	case fsyncErr != nil:
		add(true, "fsync", "The storage failed when asked to make written data safe on its disk (fsync), "+
			"so Lifeboat cannot know that what it stores is really there.", fsyncErr)
	}

	// 2. Creating a file that exists must fail, or two computers could
	// both believe they created the same file.
	if f, err := os.OpenFile(a, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
		f.Close()
		add(true, "exclusive-create", "The storage lets a program create a file that already exists as if it were new, "+
			"so two computers using this backup at the same time could overwrite each other's files.", nil)
	} else if !errors.Is(err, fs.ErrExist) {
		return fail(err)
	}

	// 3. The bytes read back through a fresh open are the bytes written.
	if got, err := os.ReadFile(a); err != nil {
		return fail(err)
	} else if !bytes.Equal(got, first) {
		add(true, "read-back", fmt.Sprintf("The storage gave back different bytes than were written to it "+
			"(%d bytes read of %d written), so a backup kept there could be silently damaged.", len(got), len(first)), nil)
	}

	// 4. Renaming a file over another replaces it in one step: every
	// object is published this way.
	b, _, err := l.probeWrite(second)
	if b != "" {
		made = append(made, b)
	}
	if err != nil {
		return fail(err)
	}
	if err := os.Rename(b, a); err != nil {
		if isUnreachable(err) || isDiskFull(err) {
			return fail(err)
		}
		add(true, "rename-replace", "The storage cannot replace a file by renaming another one over it, "+
			"which is how Lifeboat saves each file so that a crash leaves either the old or the new one, never half of each.", err)
	} else {
		got, err := os.ReadFile(a)
		if err != nil {
			return fail(err)
		}
		_, berr := os.Stat(b)
		if !bytes.Equal(got, second) || !errors.Is(berr, fs.ErrNotExist) {
			add(true, "rename-replace", "When a file is renamed over another, the storage does not end up with exactly the new file, "+
				"so a crash or a second computer could leave a mix of old and new data.", berr)
		}
	}

	// 5. The folder's entries can be made durable.
	if err := syncDirRaw(l.root); err != nil {
		if isUnreachable(err) {
			return fail(err)
		}
		add(false, "folder-fsync", "The storage does not confirm that a newly saved file's name has reached its disk. "+
			"This is usual for network shares (the server does it itself); after a power cut on the storage, run verify.", err)
	}

	// 6. The storage's clock: locks and prune's safety margin use it.
	if fi, err := os.Stat(a); err == nil {
		mt := fi.ModTime()
		lo, hi := before.Add(-time.Second), after.Add(time.Second) // coarse timestamps (FAT: 2 s)
		switch {
		case mt.Before(lo):
			rep.ClockSkew = mt.Sub(lo)
		case mt.After(hi):
			rep.ClockSkew = mt.Sub(hi)
		}
		if rep.ClockSkew > maxClockSkew || rep.ClockSkew < -maxClockSkew {
			dir := "ahead of"
			if rep.ClockSkew < 0 {
				dir = "behind"
			}
			add(false, "clock", fmt.Sprintf("The storage's clock is about %s %s this computer's. Lifeboat allows for it, "+
				"but set both clocks to the correct time (automatic time) so that backup times and clean-ups are right.",
				roundSkew(rep.ClockSkew), dir), nil)
		}
	}

	// 7. A deleted file is gone.
	if err := os.Remove(a); err != nil {
		return fail(err)
	}
	if _, err := os.Stat(a); err == nil {
		add(true, "delete", "A file deleted on the storage is still there afterwards, so Lifeboat could not release or clean up its files.", nil)
	}
	return rep, nil
}

// probeWrite writes data to a new temp file in the root and returns its
// path and the fsync error (nil when it worked). err is for the other
// steps.
func (l *Local) probeWrite(data []byte) (path string, fsyncErr, err error) {
	f, err := os.CreateTemp(l.root, tempPrefix+"probe-*")
	if err != nil {
		return "", nil, err
	}
	path = f.Name()
	if _, err := f.Write(data); err != nil {
		f.Close()
		return path, nil, err
	}
	fsyncErr = f.Sync()
	if err := f.Close(); err != nil {
		return path, fsyncErr, err
	}
	return path, fsyncErr, nil
}

func roundSkew(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	switch {
	case d >= time.Hour:
		return d.Round(time.Minute).String()
	case d >= time.Minute:
		return fmt.Sprintf("%d minutes", int(d.Round(time.Minute)/time.Minute))
	}
	return d.Round(time.Second).String()
}

// ProbeFolder opens dir and probes it (see Local.Probe).
func ProbeFolder(ctx context.Context, dir string) (*ProbeReport, error) {
	l, err := NewLocal(dir)
	if err != nil {
		return nil, err
	}
	return l.Probe(ctx)
}
