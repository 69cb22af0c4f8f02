package store

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Memory is an in-memory Store for tests. It is safe for concurrent use and
// copies bytes in, so a caller reusing its buffer after Put does not change
// what is stored; readers from Get cannot change it either.
type Memory struct {
	mu   sync.RWMutex
	objs map[string]memObject
	now  func() time.Time // the modification times' clock
}

// memObject's data is never modified after Put, so readers may share it.
type memObject struct {
	data    []byte
	modTime time.Time
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty in-memory Store.
func NewMemory() *Memory {
	return NewMemoryWithClock(time.Now)
}

// NewMemoryWithClock returns an empty in-memory Store whose objects'
// modification times come from now: a destination with a clock of its own,
// for tests of computers whose clocks disagree with it.
func NewMemoryWithClock(now func() time.Time) *Memory {
	return &Memory{objs: make(map[string]memObject), now: now}
}

// Put implements Store.
func (m *Memory) Put(ctx context.Context, name string, r io.Reader, size int64) error {
	if err := ValidateName(name); err != nil {
		return fmt.Errorf("store: put: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: put %s: %w", name, err)
	}
	var buf bytes.Buffer
	if size > 0 {
		buf.Grow(int(min(size, 64<<20)))
	}
	// Always a fresh buffer: nothing the caller holds aliases it.
	n, err := io.Copy(&buf, ctxReader{ctx, r})
	if err != nil {
		return fmt.Errorf("store: put %s: %w", name, err)
	}
	if size >= 0 && n != size {
		return fmt.Errorf("store: put %s: read %d bytes, expected %d", name, n, size)
	}
	m.mu.Lock()
	m.objs[name] = memObject{data: buf.Bytes(), modTime: m.now()}
	m.mu.Unlock()
	return nil
}

func (m *Memory) lookup(ctx context.Context, op, name string) (memObject, error) {
	if err := ValidateName(name); err != nil {
		return memObject{}, fmt.Errorf("store: %s: %w", op, err)
	}
	if err := ctx.Err(); err != nil {
		return memObject{}, fmt.Errorf("store: %s %s: %w", op, name, err)
	}
	m.mu.RLock()
	o, ok := m.objs[name]
	m.mu.RUnlock()
	if !ok {
		return memObject{}, fmt.Errorf("store: %s %s: %w", op, name, ErrNotFound)
	}
	return o, nil
}

// Get implements Store.
func (m *Memory) Get(ctx context.Context, name string, offset, length int64) (io.ReadCloser, error) {
	o, err := m.lookup(ctx, "get", name)
	if err != nil {
		return nil, err
	}
	n, err := rangeLen(int64(len(o.data)), offset, length)
	if err != nil {
		return nil, fmt.Errorf("store: get %s: %w", name, err)
	}
	return io.NopCloser(bytes.NewReader(o.data[offset : offset+n])), nil
}

// Stat implements Store.
func (m *Memory) Stat(ctx context.Context, name string) (Info, error) {
	o, err := m.lookup(ctx, "stat", name)
	if err != nil {
		return Info{}, err
	}
	return Info{Name: name, Size: int64(len(o.data)), ModTime: o.modTime}, nil
}

// List implements Store. fn is called without the lock held, so it may use
// the store.
func (m *Memory) List(ctx context.Context, prefix string, fn func(Info) error) error {
	if err := validatePrefix(prefix); err != nil {
		return fmt.Errorf("store: list: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: list %q: %w", prefix, err)
	}
	var infos []Info
	m.mu.RLock()
	for name, o := range m.objs {
		if strings.HasPrefix(name, prefix) {
			infos = append(infos, Info{Name: name, Size: int64(len(o.data)), ModTime: o.modTime})
		}
	}
	m.mu.RUnlock()
	for _, info := range infos {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("store: list %q: %w", prefix, err)
		}
		if err := fn(info); err != nil {
			return fmt.Errorf("store: list %q: %w", prefix, err)
		}
	}
	return nil
}

// Delete implements Store.
func (m *Memory) Delete(ctx context.Context, name string) error {
	if err := ValidateName(name); err != nil {
		return fmt.Errorf("store: delete: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: delete %s: %w", name, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.objs[name]; !ok {
		return fmt.Errorf("store: delete %s: %w", name, ErrNotFound)
	}
	delete(m.objs, name)
	return nil
}
