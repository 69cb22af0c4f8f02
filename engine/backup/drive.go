package backup

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"

	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/graph"
	"github.com/lifeboat-backup/lifeboat/engine/quickxor"
	"github.com/lifeboat-backup/lifeboat/engine/repo"
)

// downloadAttempts is how often a file whose bytes do not match its hash
// is downloaded before it is skipped.
const downloadAttempts = 2

// driveRun is the OneDrive phase. The drive's items are all in memory
// (folders are needed for paths anyway).
type driveRun struct {
	ru       *run
	s        *stream
	driveID  string
	files    map[string]*File
	prevPath map[string]string   // file id → path in the previous snapshot
	byHash   map[string]*File    // content hash → a file of the previous snapshot
	removed  map[string]int64    // ids gone, with size
	done     map[string]string   // file id → path it was upserted with in this run
	seen     map[string]struct{} // for full enumerations
	skipped  bool
	rootID   string
}

func hashKey(f *File) string {
	switch {
	case f.QuickXorHash != "":
		return "q:" + f.QuickXorHash + ":" + fmt.Sprint(f.Size)
	case f.SHA256 != "":
		return "s256:" + strings.ToLower(f.SHA256)
	case f.SHA1 != "":
		return "s1:" + strings.ToLower(f.SHA1)
	}
	return ""
}

func (ru *run) backupDrive(ctx context.Context) error {
	prev := ru.previous(KindOneDrive)
	s, err := ru.openStream(ctx, catalog.SnapshotOneDrive, prev)
	if err != nil {
		return err
	}
	defer s.close()
	dr := &driveRun{ru: ru, s: s, files: map[string]*File{}, prevPath: map[string]string{}, byHash: map[string]*File{},
		removed: map[string]int64{}, done: map[string]string{}}
	ru.prog.update(true, func(p *Progress) { p.Phase = ru.phase(PhaseOneDrive); p.Current = "" })

	link := ""
	var de driveEntry
	if prev != nil && !prev.Root.IsZero() {
		rt, err := loadRoot(ctx, ru.r, prev.Root)
		if err != nil {
			return repoError{err}
		}
		if rt.Drive != nil {
			de = *rt.Drive
			for _, pid := range de.Pages {
				p, err := loadPage(ctx, ru.r, pid)
				if err != nil {
					return repoError{err}
				}
				for i := range p.Files {
					f := p.Files[i]
					dr.files[f.ID] = &f
					if f.Root {
						dr.rootID = f.ID
					}
					if f.Content != nil {
						if k := hashKey(&f); k != "" {
							dr.byHash[k] = &f
						}
					}
				}
			}
			for id, f := range dr.files {
				if !f.Folder {
					dr.prevPath[id] = dr.path(f)
				}
			}
		}
		link = prev.State[stateDriveDelta]
		dr.driveID = prev.State[stateDriveID]
	}
	if dr.driveID == "" || link == "" {
		d, err := ru.findDrive(ctx)
		if errors.Is(err, graph.ErrForbidden) && ctx.Err() == nil {
			ru.notAllowed("read the OneDrive", err)
			return nil
		}
		if err != nil {
			if fatal(ctx, err) || !errors.Is(err, graph.ErrNotFound) {
				return fmt.Errorf("backup: finding the OneDrive: %w", err)
			}
			ru.warn("this account has no OneDrive")
			return nil
		}
		dr.driveID = d.ID
		de.ID, de.Type, de.Name = d.ID, d.DriveType, d.Name
		ru.prog.update(false, func(p *Progress) { p.BytesTotal += d.QuotaUsed })
	}

	full := link == ""
	if full {
		dr.seen = map[string]struct{}{}
	}
	fn := func(page []graph.DriveItem) error { return dr.page(ctx, page) }
	newLink, err := ru.g.DriveDelta(ctx, dr.driveID, link, fn)
	if errors.Is(err, graph.ErrGone) && !full {
		ru.log.Info("OneDrive changes expired; listing the whole drive again (stored content is reused)")
		var ge *graph.Error
		again := ""
		if errors.As(err, &ge) {
			again = ge.Location
		}
		full, dr.seen = true, map[string]struct{}{}
		newLink, err = ru.g.DriveDelta(ctx, dr.driveID, again, fn)
		if errors.Is(err, graph.ErrGone) && again != "" {
			newLink, err = ru.g.DriveDelta(ctx, dr.driveID, "", fn)
		}
	}
	if errors.Is(err, graph.ErrForbidden) && ctx.Err() == nil {
		ru.notAllowed("read the OneDrive", err)
		return nil
	}
	if err != nil {
		if fatal(ctx, err) {
			return fmt.Errorf("backup: OneDrive: %w", err)
		}
		ru.warn("the OneDrive was not completely backed up: %v", err)
		dr.skipped = true
		full = false
	}
	if full {
		for id, f := range dr.files {
			if _, ok := dr.seen[id]; !ok && !f.Root {
				dr.drop(id)
			}
		}
	}
	// Paths may have changed (folder renames and moves): record the new
	// ones, then the deletions.
	for id, f := range dr.files {
		if f.Folder {
			continue
		}
		p := dr.path(f)
		old, ok := dr.done[id]
		if !ok {
			old = dr.prevPath[id]
		}
		if p != old {
			if err := dr.upsert(f); err != nil {
				return err
			}
		}
	}
	for id, size := range dr.removed {
		if err := s.delete(id, size); err != nil {
			return err
		}
	}

	if err := ctx.Err(); err != nil {
		return err // see stream.save
	}
	pages, err := saveFiles(context.WithoutCancel(ctx), ru.r, dr.files)
	if err != nil {
		return repoError{err}
	}
	de.Pages, de.Count = pages, len(dr.files)
	if de.ID == "" {
		de.ID = dr.driveID
	}
	state := map[string]string{stateDriveID: dr.driveID, stateDriveDelta: newLink}
	if dr.skipped {
		// The skipped items come again with the old link.
		state[stateDriveDelta] = link
	}
	rt := &root{Format: rootFormat, Kind: KindOneDrive, Account: ru.o.Account.UPN, Drive: &de}
	_, err = s.save(ctx, rt, state)
	return err
}

