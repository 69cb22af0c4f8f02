package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

const (
	markStart = '\x01' // snippet match markers; stripped from indexed text
	markEnd   = '\x02'
	zwsp      = '\u200B' // separates CJK characters into tokens
)

// isCJK reports whether r belongs to a script written without spaces
// between words, which unicode61 would otherwise index as one long token.
func isCJK(r rune) bool {
	return r >= 0x2E80 && (unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) ||
		unicode.Is(unicode.Katakana, r) || unicode.Is(unicode.Hangul, r) || r == 0x30FC)
}

// indexText prepares text for the index or a query: it drops NUL and the
// marker characters and puts a zero-width space around every CJK character so
// each becomes a token of its own.
func indexText(s string) string {
	var sb strings.Builder
	sb.Grow(len(s))
	prevCJK := false
	for _, r := range s {
		switch r {
		case 0, markStart, markEnd, zwsp:
			continue // NUL would end the string for FTS5's query parser
		}
		c := isCJK(r)
		if (c || prevCJK) && sb.Len() > 0 {
			sb.WriteRune(zwsp)
		}
		sb.WriteRune(r)
		prevCJK = c
	}
	return sb.String()
}

// truncateText cuts s to at most n bytes at a character boundary.
func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// searchText is the indexed text that does not come from the version row.
type searchText struct{ people, attachments, body string }

// keepUnless replaces the kept text with v's wherever v has some.
func (t *searchText) keepUnless(v *Version) {
	if len(v.People) > 0 {
		t.people = ""
	}
	if len(v.Attachments) > 0 {
		t.attachments = ""
	}
	if v.Body != "" {
		t.body = ""
	}
}

func formatPeople(ps []Person) string {
	var parts []string
	for _, p := range ps {
		switch {
		case p.Name != "" && p.Address != "":
			parts = append(parts, p.Name+" <"+p.Address+">")
		case p.Address != "":
			parts = append(parts, p.Address)
		case p.Name != "":
			parts = append(parts, p.Name)
		}
	}
	return strings.Join(parts, "; ")
}

// ftsRow is one row of the search table.
type ftsRow struct{ name, people, body, attachments, path, tags string }

func (r *ftsRow) size() int {
	return len(r.name) + len(r.people) + len(r.body) + len(r.attachments) + len(r.path) + len(r.tags)
}

// The tags column holds tokens for the account, the kind and whether the
// item is deleted, so those filters are intersections inside the
// full-text index rather than row-by-row checks of everything that
// matched the words.
const (
	tagAccount = "lbacct"
	tagKind    = "lbkind"
	tagDeleted = "lbdeleted"
)

func tagsFor(acct int64, kind ItemKind, deleted bool) string {
	t := tagAccount + strconv.FormatInt(acct, 10) + " " + tagKind + string(kind)
	if deleted {
		t += " " + tagDeleted
	}
	return t
}

// ftsOp is what a batch will do to one search rowid when it flushes:
// delete the row that is in the table (del), then insert row (if any).
//
// FTS5 writes a new index segment whenever a rowid is not larger than the
// previous one written, and search rowids follow the items' dates, not the
// order a backup meets them. So a batch collects its search changes and
// applies them in rowid order when it commits (or when they grow large).
type ftsOp struct {
	del bool
	row *ftsRow
}

// maxPendingSearch bounds the text a batch holds before flushing.
const maxPendingSearch = 32 << 20

// readRow returns the search row at key as this batch left it (nil if none).
func (b *Batch) readRow(key int64) (*ftsRow, error) {
	if op, ok := b.fts[key]; ok {
		return op.row, nil
	}
	var r ftsRow
	err := b.queryRow("SELECT name, people, body, attachments, path, tags FROM search WHERE rowid=?", key).
		Scan(&r.name, &r.people, &r.body, &r.attachments, &r.path, &r.tags)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return &r, err
}

func (b *Batch) readSearch(key int64) (searchText, error) {
	r, err := b.readRow(key)
	if r == nil || err != nil {
		return searchText{}, err
	}
	return searchText{r.people, r.attachments, r.body}, nil
}

