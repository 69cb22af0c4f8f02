package repo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"slices"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/store"
)

const (
	snapshotDir     = "snapshots/"
	snapshotVersion = 1
	maxSnapshotSize = 16 << 20
	maxStateEntries = 1 << 20
)

// Snapshot records one completed run: what it covered (Root) and what the
// next run needs (State, e.g. Graph delta links). It is stored encrypted as
// JSON at snapshots/<ID>.
type Snapshot struct {
	ID       ID                `json:"-"` // the file name; set by Save/Load
	Version  int               `json:"version"`
	Time     time.Time         `json:"time"`
	Hostname string            `json:"hostname,omitempty"`
	Account  string            `json:"account,omitempty"` // e.g. the mailbox's UPN
	Kind     string            `json:"kind,omitempty"`    // e.g. "mail", "onedrive", "catalog"
	Root     ID                `json:"root,omitzero"`     // tree blob the run's content hangs from
	Parent   ID                `json:"parent,omitzero"`   // previous snapshot of the same account and kind
	Tags     []string          `json:"tags,omitempty"`
	State    map[string]string `json:"state,omitempty"`
}

func snapshotName(id ID) string { return snapshotDir + id.String() }

func snapshotAD(id ID) []byte { return []byte(adSnapshot + id.String()) }

// SaveSnapshot flushes everything saved so far and then writes s — the
// write order (packs, index, snapshot) is what makes a snapshot never
// reference missing data. It fills in ID, Version, and Time and Hostname
// when unset.
func (r *Repository) SaveSnapshot(ctx context.Context, s *Snapshot) (ID, error) {
	if err := r.Flush(ctx); err != nil {
		return ID{}, fmt.Errorf("repo: snapshot not saved: %w", err)
	}
	if !s.Root.IsZero() && !r.HasBlob(s.Root) {
		return ID{}, fmt.Errorf("repo: snapshot root %s: %w", s.Root.Short(), ErrBlobNotFound)
	}
	// A run whose lock was taken away (judged stale by another computer)
	// may reuse data a prune there is deleting: commit nothing.
	if err := r.lockLost(ctx); err != nil {
		return ID{}, fmt.Errorf("repo: snapshot not saved: %w", err)
	}
	id, err := randomID()
	if err != nil {
		return ID{}, err
	}
	s.ID, s.Version = id, snapshotVersion
	if s.Time.IsZero() {
		s.Time = r.opts.Now()
	}
	s.Time = s.Time.UTC()
	if s.Hostname == "" {
		s.Hostname = r.opts.Hostname
	}
	plain, err := json.Marshal(s)
	if err != nil {
		return ID{}, fmt.Errorf("repo: encoding snapshot: %w", err)
	}
	sealed, err := r.keys.seal(nil, plain, snapshotAD(id))
	if err != nil {
		return ID{}, err
	}
	if err := putBytes(ctx, r.st, snapshotName(id), sealed); err != nil {
		return ID{}, err
	}
	r.log.Info("snapshot saved", "snapshot", id.Short(), "kind", s.Kind)
	return id, nil
}

// decodeSnapshot parses a decrypted snapshot document.
func decodeSnapshot(plain []byte) (*Snapshot, error) {
	var s Snapshot
	dec := json.NewDecoder(bytes.NewReader(plain))
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("decoding snapshot: %w", err)
	}
	if dec.More() {
		return nil, errors.New("trailing data after snapshot")
	}
	switch {
	case s.Version > snapshotVersion:
		return nil, &VersionError{Found: uint32(s.Version), Supported: snapshotVersion}
	case s.Version < 1:
		return nil, fmt.Errorf("snapshot version %d is invalid", s.Version)
	case s.Time.IsZero():
		return nil, errors.New("snapshot has no time")
	case len(s.State) > maxStateEntries:
		return nil, fmt.Errorf("snapshot state has %d entries", len(s.State))
	}
	return &s, nil
}

// LoadSnapshot reads and authenticates one snapshot.
func (r *Repository) LoadSnapshot(ctx context.Context, id ID) (*Snapshot, error) {
	name := snapshotName(id)
	b, err := readSmall(ctx, r.st, name, maxSnapshotSize)
	if err != nil {
		return nil, err
	}
	plain, err := r.keys.open(nil, b, snapshotAD(id))
	if err != nil {
		return nil, corrupt(name, err)
	}
	s, err := decodeSnapshot(plain)
	if err != nil {
		if errors.Is(err, ErrNewerVersion) {
			return nil, err
		}
		return nil, corrupt(name, err)
	}
	s.ID = id
	return s, nil
}

// ListSnapshots returns every readable snapshot, oldest first. Damaged
// snapshots are skipped with a warning (Check reports them); one bad file
// must not hide all the others from someone trying to restore.
func (r *Repository) ListSnapshots(ctx context.Context) ([]*Snapshot, error) {
	ids, err := r.snapshotIDs(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*Snapshot, 0, len(ids))
	for _, id := range ids {
		s, err := r.LoadSnapshot(ctx, id)
		if err != nil {
			if isCorrupt(err) || errors.Is(err, ErrNewerVersion) || errors.Is(err, store.ErrNotFound) {
				r.log.Warn("snapshot skipped", "snapshot", id.Short(), "err", err)
				continue
			}
			return nil, err
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b *Snapshot) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		return bytes.Compare(a.ID[:], b.ID[:])
	})
	return out, nil
}

// snapshotIDs lists snapshot file names; names that are not IDs are
// ignored (they cannot have been written by Lifeboat).
func (r *Repository) snapshotIDs(ctx context.Context) ([]ID, error) {
	var ids []ID
	err := r.st.List(ctx, snapshotDir, func(fi store.Info) error {
		if id, err := ParseID(path.Base(fi.Name)); err == nil {
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("repo: listing snapshots: %w", err)
	}
	return ids, nil
}

// DeleteSnapshot removes one snapshot. The data it referenced stays until
// a prune finds it unreferenced.
func (r *Repository) DeleteSnapshot(ctx context.Context, id ID) error {
	if err := r.st.Delete(ctx, snapshotName(id)); err != nil {
		return fmt.Errorf("repo: deleting snapshot %s: %w", id.Short(), err)
	}
	return nil
}