// drop removes an item and, for a folder, everything below it.
func (dr *driveRun) drop(id string) {
	f, ok := dr.files[id]
	if !ok {
		return
	}
	delete(dr.files, id)
	if !f.Folder {
		dr.removed[id] = f.Size
		return
	}
	for cid, c := range dr.files {
		if c.ParentID == id {
			dr.drop(cid)
		}
	}
}

// path is a file's path below the drive root, "/"-separated.
func (dr *driveRun) path(f *File) string {
	var parts []string
	for i, cur := 0, f; cur != nil && !cur.Root && i < 256; i++ {
		parts = append(parts, cur.Name)
		cur = dr.files[cur.ParentID]
	}
	for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
		parts[i], parts[j] = parts[j], parts[i]
	}
	return strings.Join(parts, "/")
}

type driveJob struct {
	it  graph.DriveItem
	f   *File
	get bool
	res fetched
}

// page applies one page of the drive delta.
func (dr *driveRun) page(ctx context.Context, page []graph.DriveItem) error {
	ru := dr.ru
	var jobs []*driveJob
	for _, it := range page {
		if dr.seen != nil {
			dr.seen[it.ID] = struct{}{}
		}
		if it.Deleted {
			dr.drop(it.ID)
			continue
		}
		f := fileFrom(it)
		if it.IsRoot {
			dr.rootID = it.ID
		}
		if f.Folder {
			dr.files[f.ID] = f
			continue
		}
		j := &driveJob{it: it, f: f}
		if ref, ok := dr.known(ctx, f); ok {
			f.Content = &ref
		} else {
			j.get = true
		}
		jobs = append(jobs, j)
	}
	ru.prog.update(false, func(p *Progress) {
		if p.ItemsTotal < p.ItemsDone+int64(len(jobs)) {
			p.ItemsTotal = p.ItemsDone + int64(len(jobs))
		}
	})
	err := ru.parallel(ctx, len(jobs), func(ctx context.Context, i int) error {
		j := jobs[i]
		if !j.get {
			return nil
		}
		ru.prog.update(false, func(p *Progress) { p.Current = j.f.Name })
		res, err := dr.download(ctx, j.it)
		if err != nil {
			return err
		}
		j.res = res
		if res.ok {
			ru.prog.update(false, func(p *Progress) { p.ItemsDone++ }) // as in mail
		}
		return nil
	})
	// A page cut short still records what was downloaded (see mail).
	for _, j := range jobs {
		if err != nil && j.get && !j.res.ok {
			continue
		}
		if j.get {
			if !j.res.ok {
				dr.skipped = true
				if err := ru.skip(ctx, "file "+dr.path(j.f), j.res.reason, j.f.Size); err != nil {
					return err
				}
				// Keep the previous version in the snapshot, if any.
				continue
			}
			ref := j.res.ref
			j.f.Content = &ref
			j.f.ServedHash = j.res.served
		} else {
			ru.mu.Lock()
			ru.res.Reused++
			ru.mu.Unlock()
		}
		dr.files[j.f.ID] = j.f
		if uerr := dr.upsert(j.f); uerr != nil {
			return errors.Join(err, uerr)
		}
		if !j.get {
			ru.prog.update(false, func(p *Progress) { p.ItemsDone++ })
		}
	}
	return err
}

