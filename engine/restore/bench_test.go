package restore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/catalog"
)

// searchBenchItemsEnv sets the size of the search benchmark's catalog; the
// default is the design's million items.
const searchBenchItemsEnv = "LIFEBOAT_RESTORE_BENCH_ITEMS"

// searchBench is shared by every run of the search benchmark (-count):
// nothing else touches it, and TestMain removes it.
var searchBench searchFixture

func TestMain(m *testing.M) {
	code := m.Run()
	searchBench.close()
	os.Exit(code)
}

// searchFixture is the large catalog, built once per test binary run (a
// minute or two for a million items) and removed when the benchmarks end.
type searchFixture struct {
	once sync.Once
	c    *catalog.Catalog
	dir  string
	err  error
}

func (f *searchFixture) get(b *testing.B) *catalog.Catalog {
	b.Helper()
	f.once.Do(func() {
		n := 1_000_000
		if s := os.Getenv(searchBenchItemsEnv); s != "" {
			if n, f.err = strconv.Atoi(s); f.err != nil || n < 1000 {
				f.err = fmt.Errorf("%s=%q: want a number >= 1000", searchBenchItemsEnv, s)
				return
			}
		}
		if f.dir, f.err = os.MkdirTemp("", "lifeboat-restore-bench-"); f.err != nil {
			return
		}
		start := time.Now()
		f.c, f.err = buildSearchCatalog(filepath.Join(f.dir, "catalog.db"), n)
		if f.err == nil {
			b.Logf("built a %d-item catalog in %s", n, time.Since(start).Round(time.Second))
		}
	})
	if f.err != nil {
		b.Fatal(f.err)
	}
	return f.c
}

func (f *searchFixture) close() {
	if f.c != nil {
		f.c.Close()
	}
	if f.dir != "" {
		os.RemoveAll(f.dir)
	}
}

// buildSearchCatalog fills a catalog through its public API: 10 accounts,
// 80% mail with subjects, people and body text, 20% files, two snapshots
// per stream, the second deleting 2% and changing 1%.
func buildSearchCatalog(path string, n int) (*catalog.Catalog, error) {
	ctx := context.Background()
	c, err := catalog.Open(ctx, path, catalog.Options{})
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*catalog.Catalog, error) {
		c.Close()
		return nil, err
	}
	rng := rand.New(rand.NewPCG(7, 11))
	syl := []string{"ka", "lo", "mi", "ne", "ru", "ta", "be", "so", "di", "fa", "gu", "pe", "zo", "wi", "ha", "ja"}
	words := make([]string, 20000)
	for i := range words {
		var sb strings.Builder
		for x := i + 1; x > 0; x /= len(syl) {
			sb.WriteString(syl[x%len(syl)])
		}
		words[i] = sb.String() + syl[(i*5)%len(syl)]
	}
	words[30], words[80], words[12000] = "invoice", "contract", "zanzibar"
	zipf := rand.NewZipf(rng, 1.07, 2, uint64(len(words)-1))
	sentence := func(k int) string {
		ws := make([]string, k)
		for i := range ws {
			ws[i] = words[zipf.Uint64()]
		}
		return strings.Join(ws, " ")
	}
	const accounts = 10
	base := time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)
	span := int64(5 * 365 * 24 * time.Hour)
	folders := []string{"Inbox", "Inbox/Invoices", "Sent Items", "Archive", "Archive/2024"}
	per := n / accounts
	for a := range accounts {
		acct := fmt.Sprintf("home-%02d", a)
		if err := c.UpsertAccount(ctx, catalog.Account{HomeID: acct, UPN: acct + "@contoso.test", Kind: catalog.AccountWork}); err != nil {
			return fail(err)
		}
		for _, kind := range []catalog.ItemKind{catalog.KindMail, catalog.KindFile} {
			count := per * 4 / 5
			if kind == catalog.KindFile {
				count = per - count
			}
			sk, _ := kind.SnapshotKind()
			for round := range 2 {
				seq, err := c.RecordSnapshot(ctx, catalog.Snapshot{Account: acct, Kind: sk, Time: base.Add(time.Duration(span) + time.Duration(round)*24*time.Hour)})
				if err != nil {
					return fail(err)
				}
				var bt *catalog.Batch
				for i := range count {
					if bt == nil {
						if bt, err = c.Begin(ctx, seq); err != nil {
							return fail(err)
						}
					}
					ref := catalog.ItemRef{Account: acct, Kind: kind, ID: fmt.Sprintf("%s-%d", kind, i)}
					t := base.Add(time.Duration(rng.Int64N(span)))
					switch {
					case round == 1 && i%100 < 2:
						_, err = bt.Delete(ref)
					case round == 1 && i%100 == 2:
						_, err = bt.Upsert(catalog.Version{Item: ref, Content: "9:", Size: 9, Name: sentence(4), Folder: folders[0], Time: t})
					case round == 1:
						err = nil
					case kind == catalog.KindMail:
						_, err = bt.Upsert(catalog.Version{Item: ref, InternetMessageID: "<" + ref.ID + "@x>", Content: "1:", Size: 1,
							Name: sentence(3 + rng.IntN(5)), Folder: folders[rng.IntN(len(folders))], Time: t, Body: sentence(40),
							People:   []catalog.Person{{Name: words[100+rng.IntN(300)], Address: words[rng.IntN(400)] + "@example.com"}},
							Metadata: []byte(`{"isRead":true}`)})
					default:
						name := words[zipf.Uint64()] + "-" + words[zipf.Uint64()] + ".docx"
						if rng.IntN(20) == 0 {
							name = fmt.Sprintf("budget-%d.xlsx", i)
						}
						_, err = bt.Upsert(catalog.Version{Item: ref, Content: "1:", Size: 1, Name: name, Folder: "Documents/" + words[rng.IntN(10)], Time: t})
					}
					if err != nil {
						return fail(err)
					}
					if (i+1)%50000 == 0 || i == count-1 {
						if err := bt.Commit(); err != nil {
							return fail(err)
						}
						bt = nil
					}
				}
				if bt != nil {
					if err := bt.Commit(); err != nil {
						return fail(err)
					}
				}
				if err := c.CompleteSnapshot(ctx, seq, fmt.Sprintf("%064x", seq)); err != nil {
					return fail(err)
				}
			}
		}
	}
	return c, nil
}

