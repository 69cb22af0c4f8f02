package graph

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
)

func itemByName(items []DriveItem, name string) (DriveItem, bool) {
	for _, it := range items {
		if it.Name == name {
			return it, true
		}
	}
	return DriveItem{}, false
}

func TestDriveDelta(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{})
	tn := srv.Tenant()
	c, _, _ := newClient(t, srv, simtest.Alice, func(o *Options) { o.DrivePageSize = 3 })
	ctx := ctxT(t)

	d, err := c.GetDrive(ctx, "me")
	if err != nil {
		t.Fatal(err)
	}
	if d.ID == "" || d.DriveType != "business" || d.QuotaTotal == 0 {
		t.Fatalf("GetDrive = %+v", d)
	}
	items, link := collectDrive(t, c, d.ID, "")
	want, _ := tn.DriveItems(simtest.Alice)
	if len(items) != len(want)+1 { // + root
		t.Errorf("enumerated %d items, want %d + root", len(items), len(want))
	}
	root := items[0]
	if !root.IsRoot || !root.IsFolder {
		t.Errorf("first item %+v is not the root", root)
	}
	for _, w := range want {
		it, ok := itemByName(items, w.Name)
		if !ok {
			t.Errorf("item %q missing", w.Name)
			continue
		}
		if it.ID != w.ID || it.ParentID != w.ParentID || it.IsFolder != w.Folder || it.Deleted ||
			!it.FSModified.Equal(w.FSModified.Truncate(time.Second)) || it.ETag != w.ETag {
			t.Errorf("item %q: got %+v, tenant %+v", w.Name, it, w)
		}
		if !w.Folder {
			if it.Size != w.Content.Size() || it.QuickXorHash != w.QuickXor || it.DownloadURL == "" || it.MimeType == "" {
				t.Errorf("file %q: got %+v", w.Name, it)
			}
		}
	}

	// Changes: add, delete, move+rename, edit.
	mod := time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)
	added, err := tn.PutFile(simtest.Alice, "Documents/new.txt", m365sim.BytesContent("new\n"), mod)
	if err != nil {
		t.Fatal(err)
	}
	todo, _ := tn.DriveItemByPath(simtest.Alice, "Documents/Notes/todo.txt")
	if err := tn.DeleteDriveItem(simtest.Alice, todo.ID); err != nil {
		t.Fatal(err)
	}
	budget, _ := tn.DriveItemByPath(simtest.Alice, "Documents/budget.xlsx")
	if _, err := tn.MoveDriveItem(simtest.Alice, budget.ID, "Photos", "budget-2026.xlsx"); err != nil {
		t.Fatal(err)
	}
	photos, _ := tn.DriveItemByPath(simtest.Alice, "Photos")
	edited, err := tn.PutFile(simtest.Alice, "empty.txt", m365sim.BytesContent("not empty any more"), mod)
	if err != nil {
		t.Fatal(err)
	}
	changes, link2 := collectDrive(t, c, d.ID, link)
	byID := map[string]DriveItem{}
	for _, it := range changes {
		byID[it.ID] = it
	}
	if it := byID[added.ID]; it.Name != "new.txt" || it.Size != 4 || it.Deleted {
		t.Errorf("added: %+v", it)
	}
	if it := byID[todo.ID]; !it.Deleted {
		t.Errorf("deleted: %+v", it)
	}
	if it := byID[budget.ID]; it.ParentID != photos.ID || it.Name != "budget-2026.xlsx" || it.Deleted {
		t.Errorf("moved: %+v", it)
	}
	if it := byID[edited.ID]; it.Size != 18 || it.QuickXorHash != edited.QuickXor {
		t.Errorf("edited: %+v", it)
	}
	if again, _ := collectDrive(t, c, d.ID, link2); len(again) != 0 {
		t.Errorf("no-change delta returned %d items", len(again))
	}

	// An expired token is a 410 with a fresh enumeration link.
	tn.ExpireDeltaTokens()
	_, err = c.DriveDelta(ctx, d.ID, link2, func([]DriveItem) error { t.Error("page after 410"); return nil })
	var ge *Error
	if !errors.Is(err, ErrGone) || !errors.As(err, &ge) || ge.Location == "" || ge.Status != 410 || ge.Attempts != 1 {
		t.Fatalf("after ExpireDeltaTokens: err = %v (%+v), want ErrGone with a Location", err, ge)
	}
	resync, _ := collectDrive(t, c, d.ID, ge.Location)
	now, _ := tn.DriveItems(simtest.Alice)
	if len(resync) != len(now)+1 {
		t.Errorf("resync: %d items, want %d + root", len(resync), len(now))
	}

	// A fresh item URL from GetDriveItem.
	it, err := c.GetDriveItem(ctx, d.ID, added.ID)
	if err != nil || it.DownloadURL == "" || it.Name != "new.txt" {
		t.Errorf("GetDriveItem = %+v, %v", it, err)
	}
}

