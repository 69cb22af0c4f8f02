package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"
	"syscall"
)

// ErrInjected is wrapped by every failure Faulty injects, unless the test
// supplied its own error.
var ErrInjected = errors.New("store: injected fault")

// OpCounts counts calls to each Store method, failed ones included.
type OpCounts struct {
	Put, Get, Stat, List, Delete int
}

// Faulty wraps a Store and injects the faults a real destination produces,
// for other packages' tests. With no fault configured it behaves exactly
// like the Store it wraps. Faults are set with its methods, stay on until
// Reset, and may be changed at any time, also while other goroutines use
// the store.
//
// Write faults are injected by handing the wrapped store a reader that fails
// partway, so the real cleanup path of the wrapped store runs (a Local
// removes its temp file) and, as with a real failure, nothing of the failed
// Put is visible and a previous object of that name is intact. That relies
// on the wrapped store passing a reader error on, as every Store in this
// package does.
type Faulty struct {
	inner Store

	mu          sync.Mutex
	counts      OpCounts
	putFailIn   int   // 0: off; 1: this and every later Put fails; n: n-1 more succeed first
	putErr      error // the error FailPutAfter was given (nil: ErrInjected)
	commitFault string
	shortReads  bool
	flips       map[string][]int64
	diskLimit   int64 // < 0: off
	getErrs     map[string]error
}

var _ Store = (*Faulty)(nil)

// NewFaulty wraps inner with no faults configured.
func NewFaulty(inner Store) *Faulty {
	f := &Faulty{inner: inner}
	f.Reset()
	return f
}

// Reset turns every fault off. Counts are kept.
func (f *Faulty) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.putFailIn, f.putErr = 0, nil
	f.commitFault = ""
	f.shortReads = false
	f.flips = make(map[string][]int64)
	f.diskLimit = -1
	f.getErrs = make(map[string]error)
}

// Counts returns how many times each method has been called.
func (f *Faulty) Counts() OpCounts {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.counts
}

// FailPutAfter makes the n-th Put from now on, and every Put after it,
// fail with an error wrapping err (ErrInjected when err is nil), like a
// write error from the disk: the Put reads part of its data (half of a
// known size, at most 4 KiB of an unknown one) and fails. n < 1 counts as 1
// (the next Put fails).
func (f *Faulty) FailPutAfter(n int, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.putFailIn, f.putErr = max(n, 1), err
}

// FailRename makes every later Put read all its data and then fail as if
// the final rename had failed: nothing of it is visible.
func (f *Faulty) FailRename() { f.setCommitFault("rename") }

// FailSync makes every later Put read all its data and then fail as if
// fsync had failed: nothing of it is visible.
func (f *Faulty) FailSync() { f.setCommitFault("fsync") }

func (f *Faulty) setCommitFault(what string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.commitFault = what
}

// ShortReads makes readers from Get return fewer bytes than asked for
// (alternately 1 byte and half the buffer), which io.Reader allows and
// careless callers mishandle. The bytes themselves stay correct.
func (f *Faulty) ShortReads(on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.shortReads = on
}

// FlipBit corrupts the object name as read back through Get: the lowest bit
// of the byte at offset (from the start of the object) is inverted. What is
// stored is unchanged. Flipping the same offset twice cancels out.
func (f *Faulty) FlipBit(name string, offset int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.flips[name] = append(f.flips[name], offset)
}

// DiskFull makes Put fail with an error wrapping ErrDiskFull (and
// syscall.ENOSPC) once the total size of all stored objects would exceed
// limitBytes; a replaced object's old size does not count. The check is
// made against what is stored when each Put starts, so concurrent Puts may
// overshoot together. A negative limit turns it off.
func (f *Faulty) DiskFull(limitBytes int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.diskLimit = limitBytes
}

// FailGet makes every Get of name fail with an error wrapping err
// (ErrInjected when err is nil). The name "" makes every Get fail.
func (f *Faulty) FailGet(name string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err == nil {
		err = ErrInjected
	}
	f.getErrs[name] = err
}