// BenchmarkHeavySearchLatency is the "find" a person types, over a catalog of a
// million items: each iteration runs a mix of searches, and the median and
// 95th percentile of their latencies are reported (target p95 < 50 ms).
func BenchmarkHeavySearchLatency(b *testing.B) {
	c := searchBench.get(b)
	ctx := context.Background()
	queries := []catalog.SearchQuery{
		{Text: "invoice"},
		{Text: "invoice contract"},
		{Text: "zanzibar"},
		{Text: "budg*", Kind: catalog.KindFile},
		{Text: "invoice", Account: "home-03", Kind: catalog.KindMail, From: time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2023, 12, 31, 0, 0, 0, 0, time.UTC)},
		{Text: "invoice", Folder: "Inbox"},
		{Text: "invoice", DeletedOnly: true},
		{Text: "xylophone"},
	}
	var lat []time.Duration
	for b.Loop() {
		for _, q := range queries {
			start := time.Now()
			if _, err := c.Search(ctx, q); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(start))
		}
	}
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(lat[len(lat)/2]), "median-ms")
	b.ReportMetric(ms(lat[len(lat)*95/100]), "p95-ms")
	b.ReportMetric(float64(len(queries)), "searches/op")
}

// BenchmarkRestoreOneMessage restores one email to its original folder
// through Graph against the simulator without throttling, end to end:
// plan (find the folder, look for a copy), read the MIME from the
// repository, create the message and its attachment (target < 1 s).
func BenchmarkRestoreOneMessage(b *testing.B) {
	e := newSimEnv(b, nil)
	e.backup()
	var v catalog.VersionInfo
	for _, x := range e.all(catalog.KindMail) {
		if strings.Contains(x.Name, "Invoice 0005") {
			v = x
		}
	}
	if v.ID == 0 {
		b.Fatal("no message to restore")
	}
	r := New(Options{Content: e.r})
	for b.Loop() {
		dest := ToOriginal(e.g, nil, "me", e.acct.HomeID)
		pl, err := r.Plan(b.Context(), dest, []catalog.VersionInfo{v})
		if err != nil {
			b.Fatal(err)
		}
		res, err := r.Execute(b.Context(), pl)
		if err != nil || len(res.Done) != 1 {
			b.Fatalf("%v %+v", err, res)
		}
	}
}
