// Package storetest is the conformance suite every store.Store
// implementation must pass. It lives in a non-test file so that packages
// outside engine/store (a future cloud store, a wrapper) can run it too:
//
//	func TestMyStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { return newMyStore(t) })
//	}
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/store"
)

// Run runs the whole suite. newStore must return a new, empty store for
// each call; it is called once per subtest with that subtest's t.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"RoundTrip", testRoundTrip},
		{"RangeReads", testRangeReads},
		{"Replace", testReplace},
		{"Stat", testStat},
		{"List", testList},
		{"ListStops", testListStops},
		{"Delete", testDelete},
		{"NotFound", testNotFound},
		{"SizeMismatch", testSizeMismatch},
		{"FailingReader", testFailingReader},
		{"CopiesBuffers", testCopiesBuffers},
		{"Concurrent", testConcurrent},
		{"ContextCanceled", testContextCanceled},
		{"HostileNames", testHostileNames},
		{"HostilePrefixes", testHostilePrefixes},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newStore(t))
		})
	}
}

// Data returns n deterministic pseudo-random bytes for seed.
func Data(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	b := make([]byte, n)
	for i := 0; i < n; i += 8 {
		v := r.Uint64()
		for j := i; j < min(i+8, n); j++ {
			b[j] = byte(v)
			v >>= 8
		}
	}
	return b
}

// MustPut stores data under name or fails the test.
func MustPut(t testing.TB, s store.Store, name string, data []byte) {
	t.Helper()
	if err := s.Put(context.Background(), name, bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatalf("Put(%q): %v", name, err)
	}
}

// MustGet reads the whole object name or fails the test.
func MustGet(t testing.TB, s store.Store, name string) []byte {
	t.Helper()
	b, err := ReadAll(context.Background(), s, name, 0, -1)
	if err != nil {
		t.Fatalf("Get(%q): %v", name, err)
	}
	return b
}

// ReadAll reads a range of an object through Get and closes the reader.
func ReadAll(ctx context.Context, s store.Store, name string, offset, length int64) ([]byte, error) {
	rc, err := s.Get(ctx, name, offset, length)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(rc)
	if cerr := rc.Close(); err == nil {
		err = cerr
	}
	return b, err
}

// Names lists every object name under prefix, sorted.
func Names(t testing.TB, s store.Store, prefix string) []string {
	t.Helper()
	var names []string
	err := s.List(context.Background(), prefix, func(i store.Info) error {
		names = append(names, i.Name)
		return nil
	})
	if err != nil {
		t.Fatalf("List(%q): %v", prefix, err)
	}
	slices.Sort(names)
	return names
}

// requireClean checks that every listed name is a valid object name, which
// rules out temp files and half-written objects showing up.
func requireClean(t *testing.T, s store.Store, want []string) {
	t.Helper()
	got := Names(t, s, "")
	for _, n := range got {
		if err := store.ValidateName(n); err != nil {
			t.Errorf("List reported %q, which is not a valid object name: %v", n, err)
		}
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("stored objects = %q, want %q", got, want)
	}
}

func testRoundTrip(t *testing.T, s store.Store) {
	cases := []struct {
		name    string
		data    []byte
		sizeArg func(n int) int64
	}{
		{"empty", []byte{}, exact},
		{"empty-unknown-size", nil, unknown},
		{"one", []byte{0x42}, exact},
		{"small", []byte("hello, lifeboat\n"), exact},
		{"small-unknown-size", []byte("no size given"), unknown},
		{"binary", []byte{0, 0xff, 0, '\n', '\r', 0x1a}, exact},
		{"multi-mib", Data(1, 3<<20+17), exact},
		{"multi-mib-unknown-size", Data(2, 2<<20+1), unknown},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			name := "objects/" + tc.name
			// A reader that is not a *bytes.Reader, so implementations cannot
			// take shortcuts the real pipeline (a network body) would not allow.
			r := io.MultiReader(bytes.NewReader(tc.data))
			if err := s.Put(context.Background(), name, r, tc.sizeArg(len(tc.data))); err != nil {
				t.Fatalf("Put: %v", err)
			}
			if got := MustGet(t, s, name); !bytes.Equal(got, tc.data) {
				t.Fatalf("Get returned %d bytes that differ from the %d put", len(got), len(tc.data))
			}
			info, err := s.Stat(context.Background(), name)
			if err != nil {
				t.Fatalf("Stat: %v", err)
			}
			if info.Size != int64(len(tc.data)) || info.Name != name {
				t.Fatalf("Stat = %+v, want name %q size %d", info, name, len(tc.data))
			}
		})
	}
	// Names with several levels, and a name that is a prefix of a folder.
	MustPut(t, s, "a/b/c/d/e", []byte("deep"))
	MustPut(t, s, "a/b/c/d/e2", []byte("sibling"))
	if got := string(MustGet(t, s, "a/b/c/d/e")); got != "deep" {
		t.Fatalf("deep object = %q", got)
	}
}

