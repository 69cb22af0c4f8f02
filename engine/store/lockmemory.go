package store

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
)

// LockedMemory is an in-memory versioned store with S3 Object Lock
// semantics in compliance mode, on a clock the test controls: every Put
// adds a version locked until Now + Period + Slack (names Unlocked
// reports are not locked), Delete adds a delete marker, and no version
// can be destroyed or have its lock shortened before its date. It lets
// tests run weeks of lock maintenance in milliseconds; the same
// behaviour is checked against a real S3 server by storetest.RunVersioned.
type LockedMemory struct {
	now    func() time.Time
	policy LockPolicy

	mu   sync.Mutex
	seq  int
	objs map[string][]*memVersion // oldest first
}

type memVersion struct {
	id          string
	data        []byte
	modTime     time.Time
	marker      bool
	retainUntil time.Time
}

var (
	_ Versioned = (*LockedMemory)(nil)
	_ Locker    = (*LockedMemory)(nil)
)

// NewLockedMemory returns an empty store whose clock is now (nil:
// time.Now). A zero policy.Period keeps versions but locks nothing.
func NewLockedMemory(now func() time.Time, policy LockPolicy) *LockedMemory {
	if now == nil {
		now = time.Now
	}
	return &LockedMemory{now: now, policy: policy, objs: map[string][]*memVersion{}}
}

// LockPolicy implements Locker.
func (m *LockedMemory) LockPolicy() LockPolicy { return m.policy }

// Now implements Versioned.
func (m *LockedMemory) Now(ctx context.Context) (time.Time, error) {
	if err := ctx.Err(); err != nil {
		return time.Time{}, err
	}
	return m.now(), nil
}

func (m *LockedMemory) latest(name string) *memVersion {
	vs := m.objs[name]
	if len(vs) == 0 {
		return nil
	}
	return vs[len(vs)-1]
}

func (m *LockedMemory) addLocked(name string, v *memVersion) {
	m.seq++
	v.id = "v" + strconv.Itoa(m.seq)
	v.modTime = m.now()
	if !v.marker && m.policy.Period > 0 && !Unlocked(name) {
		v.retainUntil = m.policy.Until(v.modTime)
	}
	m.objs[name] = append(m.objs[name], v)
}

// Put implements Store.
func (m *LockedMemory) Put(ctx context.Context, name string, r io.Reader, size int64) error {
	if err := ValidateName(name); err != nil {
		return fmt.Errorf("store: put: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: put %s: %w", name, err)
	}
	var buf bytes.Buffer
	n, err := io.Copy(&buf, ctxReader{ctx, r})
	if err != nil {
		return fmt.Errorf("store: put %s: %w", name, err)
	}
	if size >= 0 && n != size {
		return fmt.Errorf("store: put %s: read %d bytes, expected %d", name, n, size)
	}
	m.mu.Lock()
	m.addLocked(name, &memVersion{data: buf.Bytes()})
	m.mu.Unlock()
	return nil
}