// retag rewrites the tags of the search row at key.
func (b *Batch) retag(key int64, deleted bool) error {
	r, err := b.readRow(key)
	if r == nil || err != nil {
		return err
	}
	nr := *r
	nr.tags = tagsFor(b.acct, b.kind, deleted)
	if nr.tags == r.tags {
		return nil
	}
	b.searchDelete(key)
	return b.searchPut(key, &nr)
}

// searchDelete schedules the removal of search row key.
func (b *Batch) searchDelete(key int64) {
	op, ok := b.fts[key]
	if !ok {
		op = &ftsOp{del: true}
		b.fts[key] = op
	}
	if op.row != nil {
		b.ftsBytes -= op.row.size()
	}
	op.row = nil
}

// searchPut schedules row to be written at key.
func (b *Batch) searchPut(key int64, row *ftsRow) error {
	op, ok := b.fts[key]
	if !ok {
		// A key not yet touched by this batch has no row: keys are unique
		// in items and every search row belongs to an item.
		op = &ftsOp{}
		b.fts[key] = op
	}
	if op.row != nil {
		b.ftsBytes -= op.row.size()
	}
	op.row = row
	b.ftsBytes += row.size()
	if b.ftsBytes > maxPendingSearch {
		return b.flushSearch()
	}
	return nil
}

// flushSearch applies the pending search changes in rowid order.
func (b *Batch) flushSearch() error {
	keys := make([]int64, 0, len(b.fts))
	for k := range b.fts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		op := b.fts[k]
		if op.del {
			if _, err := b.exec("DELETE FROM search WHERE rowid=?", k); err != nil {
				return err
			}
		}
		if r := op.row; r != nil {
			if _, err := b.exec("INSERT INTO search(rowid, name, people, body, attachments, path, tags) VALUES (?, ?, ?, ?, ?, ?, ?)",
				k, r.name, r.people, r.body, r.attachments, r.path, r.tags); err != nil {
				return err
			}
		}
	}
	clear(b.fts)
	b.ftsBytes = 0
	return nil
}

// writeSearch replaces the search row oldKey (0: none) with one at newKey
// for v; kept supplies the text v leaves empty.
func (b *Batch) writeSearch(oldKey, newKey int64, v *Version, kept searchText, deleted bool) error {
	if oldKey != 0 {
		b.searchDelete(oldKey)
		if newKey != oldKey {
			if _, err := b.exec("UPDATE items SET sort_key=? WHERE sort_key=?", newKey, oldKey); err != nil {
				return err
			}
		}
	}
	row := &ftsRow{people: kept.people, attachments: kept.attachments, body: kept.body}
	if len(v.People) > 0 {
		row.people = indexText(formatPeople(v.People))
	}
	if len(v.Attachments) > 0 {
		row.attachments = indexText(strings.Join(v.Attachments, "\n"))
	}
	if v.Body != "" {
		row.body = indexText(truncateText(v.Body, b.c.opts.MaxBodyText))
	}
	path := v.Folder
	if v.Item.Kind == KindFile {
		path = strings.TrimSuffix(v.Folder, "/") + "/" + v.Name
	}
	row.name, row.path = indexText(v.Name), indexText(path)
	row.tags = tagsFor(b.acct, b.kind, deleted)
	return b.searchPut(newKey, row)
}

// SearchQuery is what Search looks for. Words are matched in any order
// and must all be present; "double quotes" make a phrase and a trailing *
// a prefix (budg* finds budget.xlsx). Case and accents are ignored.
type SearchQuery struct {
	Text   string // words anywhere: subject or name, people, body, attachment names, path
	People string // words in senders and recipients (names or addresses) only

	Account     string    // Account.HomeID; empty for all
	Kind        ItemKind  // KindMail, KindFile or empty for both
	From, To    time.Time // item date range, inclusive; zero for open
	Folder      string    // only items in this folder or below it
	DeletedOnly bool      // only items that have been deleted

	Limit  int // default 50, at most 1000
	Offset int
}

// Fragment is a piece of a snippet; Match pieces matched the query.
type Fragment struct {
	Text  string
	Match bool
}