func exact(n int) int64 { return int64(n) }
func unknown(int) int64 { return -1 }

func testRangeReads(t *testing.T, s store.Store) {
	data := Data(3, 100_000)
	MustPut(t, s, "data/range", data)
	MustPut(t, s, "data/empty", nil)
	n := int64(len(data))
	cases := []struct {
		name           string
		object         string
		offset, length int64
		want           []byte
		wantErr        error
	}{
		{"whole", "data/range", 0, -1, data, nil},
		{"whole-exact-length", "data/range", 0, n, data, nil},
		{"head", "data/range", 0, 10, data[:10], nil},
		{"middle", "data/range", 4096, 5000, data[4096:9096], nil},
		{"tail-to-end", "data/range", n - 7, -1, data[n-7:], nil},
		{"length-past-end", "data/range", n - 7, 100, data[n-7:], nil},
		{"zero-length", "data/range", 50, 0, []byte{}, nil},
		{"offset-at-end", "data/range", n, -1, []byte{}, nil},
		{"offset-past-end", "data/range", n + 1, -1, nil, store.ErrInvalidRange},
		{"negative-offset", "data/range", -1, 10, nil, store.ErrInvalidRange},
		{"empty-object", "data/empty", 0, -1, []byte{}, nil},
		{"empty-object-past-end", "data/empty", 1, -1, nil, store.ErrInvalidRange},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadAll(context.Background(), s, tc.object, tc.offset, tc.length)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Get(%d, %d) error = %v, want %v", tc.offset, tc.length, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Get(%d, %d): %v", tc.offset, tc.length, err)
			}
			if !bytes.Equal(got, tc.want) {
				t.Fatalf("Get(%d, %d) returned %d bytes, want %d (or content differs)", tc.offset, tc.length, len(got), len(tc.want))
			}
		})
	}
}

func testReplace(t *testing.T, s store.Store) {
	long, short := Data(4, 10_000), []byte("short")
	MustPut(t, s, "locks/l1", long)
	MustPut(t, s, "locks/l1", short)
	if got := MustGet(t, s, "locks/l1"); !bytes.Equal(got, short) {
		t.Fatalf("after replace got %d bytes %.20q, want %q", len(got), got, short)
	}
	info, err := s.Stat(context.Background(), "locks/l1")
	if err != nil || info.Size != int64(len(short)) {
		t.Fatalf("Stat after replace = %+v, %v; want size %d", info, err, len(short))
	}
	MustPut(t, s, "locks/l1", long)
	if got := MustGet(t, s, "locks/l1"); !bytes.Equal(got, long) {
		t.Fatalf("after replace with longer object got %d bytes, want %d", len(got), len(long))
	}
	requireClean(t, s, []string{"locks/l1"})
}

