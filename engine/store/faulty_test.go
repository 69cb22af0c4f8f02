package store_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/lifeboat-backup/lifeboat/engine/store"
	"github.com/lifeboat-backup/lifeboat/engine/store/storetest"
)

func TestFaultyNoFaults(t *testing.T) {
	t.Run("Memory", func(t *testing.T) {
		storetest.Run(t, func(*testing.T) store.Store { return store.NewFaulty(store.NewMemory()) })
	})
	t.Run("Local", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) store.Store { return store.NewFaulty(newLocal(t)) })
	})
}

// forEachInner runs a fault test over both real implementations; for Local,
// newLocal also checks that no temp file survives the injected failures.
func forEachInner(t *testing.T, fn func(t *testing.T, f *store.Faulty)) {
	inners := []struct {
		name string
		new  func(t *testing.T) store.Store
	}{
		{"Memory", func(*testing.T) store.Store { return store.NewMemory() }},
		{"Local", func(t *testing.T) store.Store { return newLocal(t) }},
	}
	for _, in := range inners {
		t.Run(in.name, func(t *testing.T) { fn(t, store.NewFaulty(in.new(t))) })
	}
}

// countingReader records how much of it was consumed.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func put(f store.Store, name string, data []byte, size int64) error {
	return f.Put(context.Background(), name, bytes.NewReader(data), size)
}

func TestFaultyFailPutAfter(t *testing.T) {
	errBoom := errors.New("boom: I/O error")
	forEachInner(t, func(t *testing.T, f *store.Faulty) {
		storetest.MustPut(t, f, "data/old", []byte("old"))
		f.FailPutAfter(3, errBoom)
		data := storetest.Data(1, 100_000)
		for i, name := range []string{"data/1", "data/2"} {
			if err := put(f, name, data, int64(len(data))); err != nil {
				t.Fatalf("Put %d before the fault: %v", i+1, err)
			}
		}
		cases := []struct {
			name string
			data []byte
			size int64
		}{
			{"data/3", data, int64(len(data))}, // the 3rd Put fails...
			{"data/4", data, -1},               // ...and so does every later one
			{"data/old", []byte("new"), 3},     // replacing keeps the old object
			{"data/empty", nil, 0},
		}
		for _, tc := range cases {
			cr := &countingReader{r: bytes.NewReader(tc.data)}
			err := f.Put(context.Background(), tc.name, cr, tc.size)
			if !errors.Is(err, errBoom) {
				t.Fatalf("Put(%s) = %v, want the injected error", tc.name, err)
			}
			if len(tc.data) > 10 && (cr.n == 0 || cr.n >= len(tc.data)) {
				t.Errorf("Put(%s) consumed %d of %d bytes, want part of the data", tc.name, cr.n, len(tc.data))
			}
		}
		if got := storetest.Names(t, f, ""); !slices.Equal(got, []string{"data/1", "data/2", "data/old"}) {
			t.Fatalf("objects = %q", got)
		}
		if got := string(storetest.MustGet(t, f, "data/old")); got != "old" {
			t.Fatalf("replaced object = %q, want old", got)
		}
		f.Reset()
		storetest.MustPut(t, f, "data/3", data)
	})
	t.Run("nil-error", func(t *testing.T) {
		f := store.NewFaulty(store.NewMemory())
		f.FailPutAfter(0, nil)
		if err := put(f, "x", []byte("x"), 1); !errors.Is(err, store.ErrInjected) {
			t.Fatalf("Put = %v, want ErrInjected", err)
		}
	})
}