func TestNoChangeIncrementalCost(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{})
	c, _, _ := newClient(t, srv, simtest.Alice, nil)
	ctx := ctxT(t)
	folders, err := c.ListMailFolders(ctx, "me")
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.GetDrive(ctx, "me")
	if err != nil {
		t.Fatal(err)
	}
	links := map[string]string{}
	for _, f := range folders {
		_, links[f.ID] = collectMessages(t, c, "me", f.ID, "")
	}
	_, driveLink := collectDrive(t, c, d.ID, "")

	srv.Requests().Reset()
	for _, f := range folders {
		got, _ := collectMessages(t, c, "me", f.ID, links[f.ID])
		if len(got) != 0 {
			t.Errorf("folder %s: %d changes", f.DisplayName, len(got))
		}
	}
	if got, _ := collectDrive(t, c, d.ID, driveLink); len(got) != 0 {
		t.Errorf("drive: %d changes", len(got))
	}
	if n, want := srv.Requests().Total(), len(folders)+1; n != want {
		t.Errorf("no-change incremental made %d requests, want %d (one per folder and drive): %v", n, want, srv.Requests().Summary())
	}
	// Listing the folders again costs one request plus one per folder with
	// children.
	srv.Requests().Reset()
	if _, err := c.ListMailFolders(ctx, "me"); err != nil {
		t.Fatal(err)
	}
	if n := srv.Requests().Total(); n != 3 {
		t.Errorf("ListMailFolders made %d requests, want 3: %v", n, srv.Requests().Summary())
	}
}

func TestOpenDownload(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{})
	c, rec, _ := newClient(t, srv, simtest.Alice, nil)
	ctx := ctxT(t)
	d, err := c.GetDrive(ctx, "me")
	if err != nil {
		t.Fatal(err)
	}
	items, _ := collectDrive(t, c, d.ID, "")
	for _, name := range []string{"budget.xlsx", "Ünïcödé – café.jpg", "empty.txt", "todo.txt"} {
		it, ok := itemByName(items, name)
		if !ok {
			t.Fatalf("no %s", name)
		}
		ti, _ := srv.Tenant().DriveItems(simtest.Alice)
		var content []byte
		for _, x := range ti {
			if x.ID == it.ID {
				b, _ := io.ReadAll(x.Content.Open())
				content = b
			}
		}
		for _, off := range []int64{0, 1, int64(len(content)) / 3, int64(len(content))} {
			if off > int64(len(content)) || (off > 0 && len(content) == 0) {
				continue
			}
			rc, err := c.OpenDownload(ctx, it.DownloadURL, off)
			if err != nil {
				t.Fatalf("%s at %d: %v", name, off, err)
			}
			b, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				t.Fatalf("%s at %d: %v", name, off, err)
			}
			if !bytes.Equal(b, content[off:]) {
				t.Errorf("%s at %d: %d bytes differ from the tenant's %d", name, off, len(b), len(content[off:]))
			}
			if s := rc.(*Stream).Size(); s != int64(len(content)) {
				t.Errorf("%s at %d: Size %d, want %d", name, off, s, len(content))
			}
		}
	}
	if rec.auth["download"] != 0 || rec.all["download"] == 0 {
		t.Errorf("download requests with Authorization: %d of %d", rec.auth["download"], rec.all["download"])
	}
}

// trackedContent is file content that records how far the simulator has
// read the most recently opened copy of it.
type trackedContent struct {
	data []byte
	pos  *atomic.Int64
}

func (c trackedContent) Size() int64 { return int64(len(c.data)) }

func (c trackedContent) Open() io.ReadSeeker {
	c.pos.Store(0)
	return &trackedReader{Reader: bytes.NewReader(c.data), pos: c.pos}
}

type trackedReader struct {
	*bytes.Reader
	pos *atomic.Int64
}

func (r *trackedReader) Read(p []byte) (int, error) {
	n, err := r.Reader.Read(p)
	r.pos.Store(int64(len(p)) + r.pos.Load()) // an upper bound is enough
	return n, err
}

func TestLargeDownloadStreams(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{})
	const size = 24 << 20
	content := trackedContent{data: pattern(size, 7), pos: new(atomic.Int64)}
	it, err := srv.Tenant().PutFile(simtest.Alice, "Video/big.mp4", content, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	c, _, _ := newClient(t, srv, simtest.Alice, nil)
	ctx := ctxT(t)
	d, _ := c.GetDrive(ctx, "me")
	full, err := c.GetDriveItem(ctx, d.ID, it.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256(content.data)

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	rc, err := c.OpenDownload(ctx, full.DownloadURL, 0)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	if _, err := io.CopyN(h, rc, 1<<20); err != nil {
		t.Fatal(err)
	}
	// With the first MiB read, the simulator has sent little more than
	// HTTP/2's flow-control window ahead: the body is not being buffered.
	time.Sleep(50 * time.Millisecond)
	served := content.pos.Load()
	t.Logf("after reading 1 MiB the server had served %.1f MiB", float64(served)/(1<<20))
	if served > 12<<20 {
		t.Errorf("after reading 1 MiB the server had served %d MiB", served>>20)
	}
	n, err := io.CopyBuffer(h, rc, make([]byte, 64<<10))
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if n+1<<20 != size || !bytes.Equal(h.Sum(nil), want[:]) {
		t.Fatalf("streamed %d bytes, hash match %v", n+1<<20, bytes.Equal(h.Sum(nil), want[:]))
	}
	// Client and server share this process, so allocations include the
	// simulator's (and the race detector's); buffering the body would
	// allocate at least its size.
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("streaming %d MiB allocated %.1f MiB", size>>20, float64(alloc)/(1<<20))
	if alloc > size {
		t.Errorf("streaming %d MiB allocated %d MiB", size>>20, alloc>>20)
	}
}
