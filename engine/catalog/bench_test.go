package catalog

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The search benchmarks run against one large catalog, built once per test
// binary run (it takes a minute or two for a million items) in a temporary
// directory that TestMain removes. LIFEBOAT_CATALOG_BENCH_ITEMS sets its
// size; the default is the design's million.
const benchItemsEnv = "LIFEBOAT_CATALOG_BENCH_ITEMS"

type benchFixture struct {
	once sync.Once
	dir  string
	c    *Catalog
	err  error
	n    int
	seqs map[string][2]int64 // account -> mail snapshots 1 and 2
}

// bench is the shared fixture; tests never touch it.
var bench benchFixture

func TestMain(m *testing.M) {
	code := m.Run()
	if bench.c != nil {
		bench.c.Close()
	}
	if bench.dir != "" {
		os.RemoveAll(bench.dir)
	}
	os.Exit(code)
}

func benchCatalog(b *testing.B) *benchFixture {
	b.Helper()
	bench.once.Do(func() {
		n := 1_000_000
		if s := os.Getenv(benchItemsEnv); s != "" {
			v, err := strconv.Atoi(s)
			if err != nil || v < 1000 {
				bench.err = fmt.Errorf("%s=%q: want a number >= 1000", benchItemsEnv, s)
				return
			}
			n = v
		}
		bench.n = n
		bench.dir, bench.err = os.MkdirTemp("", "lifeboat-catalog-bench-")
		if bench.err != nil {
			return
		}
		start := time.Now()
		bench.c, bench.seqs, bench.err = buildBenchCatalog(filepath.Join(bench.dir, "catalog.db"), n)
		if bench.err == nil {
			fi, _ := os.Stat(filepath.Join(bench.dir, "catalog.db"))
			b.Logf("built a %d-item catalog in %s (%d MB)", n, time.Since(start).Round(time.Second), fi.Size()>>20)
		}
	})
	if bench.err != nil {
		b.Fatal(bench.err)
	}
	return &bench
}

const benchAccounts = 20

func benchAccount(i int) string { return fmt.Sprintf("home-%02d", i) }

// benchWords is a deterministic vocabulary of made-up words, with a few
// real ones at known ranks for the queries.
func benchWords() []string {
	syl := []string{"ka", "lo", "mi", "ne", "ru", "ta", "be", "so", "di", "fa", "gu", "pe", "zo", "wi", "ha", "ja"}
	words := make([]string, 20000)
	for i := range words {
		var sb strings.Builder
		for x := i + 1; x > 0; x /= len(syl) {
			sb.WriteString(syl[x%len(syl)])
		}
		sb.WriteString(syl[(i*7)%len(syl)])
		words[i] = sb.String()
	}
	words[40] = "invoice"
	words[90] = "meeting"
	words[15000] = "zanzibar" // rare
	return words
}

func buildBenchCatalog(path string, n int) (*Catalog, map[string][2]int64, error) {
	ctx := context.Background()
	c, err := Open(ctx, path, Options{})
	if err != nil {
		return nil, nil, err
	}
	fail := func(err error) (*Catalog, map[string][2]int64, error) {
		c.Close()
		return nil, nil, err
	}
	rng := rand.New(rand.NewPCG(1, 2))
	words := benchWords()
	zipf := rand.NewZipf(rng, 1.07, 2, uint64(len(words)-1))
	word := func() string { return words[zipf.Uint64()] }
	sentence := func(k int) string {
		ws := make([]string, k)
		for i := range ws {
			ws[i] = word()
		}
		return strings.Join(ws, " ")
	}
	people := make([]Person, 3000)
	for i := range people {
		first, last := words[100+i%500], words[600+i/6]
		people[i] = Person{Name: first + " " + last, Address: first + "." + last + "@example.com"}
	}
	people[7] = Person{Name: "Billing", Address: "billing@vendor.com"}
	person := func() Person {
		if rng.IntN(200) == 0 {
			return people[7]
		}
		return people[rng.IntN(len(people))]
	}
	base := time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)
	span := int64(5 * 365 * 24 * time.Hour / time.Second)
	seqs := map[string][2]int64{}
	perAccount := n / benchAccounts
	const batchSize = 50000
	for a := 0; a < benchAccounts; a++ {
		acct := benchAccount(a)
		if err := c.UpsertAccount(ctx, Account{HomeID: acct, UPN: acct + "@contoso.com", Kind: AccountWork}); err != nil {
			return fail(err)
		}
		folders := []string{"Inbox", "Sent Items", "Archive"}
		for i := 0; i < 17; i++ {
			folders = append(folders, "Inbox/"+words[200+i])
		}
		for _, kind := range []SnapshotKind{SnapshotMail, SnapshotOneDrive} {
			count := perAccount * 4 / 5
			if kind == SnapshotOneDrive {
				count = perAccount - count
			}
			ik, _ := kind.ItemKind()
			var firstSeq int64
			for round := 0; round < 2; round++ {
				seq, err := c.RecordSnapshot(ctx, Snapshot{Account: acct, Kind: kind, Time: base.Add(time.Duration(span+int64(round)*86400) * time.Second)})
				if err != nil {
					return fail(err)
				}
				if round == 0 {
					firstSeq = seq
				}
				var batch *Batch
				for i := 0; i < count; i++ {
					if batch == nil {
						if batch, err = c.Begin(ctx, seq); err != nil {
							return fail(err)
						}
					}
					id := fmt.Sprintf("%s-%d", kind, i)
					if round == 1 {
						// The second snapshot deletes 2% and changes 1%.
						switch r := i % 100; {
						case r < 2:
							if _, err := batch.Delete(ItemRef{acct, ik, id}); err != nil {
								return fail(err)
							}
						case r == 2:
							v := Version{Item: ItemRef{acct, ik, id}, Content: "changed-" + id, Size: 99, Name: sentence(4), Folder: folders[0],
								Time: base.Add(time.Duration(rng.Int64N(span)) * time.Second)}
							if _, err := batch.Upsert(v); err != nil {
								return fail(err)
							}
						}
					} else {
						t := base.Add(time.Duration(rng.Int64N(span)) * time.Second)
						var v Version
						if kind == SnapshotMail {
							v = Version{Item: ItemRef{acct, ik, id}, InternetMessageID: "<" + id + "." + acct + "@contoso.com>",
								Content: "c" + id, Size: int64(2000 + rng.IntN(50000)), Name: sentence(3 + rng.IntN(5)),
								Folder: folders[rng.IntN(len(folders))], Time: t, Body: sentence(30 + rng.IntN(40)),
								People: []Person{person(), person(), person()}, Metadata: []byte(`{"isRead":true}`)}
							if rng.IntN(10) == 0 {
								v.Attachments = []string{word() + ".pdf"}
							}
						} else {
							name := word() + "-" + word() + ".docx"
							if rng.IntN(20) == 0 {
								name = fmt.Sprintf("budget-%d-%d.xlsx", 2021+rng.IntN(5), i)
							}
							v = Version{Item: ItemRef{acct, ik, id}, Content: "c" + id, Size: int64(rng.IntN(1 << 20)), Name: name,
								Folder: "/" + words[300+rng.IntN(10)] + "/" + words[400+rng.IntN(10)], Time: t}
						}
						if _, err := batch.Upsert(v); err != nil {
							return fail(err)
						}
					}
					if (i+1)%batchSize == 0 || i == count-1 {
						if err := batch.Commit(); err != nil {
							return fail(err)
						}
						batch = nil
					}
				}
				if batch != nil {
					if err := batch.Commit(); err != nil {
						return fail(err)
					}
				}
				if err := c.CompleteSnapshot(ctx, seq, fmt.Sprintf("%064x", seq)); err != nil {
					return fail(err)
				}
				if kind == SnapshotMail && round == 1 {
					seqs[acct] = [2]int64{firstSeq, seq}
				}
			}
		}
	}
	if _, err := c.w.ExecContext(ctx, "PRAGMA optimize=0x10002"); err != nil {
		return fail(err)
	}
	if _, err := c.w.ExecContext(ctx, "INSERT INTO search(search) VALUES('optimize')"); err != nil {
		return fail(err)
	}
	return c, seqs, nil
}