func (m *LockedMemory) current(ctx context.Context, op, name string) (*memVersion, error) {
	if err := ValidateName(name); err != nil {
		return nil, fmt.Errorf("store: %s: %w", op, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("store: %s %s: %w", op, name, err)
	}
	m.mu.Lock()
	v := m.latest(name)
	m.mu.Unlock()
	if v == nil || v.marker {
		return nil, fmt.Errorf("store: %s %s: %w", op, name, ErrNotFound)
	}
	return v, nil
}

// Get implements Store.
func (m *LockedMemory) Get(ctx context.Context, name string, offset, length int64) (io.ReadCloser, error) {
	v, err := m.current(ctx, "get", name)
	if err != nil {
		return nil, err
	}
	return v.reader(name, offset, length)
}

func (v *memVersion) reader(name string, offset, length int64) (io.ReadCloser, error) {
	n, err := rangeLen(int64(len(v.data)), offset, length)
	if err != nil {
		return nil, fmt.Errorf("store: get %s: %w", name, err)
	}
	return io.NopCloser(bytes.NewReader(v.data[offset : offset+n])), nil
}

// Stat implements Store.
func (m *LockedMemory) Stat(ctx context.Context, name string) (Info, error) {
	v, err := m.current(ctx, "stat", name)
	if err != nil {
		return Info{}, err
	}
	return Info{Name: name, Size: int64(len(v.data)), ModTime: v.modTime}, nil
}

// List implements Store.
func (m *LockedMemory) List(ctx context.Context, prefix string, fn func(Info) error) error {
	if err := validatePrefix(prefix); err != nil {
		return fmt.Errorf("store: list: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: list %q: %w", prefix, err)
	}
	var infos []Info
	m.mu.Lock()
	for name := range m.objs {
		if v := m.latest(name); strings.HasPrefix(name, prefix) && v != nil && !v.marker {
			infos = append(infos, Info{Name: name, Size: int64(len(v.data)), ModTime: v.modTime})
		}
	}
	m.mu.Unlock()
	for _, i := range infos {
		if err := fn(i); err != nil {
			return fmt.Errorf("store: list %q: %w", prefix, err)
		}
	}
	return nil
}

// Delete implements Store: it hides the name behind a delete marker.
func (m *LockedMemory) Delete(ctx context.Context, name string) error {
	if _, err := m.current(ctx, "delete", name); err != nil {
		return err
	}
	m.mu.Lock()
	m.addLocked(name, &memVersion{marker: true})
	m.mu.Unlock()
	return nil
}

// ListVersions implements Versioned.
func (m *LockedMemory) ListVersions(ctx context.Context, prefix string, fn func(Version) error) error {
	if err := validatePrefix(prefix); err != nil {
		return fmt.Errorf("store: list versions: %w", err)
	}
	var out []Version
	m.mu.Lock()
	for name, vs := range m.objs {
		if !strings.HasPrefix(name, prefix) {
			continue
		}
		for i, v := range vs {
			out = append(out, Version{Name: name, VersionID: v.id, Size: int64(len(v.data)), ModTime: v.modTime,
				Latest: i == len(vs)-1, DeleteMarker: v.marker, RetainUntil: v.retainUntil})
		}
	}
	m.mu.Unlock()
	for _, v := range out {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(v); err != nil {
			return fmt.Errorf("store: list versions %q: %w", prefix, err)
		}
	}
	return nil
}

func (m *LockedMemory) find(name, id string) (int, *memVersion) {
	for i, v := range m.objs[name] {
		if v.id == id {
			return i, v
		}
	}
	return -1, nil
}

// GetVersion implements Versioned.
func (m *LockedMemory) GetVersion(ctx context.Context, name, versionID string, offset, length int64) (io.ReadCloser, error) {
	if err := ValidateName(name); err != nil {
		return nil, fmt.Errorf("store: get: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	_, v := m.find(name, versionID)
	m.mu.Unlock()
	if v == nil || v.marker {
		return nil, fmt.Errorf("store: get %s version %s: %w", name, versionID, ErrNotFound)
	}
	return v.reader(name, offset, length)
}

// DeleteVersion implements Versioned.
func (m *LockedMemory) DeleteVersion(ctx context.Context, name, versionID string) error {
	if err := ValidateName(name); err != nil {
		return fmt.Errorf("store: delete version: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	i, v := m.find(name, versionID)
	if v == nil {
		return fmt.Errorf("store: delete %s version %s: %w", name, versionID, ErrNotFound)
	}
	if v.retainUntil.After(m.now()) {
		return fmt.Errorf("store: delete %s version %s: %w (until %s)", name, versionID, ErrRetained, v.retainUntil.Format(time.RFC3339))
	}
	vs := m.objs[name]
	m.objs[name] = append(vs[:i:i], vs[i+1:]...)
	if len(m.objs[name]) == 0 {
		delete(m.objs, name)
	}
	return nil
}

// ExtendRetention implements Versioned.
func (m *LockedMemory) ExtendRetention(ctx context.Context, name, versionID string, until time.Time) error {
	if err := ValidateName(name); err != nil {
		return fmt.Errorf("store: extend lock: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	_, v := m.find(name, versionID)
	if v == nil || v.marker {
		return fmt.Errorf("store: extend lock of %s version %s: %w", name, versionID, ErrNotFound)
	}
	if until.After(v.retainUntil) {
		v.retainUntil = until
	}
	return nil
}
