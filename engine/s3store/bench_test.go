package s3store_test

import (
	"bytes"
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/repo"
	"github.com/lifeboat-backup/lifeboat/engine/s3store"
	"github.com/lifeboat-backup/lifeboat/engine/s3store/s3test"
	"github.com/lifeboat-backup/lifeboat/engine/store"
)

// benchCorpus is about 48 MiB of files as a small office has them: a third
// incompressible (photos, archives), the rest text of several sizes.
func benchCorpus() [][]byte {
	r := rand.New(rand.NewPCG(7, 7))
	var files [][]byte
	total := 0
	for i := 0; total < 48<<20; i++ {
		n := 20<<10 + r.IntN(3<<20)
		b := make([]byte, n)
		if i%3 == 0 {
			for j := range b {
				b[j] = byte(r.Uint32())
			}
		} else {
			words := strings.Fields("invoice delivery flour butter oven order customer week total price the and of to")
			var sb strings.Builder
			for sb.Len() < n {
				sb.WriteString(words[r.IntN(len(words))])
				sb.WriteByte(' ')
			}
			copy(b, sb.String())
		}
		files = append(files, b)
		total += n
	}
	return files
}

// ingest stores the corpus through the repository into st and returns
// the time it took (Init excluded, the final Flush included).
func ingest(b *testing.B, st store.Store, files [][]byte) time.Duration {
	b.Helper()
	ctx := context.Background()
	o := repo.TestOptions()
	o.PackSize = repo.DefaultPackSize
	r, _, err := repo.Init(ctx, st, o)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	start := time.Now()
	for _, f := range files {
		if _, err := r.SaveStream(ctx, bytes.NewReader(f)); err != nil {
			b.Fatal(err)
		}
	}
	if err := r.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

// BenchmarkIngestS3VsFolder stores the same corpus through the backup
// pipeline into a repository in a local folder and into one in a bucket
// with Object Lock on the local S3 server (versitygw), three times each,
// interleaved, and reports the medians as MB/s and the ratio S3/folder
// (s3-vs-folder; 1 would be as fast as the folder).
func BenchmarkIngestS3VsFolder(b *testing.B) {
	files := benchCorpus()
	var size int64
	for _, f := range files {
		size += int64(len(f))
	}
	srv := s3test.Start(b)
	for b.Loop() {
		b.StopTimer()
		var folder, s3 []time.Duration
		for range 3 {
			local, err := store.NewLocal(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			folder = append(folder, ingest(b, local, files))
			st := srv.Store(b, srv.Bucket(b, true), func(o *s3store.Options) { o.Lock = store.LockPolicy{Period: time.Hour} })
			s3 = append(s3, ingest(b, st, files))
		}
		mb := float64(size) / (1 << 20)
		f, s := median(folder), median(s3)
		b.ReportMetric(mb/f.Seconds(), "folder-MB/s")
		b.ReportMetric(mb/s.Seconds(), "s3-MB/s")
		b.ReportMetric(f.Seconds()/s.Seconds(), "s3-vs-folder")
		b.StartTimer()
	}
}
