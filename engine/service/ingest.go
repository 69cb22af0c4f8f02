package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/backup"
	"github.com/lifeboat-backup/lifeboat/engine/repo"
)

// ingestTreeFormat names the tree blobs Ingest writes: JSON listing
// every file with its content ref.
const ingestTreeFormat = "lifeboat-bench-tree/1"

type ingestTree struct {
	Format string       `json:"format"`
	Files  []IngestFile `json:"files"`
}

// IngestFile is one file Ingest stored.
type IngestFile struct {
	Path    string          `json:"path"` // slash-separated, relative to the ingested folder
	Size    int64           `json:"size"`
	Mode    string          `json:"mode"`
	ModTime time.Time       `json:"mtime"`
	Content repo.ContentRef `json:"content"`
}

// IngestResult is what Ingest stored and how fast.
type IngestResult struct {
	Snapshot repo.ID
	Files    int
	Bytes    int64
	Took     time.Duration
	Stats    repo.Stats
}

// Ingest stores every regular file under src in r through exactly the
// pipeline backups use (chunk, hash, compress, encrypt, pack) and adds a
// snapshot listing them: a measure of the format's speed and size.
func (s *Service) Ingest(ctx context.Context, r *repo.Repository, src string) (IngestResult, error) {
	var res IngestResult
	if fi, err := os.Stat(src); err != nil {
		return res, fmt.Errorf("cannot read the folder to ingest: %w", err)
	} else if !fi.IsDir() {
		return res, badInput(fmt.Errorf("%s is not a folder", src))
	}
	lock, err := r.Lock(ctx, false)
	if err != nil {
		return res, err
	}
	defer lock.Unlock(context.WithoutCancel(ctx))
	start := time.Now()
	files, err := ingestFolder(ctx, r, src)
	if err != nil {
		return res, err
	}
	tree, err := json.Marshal(ingestTree{Format: ingestTreeFormat, Files: files})
	if err != nil {
		return res, fmt.Errorf("encoding the file list: %w", err)
	}
	root, _, err := r.SaveBlob(ctx, repo.TreeBlob, tree)
	if err != nil {
		return res, fmt.Errorf("saving the file list: %w", err)
	}
	abs, _ := filepath.Abs(src)
	if res.Snapshot, err = r.SaveSnapshot(ctx, &repo.Snapshot{Kind: "bench", Account: abs, Root: root, Tags: []string{"bench"}}); err != nil {
		return res, err
	}
	if err := lock.Unlock(ctx); err != nil {
		return res, err
	}
	res.Took, res.Files, res.Stats = time.Since(start), len(files), r.Stats()
	for _, f := range files {
		res.Bytes += f.Size
	}
	return res, nil
}

// ingestFolder stores every regular file under src. Small files are saved
// by several workers at once; large ones, which SaveStream already splits
// across workers, one at a time, so memory stays bounded.
func ingestFolder(ctx context.Context, r *repo.Repository, src string) ([]IngestFile, error) {
	type job struct {
		i    int
		path string
		fi   fs.FileInfo
	}
	var (
		files []IngestFile
		jobs  []job
	)
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("reading %s: %w", p, err)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return fmt.Errorf("reading %s: %w", p, err)
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		jobs = append(jobs, job{i: len(files), path: p, fi: fi})
		files = append(files, IngestFile{Path: filepath.ToSlash(rel), Size: fi.Size(), Mode: fi.Mode().String(), ModTime: fi.ModTime().UTC()})
		return nil
	})
	if err != nil {
		return nil, err
	}
	const bigFile = 1 << 20
	workers := min(runtime.GOMAXPROCS(0), 8)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
		big      = make(chan struct{}, 1)
		next     = make(chan job)
	)
	fail := func(err error) {
		errOnce.Do(func() { firstErr = err; cancel() })
	}
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range next {
				if j.fi.Size() >= bigFile {
					big <- struct{}{}
				}
				ref, err := saveFile(ctx, r, j.path)
				if j.fi.Size() >= bigFile {
					<-big
				}
				if err != nil {
					fail(err)
					continue
				}
				files[j.i].Content = ref
				files[j.i].Size = ref.Size
			}
		}()
	}
feed:
	for _, j := range jobs {
		select {
		case next <- j:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return files, nil
}

func saveFile(ctx context.Context, r *repo.Repository, path string) (repo.ContentRef, error) {
	f, err := os.Open(path)
	if err != nil {
		return repo.ContentRef{}, fmt.Errorf("reading %s: %w", path, err)
	}
	defer f.Close()
	ref, err := r.SaveStream(ctx, f)
	if err != nil {
		return repo.ContentRef{}, fmt.Errorf("storing %s: %w", path, err)
	}
	return ref, nil
}

// ingestRefs returns what an ingest tree references. strict (for prune)
// rejects other trees, whose references it cannot know; otherwise (for
// verify) they are not followed.
func ingestRefs(strict bool) func([]byte) ([]repo.ID, error) {
	return func(b []byte) ([]repo.ID, error) {
		var t ingestTree
		if err := json.Unmarshal(b, &t); err != nil || t.Format != ingestTreeFormat {
			if strict {
				return nil, errors.New("this version of Lifeboat cannot follow this kind of snapshot")
			}
			return nil, nil
		}
		var ids []repo.ID
		for _, f := range t.Files {
			ids = append(ids, f.Content.Chunks...)
		}
		return ids, nil
	}
}

// backupRefs follows both the backup trees and the ingest trees. strict
// (prune) refuses trees neither knows.
func backupRefs(strict bool) func([]byte) ([]repo.ID, error) {
	ingest := ingestRefs(strict)
	return func(b []byte) ([]repo.ID, error) {
		ids, err := backup.Refs(b)
		if err == nil {
			return ids, nil
		}
		if !errors.Is(err, backup.ErrUnknownTree) {
			return nil, err
		}
		return ingest(b)
	}
}

// IngestedFiles reads the file list of a snapshot Ingest wrote.
func IngestedFiles(tree []byte) ([]IngestFile, error) {
	var t ingestTree
	if err := json.Unmarshal(tree, &t); err != nil {
		return nil, fmt.Errorf("reading the file list: %w", err)
	}
	if t.Format != ingestTreeFormat {
		return nil, fmt.Errorf("the file list is of another kind (%q)", t.Format)
	}
	return t.Files, nil
}
