package catalog

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
)

// searchCatalog holds a small mixed catalog for search tests.
func searchCatalog(t testing.TB) *Catalog {
	c := newCatalog(t)
	m1 := mail("m1", "Präsentation für Kunden", "Inbox", day(1))
	m1.People = []Person{{"Jürgen Weiß", "juergen@example.de"}, {"Paul Müller", "paul@contoso.com"}}
	m1.Body = "Bitte die Folien prüfen."
	m1.Attachments = []string{"Präsentation_Q1.pptx"}
	m2 := mail("m2", "Café order", "Inbox/Receipts", day(2))
	m2.People = []Person{{"Zoë Café", "zoe@cafe.fr"}}
	m2.Body = "two espressos"
	m4 := mail("m4", "Invoice March", "Inbox/Invoices", day(4))
	m4.People = []Person{{"Billing", "billing@vendor.com"}}
	m4.Body = "invoice attached, total 1200 EUR"
	m5 := mail("m5", "Invoice April", "Inbox/Invoices", day(5))
	m5.People = m4.People
	m5.Body = "invoice attached, total 900 EUR"
	snapshot(t, c, paul, SnapshotMail, day(6), false, up(m1), up(m2), up(m4), up(m5))
	snapshot(t, c, paul, SnapshotMail, day(7), false, del("m4"))

	m3 := mail("m3", "会議の議事録", "受信トレイ", day(3))
	m3.People = []Person{{"佐藤", "sato@example.jp"}}
	m3.Body = "明日の会議について確認してください。"
	snapshot(t, c, anna, SnapshotMail, day(6), false, up(m3))

	snapshot(t, c, paul, SnapshotOneDrive, day(6), false,
		up(file("f1", "budget.xlsx", "/Finance", day(2))),
		up(file("f2", "Präsentation final.pptx", "/Sales", day(6))))
	checkConsistency(t, c)
	return c
}