// Put implements Store.
func (f *Faulty) Put(ctx context.Context, name string, r io.Reader, size int64) error {
	f.mu.Lock()
	f.counts.Put++
	fr := &faultReader{r: r, failAt: -1, limit: -1}
	switch {
	case f.putFailIn == 1:
		fr.failAt = 4 << 10
		if size >= 0 {
			fr.failAt = size / 2
		}
		err := f.putErr
		if err == nil {
			err = ErrInjected
		}
		fr.failErr = fmt.Errorf("injected write failure after %d bytes: %w", fr.failAt, err)
	case f.putFailIn > 1:
		f.putFailIn--
	}
	if fr.failAt < 0 && f.commitFault != "" {
		fr.failAt = math.MaxInt64 // fail at EOF, once everything is written
		fr.failErr = fmt.Errorf("injected %s failure: %w", f.commitFault, ErrInjected)
	}
	limit := f.diskLimit
	f.mu.Unlock()

	if limit >= 0 {
		used, err := f.usedExcept(ctx, name)
		if err != nil {
			return fmt.Errorf("store: put %s: %w", name, err)
		}
		fr.limit = max(limit-used, 0)
		fr.limitErr = fmt.Errorf("injected: %d-byte limit reached: %w (%w)", limit, ErrDiskFull, syscall.ENOSPC)
	}
	return f.inner.Put(ctx, name, fr, size)
}

// usedExcept sums the sizes of all stored objects other than name.
func (f *Faulty) usedExcept(ctx context.Context, name string) (int64, error) {
	var used int64
	err := f.inner.List(ctx, "", func(i Info) error {
		if i.Name != name {
			used += i.Size
		}
		return nil
	})
	return used, err
}

// faultReader passes data through until it is told to fail: after failAt
// bytes or at EOF, whichever comes first (failAt < 0: never), or as soon
// as more than limit bytes have passed (limit < 0: no limit).
type faultReader struct {
	r        io.Reader
	n        int64
	failAt   int64
	failErr  error
	limit    int64
	limitErr error
}

func (fr *faultReader) Read(p []byte) (int, error) {
	if fr.failAt >= 0 {
		if fr.n >= fr.failAt {
			return 0, fr.failErr
		}
		if int64(len(p)) > fr.failAt-fr.n {
			p = p[:fr.failAt-fr.n]
		}
	}
	n, err := fr.r.Read(p)
	fr.n += int64(n)
	if fr.limit >= 0 && fr.n > fr.limit {
		return n, fr.limitErr
	}
	if err == io.EOF && fr.failAt >= 0 {
		return n, fr.failErr
	}
	return n, err
}

// Get implements Store.
func (f *Faulty) Get(ctx context.Context, name string, offset, length int64) (io.ReadCloser, error) {
	f.mu.Lock()
	f.counts.Get++
	err, ok := f.getErrs[name]
	if !ok {
		err = f.getErrs[""]
	}
	flips := append([]int64(nil), f.flips[name]...)
	short := f.shortReads
	f.mu.Unlock()

	if err != nil {
		return nil, fmt.Errorf("store: get %s: injected: %w", name, err)
	}
	rc, err := f.inner.Get(ctx, name, offset, length)
	if err != nil || (len(flips) == 0 && !short) {
		return rc, err
	}
	return &faultyReadCloser{rc: rc, pos: offset, flips: flips, short: short}, nil
}

// faultyReadCloser applies FlipBit and ShortReads to a reader from Get.
type faultyReadCloser struct {
	rc    io.ReadCloser
	pos   int64 // offset in the object of the next byte read
	flips []int64
	short bool
	tiny  bool // alternates short reads between 1 byte and half the buffer
}

func (r *faultyReadCloser) Read(p []byte) (int, error) {
	if r.short && len(p) > 1 {
		r.tiny = !r.tiny
		if r.tiny {
			p = p[:1]
		} else {
			p = p[:len(p)/2]
		}
	}
	n, err := r.rc.Read(p)
	for _, off := range r.flips {
		if off >= r.pos && off < r.pos+int64(n) {
			p[off-r.pos] ^= 1
		}
	}
	r.pos += int64(n)
	return n, err
}

func (r *faultyReadCloser) Close() error { return r.rc.Close() }

// Stat implements Store.
func (f *Faulty) Stat(ctx context.Context, name string) (Info, error) {
	f.count(func(c *OpCounts) { c.Stat++ })
	return f.inner.Stat(ctx, name)
}

// List implements Store.
func (f *Faulty) List(ctx context.Context, prefix string, fn func(Info) error) error {
	f.count(func(c *OpCounts) { c.List++ })
	return f.inner.List(ctx, prefix, fn)
}

// Delete implements Store.
func (f *Faulty) Delete(ctx context.Context, name string) error {
	f.count(func(c *OpCounts) { c.Delete++ })
	return f.inner.Delete(ctx, name)
}

func (f *Faulty) count(inc func(*OpCounts)) {
	f.mu.Lock()
	inc(&f.counts)
	f.mu.Unlock()
}