func BenchmarkSearch(b *testing.B) {
	f := benchCatalog(b)
	ctx := context.Background()
	acct := benchAccount(3)
	for _, bc := range []struct {
		name string
		q    SearchQuery
	}{
		{"subject word", SearchQuery{Text: "invoice"}},
		{"common word", SearchQuery{Text: "meeting"}},
		{"rare word", SearchQuery{Text: "zanzibar"}},
		{"two words", SearchQuery{Text: "invoice meeting"}},
		{"sender", SearchQuery{People: "billing@vendor.com"}},
		{"file name prefix", SearchQuery{Text: "budg*", Kind: KindFile}},
		{"word in account", SearchQuery{Text: "invoice", Account: acct}},
		{"word in account, mail, date range", SearchQuery{Text: "invoice", Account: acct, Kind: KindMail,
			From: time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2023, 6, 30, 0, 0, 0, 0, time.UTC)}},
		{"word in folder", SearchQuery{Text: "invoice", Account: acct, Folder: "Inbox"}},
		{"deleted only", SearchQuery{Text: "invoice", DeletedOnly: true}},
		{"sender, deleted, account", SearchQuery{People: "billing", Account: acct, DeletedOnly: true}},
		{"no match", SearchQuery{Text: "xylophone"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			hits, err := f.c.Search(ctx, bc.q)
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				if _, err := f.c.Search(ctx, bc.q); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(hits)), "hits")
		})
	}
}

func BenchmarkAsOf(b *testing.B) {
	f := benchCatalog(b)
	ctx := context.Background()
	acct := benchAccount(5)
	seqs := f.seqs[acct]
	for _, bc := range []struct {
		name string
		q    AsOfQuery
	}{
		{"folder at first snapshot", AsOfQuery{Account: acct, Kind: KindMail, Snapshot: seqs[0], Folder: "Inbox", Limit: 100}},
		{"folder latest", AsOfQuery{Account: acct, Kind: KindMail, Folder: "Inbox", Limit: 100}},
		{"folder by time", AsOfQuery{Account: acct, Kind: KindMail, Time: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC), Folder: "Sent Items", Limit: 100}},
		{"files recursive", AsOfQuery{Account: acct, Kind: KindFile, Recursive: true, Limit: 100}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			_, vs, err := f.c.AsOf(ctx, bc.q)
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				if _, _, err := f.c.AsOf(ctx, bc.q); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(vs)), "items")
		})
	}
}

func BenchmarkRecentlyDeleted(b *testing.B) {
	f := benchCatalog(b)
	ctx := context.Background()
	for _, bc := range []struct {
		name string
		acct string
	}{
		{"one account", benchAccount(7)},
		{"all accounts", ""},
	} {
		b.Run(bc.name, func(b *testing.B) {
			d, err := f.c.RecentlyDeleted(ctx, bc.acct, 100)
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				if _, err := f.c.RecentlyDeleted(ctx, bc.acct, 100); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(d)), "items")
		})
	}
}
