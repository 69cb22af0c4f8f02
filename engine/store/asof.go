package store

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"
)

// AsOf returns a read-only view of v as it was at time t (on the
// destination's clock): each name shows the newest version written at or
// before t, and a name whose newest such version is a delete marker, or
// that did not exist yet, is absent. Versions written after t — an
// attacker's overwrites and deletions among them — are invisible, so a
// repository opened on the view reads as it was before an attack. The
// version list is read once, when AsOf is called.
func AsOf(ctx context.Context, v Versioned, t time.Time) (Store, error) {
	best := map[string]Version{}
	err := v.ListVersions(ctx, "", func(ver Version) error {
		if ver.ModTime.After(t) {
			return nil
		}
		cur, ok := best[ver.Name]
		if !ok || ver.ModTime.After(cur.ModTime) || (ver.ModTime.Equal(cur.ModTime) && ver.Latest) {
			best[ver.Name] = ver
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: reading the versions as of %s: %w", t.Format(time.RFC3339), err)
	}
	live := make(map[string]Version, len(best))
	for name, ver := range best {
		if !ver.DeleteMarker {
			live[name] = ver
		}
	}
	return &asOf{v: v, at: t, objs: live}, nil
}

// asOf is the view AsOf returns.
type asOf struct {
	v    Versioned
	at   time.Time
	objs map[string]Version
}

func (a *asOf) lookup(ctx context.Context, op, name string) (Version, error) {
	if err := ValidateName(name); err != nil {
		return Version{}, fmt.Errorf("store: %s: %w", op, err)
	}
	if err := ctx.Err(); err != nil {
		return Version{}, fmt.Errorf("store: %s %s: %w", op, name, err)
	}
	ver, ok := a.objs[name]
	if !ok {
		return Version{}, fmt.Errorf("store: %s %s as of %s: %w", op, name, a.at.Format(time.RFC3339), ErrNotFound)
	}
	return ver, nil
}

func (a *asOf) Put(ctx context.Context, name string, _ io.Reader, _ int64) error {
	return fmt.Errorf("store: put %s: %w (the backup as it was at %s)", name, ErrReadOnly, a.at.Format(time.RFC3339))
}

func (a *asOf) Delete(ctx context.Context, name string) error {
	return fmt.Errorf("store: delete %s: %w (the backup as it was at %s)", name, ErrReadOnly, a.at.Format(time.RFC3339))
}

func (a *asOf) Get(ctx context.Context, name string, offset, length int64) (io.ReadCloser, error) {
	ver, err := a.lookup(ctx, "get", name)
	if err != nil {
		return nil, err
	}
	return a.v.GetVersion(ctx, name, ver.VersionID, offset, length)
}

func (a *asOf) Stat(ctx context.Context, name string) (Info, error) {
	ver, err := a.lookup(ctx, "stat", name)
	if err != nil {
		return Info{}, err
	}
	return Info{Name: name, Size: ver.Size, ModTime: ver.ModTime}, nil
}

func (a *asOf) List(ctx context.Context, prefix string, fn func(Info) error) error {
	if err := validatePrefix(prefix); err != nil {
		return fmt.Errorf("store: list: %w", err)
	}
	for name, ver := range a.objs {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("store: list %q: %w", prefix, err)
		}
		if !strings.HasPrefix(name, prefix) {
			continue
		}
		if err := fn(Info{Name: name, Size: ver.Size, ModTime: ver.ModTime}); err != nil {
			return fmt.Errorf("store: list %q: %w", prefix, err)
		}
	}
	return nil
}