func TestSearch(t *testing.T) {
	c := searchCatalog(t)
	ctx := context.Background()
	tests := []struct {
		name string
		q    SearchQuery
		want []string
	}{
		{"word with umlaut", SearchQuery{Text: "präsentation"}, []string{"f2", "m1"}},
		{"case and accents folded", SearchQuery{Text: "PRASENTATION"}, []string{"f2", "m1"}},
		{"cafe finds café", SearchQuery{Text: "cafe"}, []string{"m2"}},
		{"café finds café", SearchQuery{Text: "Café"}, []string{"m2"}},
		{"japanese word", SearchQuery{Text: "会議"}, []string{"m3"}},
		{"japanese substring", SearchQuery{Text: "議事"}, []string{"m3"}},
		{"japanese in body", SearchQuery{Text: "確認"}, []string{"m3"}},
		{"japanese folder", SearchQuery{Text: "受信"}, []string{"m3"}},
		{"two words", SearchQuery{Text: "invoice april"}, []string{"m5"}},
		{"newest first", SearchQuery{Text: "invoice"}, []string{"m5", "m4"}},
		{"body word", SearchQuery{Text: "espressos"}, []string{"m2"}},
		{"attachment name", SearchQuery{Text: "Q1"}, []string{"m1"}},
		{"phrase", SearchQuery{Text: `"total 1200"`}, []string{"m4"}},
		{"phrase out of order", SearchQuery{Text: `"1200 total"`}, nil},
		{"prefix", SearchQuery{Text: "budg*"}, []string{"f1"}},
		{"short prefix", SearchQuery{Text: "bu*"}, []string{"f1"}},
		{"path", SearchQuery{Text: "finance"}, []string{"f1"}},
		{"people by address", SearchQuery{People: "billing@vendor.com"}, []string{"m5", "m4"}},
		{"people by name", SearchQuery{People: "jürgen"}, []string{"m1"}},
		{"people by name without accents", SearchQuery{People: "jurgen weiss"}, nil}, // ß is not folded to ss
		{"people by name word", SearchQuery{People: "weiß"}, []string{"m1"}},
		{"people japanese", SearchQuery{People: "佐藤"}, []string{"m3"}},
		{"people is not subject", SearchQuery{People: "invoice"}, nil},
		{"people and text", SearchQuery{People: "billing", Text: "march"}, []string{"m4"}},
		{"kind file", SearchQuery{Text: "präsentation", Kind: KindFile}, []string{"f2"}},
		{"kind mail", SearchQuery{Text: "präsentation", Kind: KindMail}, []string{"m1"}},
		{"prefix in mail only", SearchQuery{Text: "budg*", Kind: KindMail}, nil},
		{"account", SearchQuery{Text: "präsentation", Account: anna}, nil},
		{"account anna", SearchQuery{Text: "会議", Account: anna}, []string{"m3"}},
		{"unknown account", SearchQuery{Text: "invoice", Account: "nobody"}, nil},
		{"deleted only", SearchQuery{Text: "invoice", DeletedOnly: true}, []string{"m4"}},
		{"from date", SearchQuery{Text: "invoice", From: day(5)}, []string{"m5"}},
		{"to date", SearchQuery{Text: "invoice", To: day(4)}, []string{"m4"}},
		{"date range", SearchQuery{Text: "präsentation", From: day(0), To: day(2)}, []string{"m1"}},
		{"folder prefix", SearchQuery{Text: "invoice", Folder: "Inbox"}, []string{"m5", "m4"}},
		{"exact folder", SearchQuery{Text: "invoice", Folder: "Inbox/Invoices/"}, []string{"m5", "m4"}},
		{"folder is a path segment", SearchQuery{Text: "invoice", Folder: "Inbox/Inv"}, nil},
		{"file folder", SearchQuery{Text: "pptx", Folder: "/Sales"}, []string{"f2"}},
		{"limit", SearchQuery{Text: "invoice", Limit: 1}, []string{"m5"}},
		{"offset", SearchQuery{Text: "invoice", Limit: 1, Offset: 1}, []string{"m4"}},
		{"no match", SearchQuery{Text: "zebra"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hits, err := c.Search(ctx, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, h := range hits {
				got = append(got, h.Item.ID)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSearchHits(t *testing.T) {
	c := searchCatalog(t)
	ctx := context.Background()
	hits, err := c.Search(ctx, SearchQuery{Text: "invoice march"})
	if err != nil || len(hits) != 1 {
		t.Fatalf("hits %+v, %v", hits, err)
	}
	h := hits[0]
	if !h.Deleted() || h.DeletedSeq != 2 || h.Name != "Invoice March" || h.Folder != "Inbox/Invoices" || h.Item.Account != paul ||
		h.InternetMessageID != "<m4@contoso.com>" || h.First != 1 || h.Last != 1 || h.End != 2 {
		t.Errorf("hit = %+v", h)
	}
	for _, tc := range []struct {
		q     SearchQuery
		match string
	}{
		{SearchQuery{Text: "folien"}, "Folien"},
		{SearchQuery{Text: "確認"}, "確認"},
		{SearchQuery{Text: "cafe", Kind: KindMail}, "Café"},
	} {
		hits, err := c.Search(ctx, tc.q)
		if err != nil || len(hits) == 0 {
			t.Fatalf("%+v: %v %v", tc.q, hits, err)
		}
		var matched []string
		var text strings.Builder
		for _, f := range hits[0].Snippet {
			text.WriteString(f.Text)
			if f.Match {
				matched = append(matched, f.Text)
			}
		}
		if !slices.Contains(matched, tc.match) || strings.ContainsAny(text.String(), "\x01\x02\u200b") {
			t.Errorf("%+v: snippet %+v, want match %q", tc.q, hits[0].Snippet, tc.match)
		}
	}
}

func TestSearchHostileInput(t *testing.T) {
	c := searchCatalog(t)
	ctx := context.Background()
	for _, q := range []string{
		`"unbalanced`, `AND OR NOT`, `*`, `(`, `)`, `name:thing`, `NEAR(a b)`, `a" OR "b`, `""`, `"" *`,
		`-invoice`, `^start`, `{people}: x`, "\x00", "\x01invoice\x02", `'; DROP TABLE items; --`, "invoice\u200b", "a*b*c", `**`,
	} {
		if _, err := c.Search(ctx, SearchQuery{Text: q}); err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("Search(%q): %v", q, err)
		}
		if _, err := c.Search(ctx, SearchQuery{People: q}); err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("Search(people %q): %v", q, err)
		}
	}
	if _, err := c.Search(ctx, SearchQuery{Text: "  "}); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty search: %v", err)
	}
}

func FuzzSearchQuery(f *testing.F) {
	for _, s := range []string{"invoice", `"total 1200"`, "budg*", "会議", `a"b`, "NEAR(", "x:y"} {
		f.Add(s)
	}
	c := searchCatalog(f)
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, s string) {
		if _, err := c.Search(ctx, SearchQuery{Text: s, People: s}); err != nil && !errors.Is(err, ErrInvalid) {
			t.Fatalf("Search(%q): %v", s, err)
		}
	})
}

func TestMetadataChangeKeepsText(t *testing.T) {
	c := newCatalog(t)
	ctx := context.Background()
	m := mail("m1", "Quarterly", "Inbox", day(0))
	m.Body = "numbers attached"
	m.People = []Person{{"Eve", "eve@example.com"}}
	snapshot(t, c, paul, SnapshotMail, day(0), false, up(m))
	m2 := mail("m1", "Quarterly", "Inbox", day(0))
	m2.Metadata = []byte(`{"isRead":true}`)
	snapshot(t, c, paul, SnapshotMail, day(1), false, up(m2))
	for _, q := range []SearchQuery{{Text: "numbers"}, {People: "eve"}} {
		hits, err := c.Search(ctx, q)
		if err != nil || len(hits) != 1 || string(hits[0].Metadata) != `{"isRead":true}` {
			t.Errorf("%+v after a metadata change: %+v %v", q, hits, err)
		}
	}
	// New content replaces the text.
	m3 := m2
	m3.Content = "blob-new"
	m3.Body = "fresh words"
	snapshot(t, c, paul, SnapshotMail, day(2), false, up(m3))
	if hits, _ := c.Search(ctx, SearchQuery{Text: "numbers"}); len(hits) != 0 {
		t.Errorf("old body still indexed: %+v", hits)
	}
	if hits, _ := c.Search(ctx, SearchQuery{Text: "fresh"}); len(hits) != 1 {
		t.Errorf("new body not indexed: %+v", hits)
	}
	if _, err := c.UpsertItemVersion(ctx, 3, Version{Item: ItemRef{paul, KindMail, "bad"}, Metadata: []byte("{nope")}); !errors.Is(err, ErrInvalid) {
		t.Errorf("invalid metadata: %v", err)
	}
}

func TestQueryPlan(t *testing.T) {
	// The search must walk the full-text index newest first and stop after
	// the page, whatever the filters: check the planner does not put
	// items or accounts in the outer loop or sort.
	c := searchCatalog(t)
	ctx := context.Background()
	for _, q := range []SearchQuery{
		{Text: "invoice"},
		{Text: "invoice", Account: paul, Kind: KindMail, DeletedOnly: true, Folder: "Inbox", From: day(1), To: day(9)},
	} {
		sqlText, args := searchSQL(q, matchExpr(q))
		rows, err := c.r.QueryContext(ctx, "EXPLAIN QUERY PLAN "+sqlText, args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		if len(plan) == 0 || !strings.HasPrefix(plan[0], "SCAN search VIRTUAL TABLE") || strings.Contains(strings.Join(plan, "\n"), "TEMP B-TREE") {
			t.Errorf("plan for %+v:\n%s", q, strings.Join(plan, "\n"))
		}
	}
}

func TestTextHelpers(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"hello world", "hello world"},
		{"会議", "会\u200b議"},
		{"明日の会議 ok", "明\u200b日\u200bの\u200b会\u200b議\u200b ok"},
		{"abc会", "abc\u200b会"},
		{"会\u200b議", "会\u200b議"}, // idempotent
		{"a\x01b\x02c", "abc"},
	} {
		if got := indexText(tc.in); got != tc.want {
			t.Errorf("indexText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"hello", 10, "hello"},
		{"hello", 3, "hel"},
		{"für", 2, "f"}, // does not split ü
		{"会議", 4, "会"},
	} {
		if got := truncateText(tc.in, tc.n); got != tc.want {
			t.Errorf("truncateText(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"invoice march", []string{`"invoice"`, `"march"`}},
		{`"total 1200" eur`, []string{`"total 1200"`, `"eur"`}},
		{`budg*`, []string{`"budg"*`}},
		{`"quarterly rep"*`, []string{`"quarterly rep"*`}},
		{`a"b`, []string{`"a""b"`}},
		{`"open`, []string{`"open"`}},
		{`会議`, []string{"\"会\u200b議\""}},
		{`* ( ) "" -`, nil},
	} {
		if got := queryTerms(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("queryTerms(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	got := parseSnippet("a \x01会\u200b議\x02 b…")
	want := []Fragment{{"a ", false}, {"会議", true}, {" b…", false}}
	if !slices.Equal(got, want) {
		t.Errorf("parseSnippet = %+v, want %+v", got, want)
	}
}
