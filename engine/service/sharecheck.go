package service

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/lifeboat-backup/lifeboat/engine/repo"
	"github.com/lifeboat-backup/lifeboat/engine/store"
)

// shareChecks remembers what store.Probe found about each backup folder,
// so a folder is probed once per process.
type shareChecks struct {
	mu sync.Mutex
	m  map[string]*store.ProbeReport
}

// probeFolder tests the guarantees crash-safe writes need in dir (see
// store.Local.Probe): always when a backup is created there, and on a
// network share or FUSE mount when one is opened for writing.
func (s *Service) probeFolder(ctx context.Context, dir string, always bool) (*store.ProbeReport, error) {
	if !always && !store.IsShare(dir) {
		return nil, nil
	}
	c := &s.shares
	c.mu.Lock()
	defer c.mu.Unlock()
	if rep, ok := c.m[dir]; ok {
		return rep, nil
	}
	rep, err := store.ProbeFolder(ctx, dir)
	if err != nil {
		return nil, err
	}
	if c.m == nil {
		c.m = map[string]*store.ProbeReport{}
	}
	c.m[dir] = rep
	for _, f := range rep.Findings {
		s.o.Logger.Warn("backup folder check", "dir", dir, "fs", rep.FSType, "check", f.Check, "refuse", f.Refuse, "err", f.Err)
	}
	return rep, nil
}

// ErrUnsafeShare matches the error for a backup folder whose storage
// breaks a guarantee Lifeboat's writes need.
var ErrUnsafeShare = store.ErrUnsafeFolder

// ShareWarnings probes a backup's folder when it is on a network share and
// refuses to write there when the storage breaks a guarantee (fsync that
// fails, a rename that does not replace); otherwise it returns the
// warnings worth telling the owner. Restoring from such a backup still
// works: only the commands that write call this.
func (s *Service) ShareWarnings(ctx context.Context, r *repo.Repository) ([]string, error) {
	l, ok := r.Store().(*store.Local)
	if !ok {
		return nil, nil
	}
	rep, err := s.probeFolder(ctx, l.Root(), false)
	if err != nil {
		// The writes themselves say what is wrong (full, gone, read-only).
		s.o.Logger.Warn("could not check the backup folder", "dir", l.Root(), "err", err)
		return nil, nil
	}
	if rep == nil {
		return nil, nil
	}
	if err := rep.Err(); err != nil {
		return nil, unsafeShare(l.Root(), err)
	}
	var out []string
	for _, f := range rep.Warnings() {
		out = append(out, f.Sentence)
	}
	return out, nil
}

// refuseUnsafeShare is ShareWarnings for the commands that say nothing
// of warnings.
func (s *Service) refuseUnsafeShare(ctx context.Context, r *repo.Repository) error {
	_, err := s.ShareWarnings(ctx, r)
	return err
}

// unsafeShare explains a refused folder.
func unsafeShare(dir string, err error) error {
	var ue *store.UnsafeFolderError
	if !errors.As(err, &ue) {
		return err
	}
	var why []string
	for _, f := range ue.Report.Findings {
		if f.Refuse {
			why = append(why, f.Sentence)
		}
	}
	return explained(fmt.Sprintf("The folder %s cannot hold a backup safely, so Lifeboat will not write to it. %s "+
		"Restoring from a backup already there still works. Keep the backup on a USB drive, or on a network share that keeps "+
		"these guarantees (an SMB share of a NAS usually does: check its settings and firmware).", dir, strings.Join(why, " ")), err)
}