func testStat(t *testing.T, s store.Store) {
	before := time.Now().Add(-2 * time.Minute) // generous: FAT and SMB times are coarse
	MustPut(t, s, "config", []byte("0123456789"))
	after := time.Now().Add(2 * time.Minute)
	info, err := s.Stat(context.Background(), "config")
	if err != nil {
		t.Fatalf("Stat: %v", err)
	}
	if info.Name != "config" || info.Size != 10 {
		t.Fatalf("Stat = %+v, want name config size 10", info)
	}
	if info.ModTime.Before(before) || info.ModTime.After(after) {
		t.Fatalf("Stat ModTime = %v, want about now", info.ModTime)
	}
	// List reports the same.
	var listed []store.Info
	if err := s.List(context.Background(), "config", func(i store.Info) error {
		listed = append(listed, i)
		return nil
	}); err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(listed) != 1 || listed[0].Name != "config" || listed[0].Size != 10 || listed[0].ModTime.IsZero() {
		t.Fatalf("List(config) = %+v", listed)
	}
}

func testList(t *testing.T, s store.Store) {
	objects := []string{
		"config",
		"data/30/30aa",
		"data/3f/3f01",
		"data/3f/3fab",
		"data/3f0/3f0c", // a folder whose name extends another's
		"data/4a/4a99",
		"index/aa",
		"keys/k1",
		"locks/l",
		"snapshots/2024-01-01",
	}
	for i, name := range objects {
		MustPut(t, s, name, Data(uint64(i), i*3))
	}
	// Leave behind what a failed write leaves, to check it is never listed.
	_ = s.Put(context.Background(), "data/3f/3fff", &failingReader{data: Data(9, 1000), failAfter: 500}, 1000)

	cases := []struct {
		prefix string
		want   []string
	}{
		{"", objects},
		{"data/", objects[1:6]},
		{"data", objects[1:6]},
		{"d", objects[1:6]},
		{"data/3", objects[1:5]},
		{"data/3f", []string{"data/3f/3f01", "data/3f/3fab", "data/3f0/3f0c"}},
		{"data/3f/", []string{"data/3f/3f01", "data/3f/3fab"}},
		{"data/3f/3fa", []string{"data/3f/3fab"}},
		{"data/3f/3fab", []string{"data/3f/3fab"}},
		{"data/3f/3fab/", nil}, // an object is not a folder
		{"data/3f/3fabc", nil},
		{"data/5", nil},
		{"nothing/here/", nil},
		{"c", []string{"config"}},
		{"config", []string{"config"}},
		{"snapshots/2024-", []string{"snapshots/2024-01-01"}},
		{"k", []string{"keys/k1"}},
		{"l", []string{"locks/l"}},
		{".", nil},
		{".tmp-", nil},
		{"data/3f/.tmp-", nil},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("prefix=%q", tc.prefix), func(t *testing.T) {
			got := Names(t, s, tc.prefix)
			want := slices.Clone(tc.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("List(%q) = %q, want %q", tc.prefix, got, want)
			}
		})
	}
	t.Run("sizes", func(t *testing.T) {
		err := s.List(context.Background(), "", func(i store.Info) error {
			k := slices.Index(objects, i.Name)
			if k < 0 || i.Size != int64(k*3) {
				return fmt.Errorf("listed %+v, want size %d", i, k*3)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
	// fn may use the store (no lock held during the callback).
	t.Run("callback-uses-store", func(t *testing.T) {
		err := s.List(context.Background(), "data/", func(i store.Info) error {
			_, err := s.Stat(context.Background(), i.Name)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	})
	t.Run("empty-store-prefix", func(t *testing.T) {
		if got := Names(t, s, "zzz"); len(got) != 0 {
			t.Fatalf("List(zzz) = %q", got)
		}
	})
}

func testListStops(t *testing.T, s store.Store) {
	for i := range 5 {
		MustPut(t, s, fmt.Sprintf("data/%02d", i), []byte{byte(i)})
	}
	stop := errors.New("stop here")
	calls := 0
	err := s.List(context.Background(), "", func(store.Info) error {
		calls++
		return stop
	})
	if !errors.Is(err, stop) {
		t.Fatalf("List returned %v, want the callback's error", err)
	}
	if calls != 1 {
		t.Fatalf("callback called %d times after returning an error, want 1", calls)
	}
	// Errors that mean something to a directory walk are still just errors.
	for _, sentinel := range []error{fs.SkipDir, fs.SkipAll} {
		calls = 0
		err := s.List(context.Background(), "", func(store.Info) error {
			calls++
			return sentinel
		})
		if !errors.Is(err, sentinel) || calls != 1 {
			t.Fatalf("callback returning %v: List = %v after %d calls, want that error after 1", sentinel, err, calls)
		}
	}
}

func testDelete(t *testing.T, s store.Store) {
	MustPut(t, s, "locks/a", []byte("a"))
	MustPut(t, s, "locks/b", []byte("b"))
	if err := s.Delete(context.Background(), "locks/a"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := s.Stat(context.Background(), "locks/a"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Stat after Delete = %v, want ErrNotFound", err)
	}
	if err := s.Delete(context.Background(), "locks/a"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second Delete = %v, want ErrNotFound", err)
	}
	requireClean(t, s, []string{"locks/b"})
	// A name can be used again after deletion.
	MustPut(t, s, "locks/a", []byte("again"))
	if got := string(MustGet(t, s, "locks/a")); got != "again" {
		t.Fatalf("re-put after delete = %q", got)
	}
}

func testNotFound(t *testing.T, s store.Store) {
	MustPut(t, s, "data/3f/3fab", []byte("x"))
	ctx := context.Background()
	missing := []struct {
		why, name string
	}{
		{"never stored", "data/3f/3fac"},
		{"missing folder", "nope/x"},
		{"folder, not object", "data/3f"},
		{"folder, not object (top)", "data"},
		{"below an object", "data/3f/3fab/x"},
	}
	for _, m := range missing {
		t.Run(m.why, func(t *testing.T) {
			if _, err := s.Get(ctx, m.name, 0, -1); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("Get(%q) = %v, want ErrNotFound", m.name, err)
			}
			if _, err := s.Stat(ctx, m.name); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("Stat(%q) = %v, want ErrNotFound", m.name, err)
			}
			if err := s.Delete(ctx, m.name); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("Delete(%q) = %v, want ErrNotFound", m.name, err)
			}
		})
	}
	// Deleting "folders" must not have removed anything.
	requireClean(t, s, []string{"data/3f/3fab"})
}

func testSizeMismatch(t *testing.T, s store.Store) {
	MustPut(t, s, "data/m", []byte("original"))
	for _, size := range []int64{0, 5, 100} {
		err := s.Put(context.Background(), "data/m", bytes.NewReader(Data(5, 50)), size)
		if err == nil {
			t.Fatalf("Put of 50 bytes with size %d succeeded", size)
		}
	}
	if err := s.Put(context.Background(), "data/new", strings.NewReader("abc"), 4); err == nil {
		t.Fatal("Put of 3 bytes with size 4 succeeded")
	}
	if got := string(MustGet(t, s, "data/m")); got != "original" {
		t.Fatalf("object after failed replacements = %q, want original", got)
	}
	requireClean(t, s, []string{"data/m"})
}

// failingReader yields data, then fails after failAfter bytes.
type failingReader struct {
	data      []byte
	failAfter int
	n         int
}

var errReader = errors.New("storetest: reader failed")

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n >= r.failAfter {
		return 0, errReader
	}
	k := copy(p[:min(len(p), r.failAfter-r.n)], r.data[r.n:])
	r.n += k
	return k, nil
}

func testFailingReader(t *testing.T, s store.Store) {
	MustPut(t, s, "data/aa/old", []byte("previous"))
	big := Data(6, 3<<20)
	cases := []struct {
		name, object string
		size         int64
		failAfter    int
	}{
		{"new-object", "data/aa/new", int64(len(big)), 1 << 20},
		{"new-object-new-folder", "data/bb/new", -1, 100},
		{"fail-immediately", "data/aa/new2", int64(len(big)), 0},
		{"replacing", "data/aa/old", int64(len(big)), 2 << 20},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := s.Put(context.Background(), tc.object, &failingReader{data: big, failAfter: tc.failAfter}, tc.size)
			if !errors.Is(err, errReader) {
				t.Fatalf("Put = %v, want the reader's error wrapped", err)
			}
		})
	}
	if got := string(MustGet(t, s, "data/aa/old")); got != "previous" {
		t.Fatalf("object after a failed replacement = %.20q, want previous", got)
	}
	if _, err := s.Stat(context.Background(), "data/aa/new"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Stat of failed Put = %v, want ErrNotFound", err)
	}
	requireClean(t, s, []string{"data/aa/old"})
}

func testCopiesBuffers(t *testing.T, s store.Store) {
	buf := []byte("original bytes")
	MustPut(t, s, "b", buf)
	copy(buf, "XXXXXXXX")
	if got := string(MustGet(t, s, "b")); got != "original bytes" {
		t.Fatalf("stored object changed with the caller's buffer: %q", got)
	}
	out := MustGet(t, s, "b")
	copy(out, "YYYYYYYY")
	if got := string(MustGet(t, s, "b")); got != "original bytes" {
		t.Fatalf("stored object changed with a read buffer: %q", got)
	}
}

func testConcurrent(t *testing.T, s store.Store) {
	const workers, each = 8, 12
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				// Shared folders, so concurrent Puts race to create them.
				name := fmt.Sprintf("data/%02x/obj-%d-%d", i%3, w, i)
				data := Data(uint64(w*1000+i), 1000+w*i*97)
				if err := s.Put(context.Background(), name, bytes.NewReader(data), int64(len(data))); err != nil {
					errs <- err
					return
				}
				got, err := ReadAll(context.Background(), s, name, 0, -1)
				if err != nil {
					errs <- err
					return
				}
				if !bytes.Equal(got, data) {
					errs <- fmt.Errorf("%s: read back differs", name)
					return
				}
				// Listing while others write must not fail or show temp files.
				if err := s.List(context.Background(), "data/", func(info store.Info) error {
					return store.ValidateName(info.Name)
				}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := len(Names(t, s, "data/")); got != workers*each {
		t.Fatalf("listed %d objects, want %d", got, workers*each)
	}
}

// cancelingReader cancels its context on its second read, then keeps
// producing data: only the context can stop the Put. It gives up with an
// error after 32 MiB, so a store that ignores the context fails the test
// instead of filling the disk.
type cancelingReader struct {
	cancel context.CancelFunc
	reads  int
	n      int
}

var errIgnoredCancel = errors.New("storetest: Put kept reading after its context was canceled")

func (r *cancelingReader) Read(p []byte) (int, error) {
	r.reads++
	if r.reads == 2 {
		r.cancel()
	}
	if r.n >= 32<<20 {
		return 0, errIgnoredCancel
	}
	for i := range p {
		p[i] = byte(i)
	}
	r.n += len(p)
	return len(p), nil
}

func testContextCanceled(t *testing.T, s store.Store) {
	MustPut(t, s, "data/keep", []byte("keep"))

	t.Run("before-put", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := s.Put(ctx, "data/c1", strings.NewReader("never"), 5)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Put with a canceled context = %v, want context.Canceled", err)
		}
	})
	t.Run("during-put", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		done := make(chan error, 1)
		go func() { done <- s.Put(ctx, "data/c2", &cancelingReader{cancel: cancel}, -1) }()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("Put canceled midway = %v, want context.Canceled", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("Put did not stop after its context was canceled")
		}
	})
	t.Run("replacing", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		err := s.Put(ctx, "data/keep", &cancelingReader{cancel: cancel}, -1)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Put canceled midway = %v, want context.Canceled", err)
		}
	})
	t.Run("other-methods", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := s.Get(ctx, "data/keep", 0, -1); !errors.Is(err, context.Canceled) {
			t.Errorf("Get = %v, want context.Canceled", err)
		}
		if _, err := s.Stat(ctx, "data/keep"); !errors.Is(err, context.Canceled) {
			t.Errorf("Stat = %v, want context.Canceled", err)
		}
		if err := s.List(ctx, "", func(store.Info) error { return nil }); !errors.Is(err, context.Canceled) {
			t.Errorf("List = %v, want context.Canceled", err)
		}
		if err := s.Delete(ctx, "data/keep"); !errors.Is(err, context.Canceled) {
			t.Errorf("Delete = %v, want context.Canceled", err)
		}
	})
	if got := string(MustGet(t, s, "data/keep")); got != "keep" {
		t.Fatalf("object after canceled replacement = %.20q, want keep", got)
	}
	requireClean(t, s, []string{"data/keep"})
}