func TestFaultyFailRenameAndSync(t *testing.T) {
	knobs := []struct {
		name string
		set  func(*store.Faulty)
		word string
	}{
		{"rename", (*store.Faulty).FailRename, "rename"},
		{"sync", (*store.Faulty).FailSync, "fsync"},
	}
	for _, k := range knobs {
		t.Run(k.name, func(t *testing.T) {
			forEachInner(t, func(t *testing.T, f *store.Faulty) {
				storetest.MustPut(t, f, "locks/l", []byte("held"))
				k.set(f)
				data := storetest.Data(2, 300_000)
				for _, name := range []string{"data/new", "locks/l"} {
					for _, size := range []int64{int64(len(data)), -1} {
						cr := &countingReader{r: bytes.NewReader(data)}
						err := f.Put(context.Background(), name, cr, size)
						if !errors.Is(err, store.ErrInjected) || !strings.Contains(err.Error(), k.word) {
							t.Fatalf("Put(%s) = %v, want an injected %s failure", name, err, k.word)
						}
						if cr.n != len(data) {
							t.Errorf("Put consumed %d of %d bytes; a %s failure comes after all data is written", cr.n, len(data), k.word)
						}
					}
				}
				if got := storetest.Names(t, f, ""); !slices.Equal(got, []string{"locks/l"}) {
					t.Fatalf("objects = %q, want only locks/l", got)
				}
				if got := string(storetest.MustGet(t, f, "locks/l")); got != "held" {
					t.Fatalf("replaced object = %q, want held", got)
				}
				f.Reset()
				storetest.MustPut(t, f, "data/new", data)
			})
		})
	}
}