// known returns stored content for a file whose bytes are already in the
// repository: the same item with the same hash (or, without a hash, the
// same cTag and size), any file of the previous snapshot with the same
// hash (a copy, or everything after a 410 resync), or what an
// interrupted run stored (the catalog).
func (dr *driveRun) known(ctx context.Context, f *File) (repo.ContentRef, bool) {
	if old, ok := dr.files[f.ID]; ok && old.Content != nil && old.Size == f.Size && stored(dr.ru.r, *old.Content) {
		k := hashKey(f)
		if (k != "" && k == hashKey(old)) || (k == "" && f.CTag != "" && f.CTag == old.CTag) {
			return *old.Content, true
		}
	}
	k := hashKey(f)
	if k == "" {
		return repo.ContentRef{}, false
	}
	if old, ok := dr.byHash[k]; ok && old.Size == f.Size && stored(dr.ru.r, *old.Content) {
		return *old.Content, true
	}
	return dr.s.lookup(ctx, f.ID, func(v catalog.VersionInfo) bool {
		var m fileMeta
		// m.Size is the size the drive reported, which is not the stored
		// size when OneDrive served other bytes (ServedHash).
		return json.Unmarshal(v.Metadata, &m) == nil && m.Size == f.Size && m.hashKey() == k
	})
}

// download streams a file into the repository, verifying its hash on the
// fly. A mismatch is retried, then skipped.
func (dr *driveRun) download(ctx context.Context, it graph.DriveItem) (fetched, error) {
	ru := dr.ru
	url := it.DownloadURL
	reason := ""
	var mismatch []byte // what the first download that did not match hashed to
	for attempt := 1; attempt <= downloadAttempts; attempt++ {
		if url == "" {
			fresh, err := ru.g.GetDriveItem(ctx, dr.driveID, it.ID)
			if err != nil {
				return dr.failed(ctx, err)
			}
			url = fresh.DownloadURL
			if url == "" {
				return fetched{reason: "OneDrive offers no download for this item"}, nil
			}
		}
		rc, err := ru.g.OpenDownload(ctx, url, 0)
		if errors.Is(err, graph.ErrExpiredURL) {
			url = ""
			attempt--
			if reason == "expired" {
				return dr.failed(ctx, err)
			}
			reason = "expired"
			continue
		}
		if err != nil {
			return dr.failed(ctx, err)
		}
		h, want := verifier(it)
		var r io.Reader = rc
		if h != nil {
			r = io.TeeReader(rc, h)
		}
		var head *headCapture
		if ru.o.OnFileContent != nil {
			head = &headCapture{max: SampleSize}
			r = io.TeeReader(r, head)
		}
		ref, itemErr, err := ru.saveDownload(ctx, r)
		rc.Close()
		if itemErr != nil {
			return dr.failed(ctx, itemErr)
		}
		if err != nil {
			return fetched{}, err
		}
		sample := func() {
			if head != nil {
				ru.o.OnFileContent(FileSample{Account: ru.o.Account.HomeID, ID: it.ID, Name: it.Name, Size: ref.Size, Head: head.buf})
			}
		}
		if h == nil {
			sample()
			return fetched{ref: ref, ok: true}, nil
		}
		sum := h.Sum(nil)
		if want(sum) {
			sample()
			return fetched{ref: ref, ok: true}, nil
		}
		if mismatch != nil && bytes.Equal(mismatch, sum) {
			// The same other bytes twice: not a damaged transfer but a
			// file OneDrive rewrites when it serves it (SharePoint adds
			// its properties to Office files, sensitivity labels). Keep
			// what Microsoft served and say so, rather than skip it
			// and fetch it again on every run.
			ru.log.Info("OneDrive serves this file with other bytes than it describes; keeping what it served",
				"item", it.ID, "size", it.Size, "served", ref.Size)
			sample()
			return fetched{ref: ref, ok: true, served: servedHash(it, sum)}, nil
		}
		mismatch = sum
		reason = "the downloaded content did not match the hash OneDrive reports for it"
		ru.log.Warn("hash mismatch; downloading again", "item", it.ID, "attempt", attempt)
	}
	return fetched{reason: reason}, nil
}