// HostileName is a name every Store must reject, and why.
type HostileName struct{ Name, Why string }

// HostileNames returns names every Store must reject: each would escape the
// store's folder, alias another name, or be unusable on some OS.
func HostileNames() []HostileName {
	return []HostileName{
		{"", "empty"},
		{"/etc/passwd", "absolute"},
		{"/", "root"},
		{"..", "parent"},
		{"../escape", "parent prefix"},
		{"data/../../escape", "parent in the middle"},
		{"data/..", "parent at the end"},
		{".", "current folder"},
		{"./data", "current folder prefix"},
		{"data/./x", "current folder in the middle"},
		{"data//x", "empty component"},
		{"data/", "trailing slash"},
		{`data\x`, "backslash"},
		{`..\..\escape`, "backslash parent"},
		{`\\server\share\x`, "UNC path"},
		{"C:/Windows/x", "drive letter"},
		{"C:x", "drive-relative"},
		{"c:", "bare drive"},
		{"data/x:stream", "NTFS stream"},
		{"data/x\x00y", "NUL"},
		{"data/x\ny", "newline"},
		{".tmp-123", "temp prefix"},
		{"data/.tmp-abc", "temp prefix below a folder"},
		{"data/CON", "Windows device"},
		{"nul.txt", "Windows device with extension"},
		{"data/com1", "Windows serial port"},
		{"data/x.", "trailing dot"},
		{"data/x ", "trailing space"},
		{"data/x*", "wildcard"},
		{"data/x?", "wildcard"},
		{"a|b", "pipe"},
		{"bad\xffutf8", "invalid UTF-8"},
	}
}