func TestFaultyShortReads(t *testing.T) {
	f := store.NewFaulty(store.NewMemory())
	data := storetest.Data(3, 10_000)
	storetest.MustPut(t, f, "data/x", data)
	f.ShortReads(true)

	rc, err := f.Get(context.Background(), "data/x", 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	buf := make([]byte, 1000)
	var got []byte
	short := 0
	for {
		n, err := rc.Read(buf)
		if n > 0 && n < len(buf) && len(got)+n < len(data) {
			short++
		}
		got = append(got, buf[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(got, data) {
		t.Fatal("short reads changed the data")
	}
	if short < 5 {
		t.Fatalf("only %d short reads; ShortReads had no effect", short)
	}
	// Ranges stay correct with short reads.
	if b, err := storetest.ReadAll(context.Background(), f, "data/x", 100, 50); err != nil || !bytes.Equal(b, data[100:150]) {
		t.Fatalf("range read with short reads = %d bytes, %v", len(b), err)
	}
	f.ShortReads(false)
	rc2, _ := f.Get(context.Background(), "data/x", 0, -1)
	defer rc2.Close()
	if n, _ := io.ReadFull(rc2, buf); n != len(buf) {
		t.Fatalf("after ShortReads(false) ReadFull got %d", n)
	}
}

func TestFaultyFlipBit(t *testing.T) {
	forEachInner(t, func(t *testing.T, f *store.Faulty) {
		data := storetest.Data(4, 5000)
		storetest.MustPut(t, f, "data/p", data)
		storetest.MustPut(t, f, "data/q", data)
		f.FlipBit("data/p", 1234)

		got := storetest.MustGet(t, f, "data/p")
		var diff []int
		for i := range got {
			if got[i] != data[i] {
				diff = append(diff, i)
			}
		}
		if !slices.Equal(diff, []int{1234}) || got[1234]^data[1234] != 1 {
			t.Fatalf("differences at %v, want only the lowest bit of byte 1234", diff)
		}
		// Range reads see the flip at the right place, or not at all.
		if b, _ := storetest.ReadAll(context.Background(), f, "data/p", 1230, 10); b[4]^data[1234] != 1 || !bytes.Equal(b[:4], data[1230:1234]) {
			t.Fatal("range read covering the flipped byte is wrong")
		}
		if b, _ := storetest.ReadAll(context.Background(), f, "data/p", 2000, 100); !bytes.Equal(b, data[2000:2100]) {
			t.Fatal("range read away from the flipped byte is corrupted")
		}
		// Other objects, and what is stored, are untouched.
		if !bytes.Equal(storetest.MustGet(t, f, "data/q"), data) {
			t.Fatal("FlipBit corrupted another object")
		}
		f.FlipBit("data/p", 1234)
		if !bytes.Equal(storetest.MustGet(t, f, "data/p"), data) {
			t.Fatal("flipping the same bit twice did not cancel out")
		}
		f.FlipBit("data/p", 0)
		f.ShortReads(true) // flips must land right with short reads too
		if got := storetest.MustGet(t, f, "data/p"); got[0]^data[0] != 1 || !bytes.Equal(got[1:], data[1:]) {
			t.Fatal("flip at offset 0 with short reads is wrong")
		}
		f.Reset()
		if !bytes.Equal(storetest.MustGet(t, f, "data/p"), data) {
			t.Fatal("stored object was changed by FlipBit")
		}
	})
}

func TestFaultyDiskFull(t *testing.T) {
	forEachInner(t, func(t *testing.T, f *store.Faulty) {
		f.DiskFull(1000)
		storetest.MustPut(t, f, "data/a", make([]byte, 600))
		for _, size := range []int64{500, -1} {
			err := put(f, "data/b", make([]byte, 500), size)
			if !errors.Is(err, store.ErrDiskFull) || !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("Put over the limit (size %d) = %v, want ErrDiskFull and ENOSPC", size, err)
			}
		}
		if _, err := f.Stat(context.Background(), "data/b"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("failed Put left an object: %v", err)
		}
		// Up to the limit exactly is fine, and a replaced object's old size
		// is freed.
		storetest.MustPut(t, f, "data/b", make([]byte, 400))
		storetest.MustPut(t, f, "data/a", make([]byte, 550))
		if err := put(f, "data/c", make([]byte, 51), 51); !errors.Is(err, store.ErrDiskFull) {
			t.Fatalf("Put of 51 bytes with 50 free = %v, want ErrDiskFull", err)
		}
		if got := storetest.Names(t, f, ""); !slices.Equal(got, []string{"data/a", "data/b"}) {
			t.Fatalf("objects = %q", got)
		}
		f.DiskFull(-1)
		storetest.MustPut(t, f, "data/c", make([]byte, 5000))
	})
}

func TestFaultyFailGet(t *testing.T) {
	errGone := errors.New("drive unplugged")
	f := store.NewFaulty(store.NewMemory())
	storetest.MustPut(t, f, "data/a", []byte("a"))
	storetest.MustPut(t, f, "data/b", []byte("b"))
	f.FailGet("data/a", errGone)
	if _, err := f.Get(context.Background(), "data/a", 0, -1); !errors.Is(err, errGone) {
		t.Fatalf("Get(data/a) = %v, want the injected error", err)
	}
	if got := string(storetest.MustGet(t, f, "data/b")); got != "b" {
		t.Fatalf("Get(data/b) = %q", got)
	}
	f.FailGet("", nil)
	if _, err := f.Get(context.Background(), "data/b", 0, -1); !errors.Is(err, store.ErrInjected) {
		t.Fatalf("Get with every Get failing = %v, want ErrInjected", err)
	}
	if _, err := f.Get(context.Background(), "data/a", 0, -1); !errors.Is(err, errGone) {
		t.Fatalf("a name's own error should win over the catch-all: %v", err)
	}
	f.Reset()
	if got := string(storetest.MustGet(t, f, "data/a")); got != "a" {
		t.Fatalf("after Reset Get(data/a) = %q", got)
	}
}

func TestFaultyCounts(t *testing.T) {
	f := store.NewFaulty(store.NewMemory())
	ctx := context.Background()
	storetest.MustPut(t, f, "a", []byte("a"))
	storetest.MustPut(t, f, "b", []byte("b"))
	f.FailPutAfter(1, nil)
	_ = put(f, "c", []byte("c"), 1) // failed calls count too
	storetest.MustGet(t, f, "a")
	_, _ = f.Stat(ctx, "a")
	_, _ = f.Stat(ctx, "missing")
	_, _ = f.Stat(ctx, "b")
	_ = f.List(ctx, "", func(store.Info) error { return nil })
	_ = f.Delete(ctx, "b")
	want := store.OpCounts{Put: 3, Get: 1, Stat: 3, List: 1, Delete: 1}
	if got := f.Counts(); got != want {
		t.Fatalf("Counts = %+v, want %+v", got, want)
	}
}