// servedHash is how a served hash is recorded: in the encoding of the
// hash the drive reports.
func servedHash(it graph.DriveItem, sum []byte) string {
	if it.QuickXorHash != "" {
		return base64.StdEncoding.EncodeToString(sum)
	}
	return hex.EncodeToString(sum)
}

// verifier returns the hash to compute for an item and the comparison with
// the hash the drive reports (QuickXorHash first, then SHA-256, SHA-1).
func verifier(it graph.DriveItem) (hash.Hash, func([]byte) bool) {
	switch {
	case it.QuickXorHash != "":
		return quickxor.New(), func(sum []byte) bool { return base64.StdEncoding.EncodeToString(sum) == it.QuickXorHash }
	case it.SHA256 != "":
		return sha256.New(), func(sum []byte) bool { return strings.EqualFold(hex.EncodeToString(sum), it.SHA256) }
	case it.SHA1 != "":
		return sha1.New(), func(sum []byte) bool { return strings.EqualFold(hex.EncodeToString(sum), it.SHA1) }
	}
	return nil, nil
}

func (dr *driveRun) failed(ctx context.Context, err error) (fetched, error) {
	if fatal(ctx, err) {
		return fetched{}, err
	}
	reason := err.Error()
	if errors.Is(err, graph.ErrNotFound) {
		reason = "the file was deleted while it was being backed up"
	}
	return fetched{reason: reason}, nil
}

// fileMeta is a file's catalog metadata.
type fileMeta struct {
	QuickXorHash string `json:"quickXorHash,omitempty"`
	SHA1         string `json:"sha1,omitempty"`
	SHA256       string `json:"sha256,omitempty"`
	CTag         string `json:"cTag,omitempty"`
	// ServedHash: OneDrive served other bytes than its hash describes
	// (the hash of what it served, which is what was kept).
	ServedHash string `json:"servedHash,omitempty"`
	MimeType   string `json:"mimeType,omitempty"`
	FSCreated  any    `json:"fsCreated,omitempty"`
	FSModified any    `json:"fsModified,omitempty"`
	Size       int64  `json:"size"`
}

func (m fileMeta) hashKey() string {
	return hashKey(&File{QuickXorHash: m.QuickXorHash, SHA1: m.SHA1, SHA256: m.SHA256, Size: m.Size})
}

func (dr *driveRun) upsert(f *File) error {
	if f.Content == nil {
		return nil
	}
	m := fileMeta{QuickXorHash: f.QuickXorHash, SHA1: f.SHA1, SHA256: f.SHA256, CTag: f.CTag, ServedHash: f.ServedHash, MimeType: f.MimeType, Size: f.Size}
	if !f.FSCreated.IsZero() {
		m.FSCreated = f.FSCreated
	}
	if !f.FSModified.IsZero() {
		m.FSModified = f.FSModified
	}
	meta, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	p := dr.path(f)
	folder := ""
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		folder = p[:i]
	}
	t := f.FSModified
	if t.IsZero() {
		t = f.Modified
	}
	dr.done[f.ID] = p
	return dr.s.upsert(catalog.Version{
		Item:     catalog.ItemRef{Account: dr.ru.o.Account.HomeID, Kind: catalog.KindFile, ID: f.ID},
		Content:  encodeContent(*f.Content),
		Size:     f.Content.Size,
		Name:     f.Name,
		Folder:   folder,
		Time:     t,
		Metadata: meta,
	})
}

func fileFrom(it graph.DriveItem) *File {
	return &File{
		ID: it.ID, ParentID: it.ParentID, Name: it.Name, Folder: it.IsFolder || it.IsRoot || it.IsPackage, Root: it.IsRoot,
		Package: it.IsPackage, Size: it.Size, MimeType: it.MimeType, QuickXorHash: it.QuickXorHash, SHA1: it.SHA1, SHA256: it.SHA256,
		ETag: it.ETag, CTag: it.CTag, Created: it.Created, Modified: it.Modified, FSCreated: it.FSCreated, FSModified: it.FSModified,
	}
}