func testHostileNames(t *testing.T, s store.Store) {
	ctx := context.Background()
	MustPut(t, s, "data/x", []byte("x"))
	for _, h := range HostileNames() {
		t.Run(h.Why, func(t *testing.T) {
			if err := s.Put(ctx, h.Name, strings.NewReader("evil"), 4); !errors.Is(err, store.ErrInvalidName) {
				t.Errorf("Put(%q) = %v, want ErrInvalidName", h.Name, err)
			}
			if _, err := s.Get(ctx, h.Name, 0, -1); !errors.Is(err, store.ErrInvalidName) {
				t.Errorf("Get(%q) = %v, want ErrInvalidName", h.Name, err)
			}
			if _, err := s.Stat(ctx, h.Name); !errors.Is(err, store.ErrInvalidName) {
				t.Errorf("Stat(%q) = %v, want ErrInvalidName", h.Name, err)
			}
			if err := s.Delete(ctx, h.Name); !errors.Is(err, store.ErrInvalidName) {
				t.Errorf("Delete(%q) = %v, want ErrInvalidName", h.Name, err)
			}
		})
	}
	requireClean(t, s, []string{"data/x"})

	// Names that look odd but are fine must work.
	for _, ok := range []string{"data/x.y", ".hidden", "a/..b", "data/ünïcødé", "CONFIG", "console", "com", "x y"} {
		MustPut(t, s, ok, []byte(ok))
		if got := string(MustGet(t, s, ok)); got != ok {
			t.Errorf("Get(%q) = %q", ok, got)
		}
	}
}

func testHostilePrefixes(t *testing.T, s store.Store) {
	MustPut(t, s, "data/x", []byte("x"))
	for _, p := range []string{"/", "/etc", "../", "../x", "data/../", "data/../..", "./", `data\`, "C:", "data//", "x\x00"} {
		err := s.List(context.Background(), p, func(i store.Info) error {
			return fmt.Errorf("listed %q for hostile prefix", i.Name)
		})
		if !errors.Is(err, store.ErrInvalidName) {
			t.Errorf("List(%q) = %v, want ErrInvalidName", p, err)
		}
	}
}