// Hit is one search result: an item with its newest version.
type Hit struct {
	VersionInfo
	DeletedSeq int64      // the snapshot that found it deleted; 0 if it still exists
	Snippet    []Fragment // the best-matching passage
}

// Deleted reports whether the item has been deleted.
func (h Hit) Deleted() bool { return h.DeletedSeq != 0 }

// queryTerms splits user input into FTS5 terms: each a quoted string
// (tokenized like the index, so CJK words become phrases), with * kept
// for prefixes. Input never yields an FTS5 syntax error.
func queryTerms(s string) []string {
	var terms []string
	add := func(t string, prefix bool) {
		t = indexText(t)
		if !strings.ContainsFunc(t, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsNumber(r) }) {
			return
		}
		q := `"` + strings.ReplaceAll(t, `"`, `""`) + `"`
		if prefix {
			q += "*"
		}
		terms = append(terms, q)
	}
	for s != "" {
		s = strings.TrimLeftFunc(s, unicode.IsSpace)
		if s == "" {
			break
		}
		if s[0] == '"' {
			end := strings.IndexByte(s[1:], '"')
			if end < 0 {
				add(s[1:], false)
				break
			}
			phrase, rest := s[1:1+end], s[2+end:]
			prefix := strings.HasPrefix(rest, "*")
			add(phrase, prefix)
			s = strings.TrimPrefix(rest, "*")
			continue
		}
		end := strings.IndexFunc(s, unicode.IsSpace)
		if end < 0 {
			end = len(s)
		}
		w := s[:end]
		s = s[end:]
		prefix := strings.HasSuffix(w, "*")
		add(strings.TrimRight(w, "*"), prefix)
	}
	return terms
}

// matchExpr builds the FTS5 MATCH expression for q ("" if nothing to match).
func matchExpr(q SearchQuery) string {
	var parts []string
	parts = append(parts, queryTerms(q.Text)...)
	if p := queryTerms(q.People); len(p) > 0 {
		parts = append(parts, "people : ("+strings.Join(p, " AND ")+")")
	}
	return strings.Join(parts, " AND ")
}

// filterTerms returns the tag terms that restrict a match to an account
// (0: any), a kind ("": any) and deleted items.
func filterTerms(acct int64, kind ItemKind, deleted bool) string {
	var sb strings.Builder
	if acct != 0 {
		fmt.Fprintf(&sb, ` AND tags : "%s%d"`, tagAccount, acct)
	}
	if kind != "" {
		fmt.Fprintf(&sb, ` AND tags : "%s%s"`, tagKind, strings.ReplaceAll(string(kind), `"`, `""`))
	}
	if deleted {
		sb.WriteString(` AND tags : "` + tagDeleted + `"`)
	}
	return sb.String()
}

// folderBounds returns the range of folder values strictly below f.
func folderBounds(f string) (lo, hi string) {
	f = strings.TrimSuffix(f, "/")
	return f + "/", f + "0" // '0' follows '/'
}

const versionCols = `v.id, v.item_id, a.home_id, i.kind, i.ext_id, i.message_id, v.content, v.size, v.name, v.folder, v.time, v.metadata,
v.first_seq, coalesce(v.last_seq, 0), coalesce(v.end_seq, 0)`

func scanVersion(sc interface{ Scan(...any) error }, extra ...any) (VersionInfo, error) {
	var v VersionInfo
	var kind, meta string
	var t int64
	dst := append([]any{&v.ID, &v.ItemID, &v.Item.Account, &kind, &v.Item.ID, &v.InternetMessageID, &v.Content, &v.Size,
		&v.Name, &v.Folder, &t, &meta, &v.First, &v.Last, &v.End}, extra...)
	err := sc.Scan(dst...)
	v.Item.Kind, v.Time, v.Metadata = ItemKind(kind), fromMS(t), []byte(meta)
	return v, err
}

