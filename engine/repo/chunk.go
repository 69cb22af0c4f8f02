package repo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"

	"github.com/restic/chunker"
)

// ContentRef is what SaveStream returns and OpenStream reads back: the
// data blobs of a content, in order, and its total length.
type ContentRef struct {
	Size   int64 `json:"size"`
	Chunks []ID  `json:"chunks"`
}

// SaveStream splits r with content-defined chunking (Rabin fingerprints
// over the repository's secret polynomial), so an edit in the middle of a
// large file changes only the chunks around it, and saves each chunk as a
// data blob. At most a few chunks are in memory at any time.
func (r *Repository) SaveStream(ctx context.Context, rd io.Reader) (ContentRef, error) {
	cc := r.cfg.Chunker
	// Content shorter than the minimum chunk size is always exactly one
	// chunk; skip the chunker's setup (a 512 KiB buffer) for it, which
	// matters for the many small emails.
	// The buffer grows with the content, so a 2 KiB email costs ~2 KiB.
	var hb bytes.Buffer
	if _, err := hb.ReadFrom(io.LimitReader(rd, int64(cc.MinSize))); err != nil {
		return ContentRef{}, fmt.Errorf("repo: reading content: %w", err)
	}
	head := hb.Bytes()
	if len(head) < int(cc.MinSize) {
		if len(head) == 0 {
			return ContentRef{}, nil
		}
		id, _, err := r.SaveBlob(ctx, DataBlob, head)
		if err != nil {
			return ContentRef{}, err
		}
		return ContentRef{Size: int64(len(head)), Chunks: []ID{id}}, nil
	}

	ch := chunker.NewWithBoundaries(io.MultiReader(bytes.NewReader(head), rd), cc.Polynomial, cc.MinSize, cc.MaxSize)
	ch.SetAverageBits(cc.AverageBits)

	workers := min(runtime.GOMAXPROCS(0), 4)
	g, gctx := newGroup(ctx)
	defer g.cancel()
	// workers+1 buffers: one is filled by the chunker while the others are
	// compressed and encrypted. This bounds memory at (workers+1)·MaxSize.
	// They start at a few average chunks and grow (the chunker appends) only
	// for the rare long chunk, so concurrent streams stay cheap.
	free := make(chan []byte, workers+1)
	// head is not reused as a buffer: the chunker may not have copied all
	// of it yet when it starts filling the first chunk.
	for range workers + 1 {
		free <- r.chunkBuf(min(int(cc.MaxSize), 2<<cc.AverageBits))
	}
	defer func() {
		// Every buffer is back once the workers are done (g.Wait ran on
		// every path out of the loop), so none is shared when recycled.
		for range workers + 1 {
			b := <-free
			r.chunkBufs.Put(&b)
		}
	}()
	var (
		mu   sync.Mutex
		ids  []ID
		size int64
	)
	for {
		var buf []byte
		select {
		case buf = <-free:
		case <-gctx.Done():
			if err := g.Wait(); err != nil {
				return ContentRef{}, err
			}
			return ContentRef{}, ctx.Err()
		}
		c, err := ch.Next(buf[:0])
		if err != nil {
			free <- buf[:0] // the chunker no longer uses it
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			g.Wait()
			return ContentRef{}, fmt.Errorf("repo: reading content: %w", err)
		}
		size += int64(c.Length)
		mu.Lock()
		i := len(ids)
		ids = append(ids, ID{})
		mu.Unlock()
		data := c.Data
		g.Go(func() error {
			defer func() { free <- data[:0] }()
			id, _, err := r.SaveBlob(gctx, DataBlob, data)
			if err != nil {
				return err
			}
			mu.Lock()
			ids[i] = id
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return ContentRef{}, err
	}
	return ContentRef{Size: size, Chunks: ids}, nil
}

// chunkBuf returns an empty buffer with room for at least max bytes.
func (r *Repository) chunkBuf(max int) []byte {
	if b, ok := r.chunkBufs.Get().(*[]byte); ok && cap(*b) >= max {
		return (*b)[:0]
	}
	return make([]byte, 0, max)
}

// group runs goroutines and keeps the first error, cancelling the rest.
type group struct {
	wg     sync.WaitGroup
	cancel context.CancelFunc
	once   sync.Once
	err    error
}

func newGroup(ctx context.Context) (*group, context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	return &group{cancel: cancel}, ctx
}

func (g *group) Go(f func() error) {
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		if err := f(); err != nil {
			g.once.Do(func() {
				g.err = err
				g.cancel()
			})
		}
	}()
}

func (g *group) Wait() error {
	g.wg.Wait()
	return g.err
}

// OpenStream returns a reader over the content ref describes. Chunks are
// loaded one at a time; errors (missing or damaged chunks, a length that
// does not add up) surface from Read.
func (r *Repository) OpenStream(ctx context.Context, ref ContentRef) io.ReadCloser {
	return &streamReader{ctx: ctx, r: r, ref: ref}
}

type streamReader struct {
	ctx  context.Context
	r    *Repository
	ref  ContentRef
	next int
	cur  []byte
	read int64
	err  error
}

func (s *streamReader) Read(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	for len(s.cur) == 0 {
		if s.next == len(s.ref.Chunks) {
			if s.read != s.ref.Size {
				s.err = corruptf("content", "chunks hold %d bytes, expected %d", s.read, s.ref.Size)
			} else {
				s.err = io.EOF
			}
			return 0, s.err
		}
		b, err := s.r.LoadBlob(s.ctx, s.ref.Chunks[s.next])
		if err != nil {
			s.err = fmt.Errorf("repo: reading chunk %d of %d: %w", s.next+1, len(s.ref.Chunks), err)
			return 0, s.err
		}
		s.next++
		s.cur = b
		s.read += int64(len(b))
		if s.read > s.ref.Size {
			s.err = corruptf("content", "chunks hold more than the expected %d bytes", s.ref.Size)
			return 0, s.err
		}
	}
	n := copy(p, s.cur)
	s.cur = s.cur[n:]
	return n, nil
}

func (s *streamReader) Close() error {
	s.cur = nil
	if s.err == nil || s.err == io.EOF {
		s.err = errors.New("repo: read from closed stream")
	}
	return nil
}