// Search runs a full-text search, newest items first (by the item's
// date). Deleted items are found too, marked as such; each hit carries the
// item's newest version.
func (c *Catalog) Search(ctx context.Context, q SearchQuery) ([]Hit, error) {
	switch q.Kind {
	case "", KindMail, KindFile, KindEvent, KindContact, KindChatMessage, KindGroupPost:
	default:
		return nil, fmt.Errorf("catalog: search: %w: kind %q", ErrInvalid, q.Kind)
	}
	expr := matchExpr(q)
	if expr == "" {
		return nil, fmt.Errorf("catalog: search: %w: nothing to search for", ErrInvalid)
	}
	var out []Hit
	err := c.readTx(ctx, "search", func(tx *sql.Tx) error {
		var acct int64
		if q.Account != "" {
			var err error
			if acct, err = accountID(ctx, tx, q.Account); errors.Is(err, ErrNotFound) {
				return nil // no such account: nothing matches
			} else if err != nil {
				return err
			}
		}
		sqlText, args := searchSQL(q, expr+filterTerms(acct, q.Kind, q.DeletedOnly))
		rows, err := tx.QueryContext(ctx, sqlText, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var h Hit
			var snip string
			if h.VersionInfo, err = scanVersion(rows, &h.DeletedSeq, &snip); err != nil {
				return err
			}
			h.Snippet = parseSnippet(snip)
			out = append(out, h)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		return fillLast(ctx, tx, toPtrs(out, func(h *Hit) *VersionInfo { return &h.VersionInfo }))
	})
	return out, err
}

// searchSQL builds the search statement for q and its MATCH expression.
func searchSQL(q SearchQuery, expr string) (string, []any) {
	lo, hi := int64(0), int64(math.MaxInt64)
	if !q.From.IsZero() {
		lo = sortBase(q.From)
	}
	if !q.To.IsZero() {
		hi = sortBase(q.To) + (1 << sortShift) - 1
	}
	var sb strings.Builder
	sb.WriteString(`SELECT ` + versionCols + `, coalesce(i.deleted_seq, 0), snippet(search, -1, char(1), char(2), '…', 24)
FROM search JOIN items i ON i.sort_key = search.rowid JOIN versions v ON v.id = i.cur_version JOIN accounts a ON a.id = i.account_id
WHERE search MATCH ? AND search.rowid BETWEEN ? AND ?`)
	args := []any{expr, lo, hi}
	// Filters use unary + so the planner keeps the full-text index as the
	// outer loop, walking it newest first and stopping after the page.
	if q.Account != "" {
		sb.WriteString(" AND +i.account_id = (SELECT id FROM accounts WHERE home_id = ?)")
		args = append(args, q.Account)
	}
	if q.Kind != "" {
		sb.WriteString(" AND +i.kind = ?")
		args = append(args, string(q.Kind))
	}
	if q.DeletedOnly {
		sb.WriteString(" AND +i.deleted_seq IS NOT NULL")
	}
	if q.Folder != "" && strings.Trim(q.Folder, "/") != "" {
		flo, fhi := folderBounds(q.Folder)
		sb.WriteString(" AND (+v.folder = ? OR (+v.folder >= ? AND +v.folder < ?))")
		args = append(args, strings.TrimSuffix(q.Folder, "/"), flo, fhi)
	}
	sb.WriteString(" ORDER BY search.rowid DESC LIMIT ? OFFSET ?")
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	args = append(args, min(limit, 1000), max(q.Offset, 0))
	return sb.String(), args
}

// parseSnippet splits FTS5's marked snippet into fragments and removes
// the zero-width spaces indexText added.
func parseSnippet(s string) []Fragment {
	var out []Fragment
	match := false
	for s != "" {
		i := strings.IndexAny(s, "\x01\x02")
		part := s
		if i >= 0 {
			part = s[:i]
		}
		if part = strings.ReplaceAll(part, string(zwsp), ""); part != "" {
			out = append(out, Fragment{Text: part, Match: match})
		}
		if i < 0 {
			break
		}
		match = s[i] == markStart
		s = s[i+1:]
	}
	return out
}

func toPtrs[T any](s []T, f func(*T) *VersionInfo) []*VersionInfo {
	out := make([]*VersionInfo, len(s))
	for i := range s {
		out[i] = f(&s[i])
	}
	return out
}
