package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/graph"
	"github.com/lifeboat-backup/lifeboat/engine/repo"
	"github.com/lifeboat-backup/lifeboat/engine/restore"
)

// The browse and restore commands name things two ways, both copied from
// their output:
//   - ITEM is a version handle, "v123" (catalog.VersionInfo.ID): find and ls
//     print the version they show, versions prints every version;
//   - PATH is ACCOUNT/mail/FOLDER/... or ACCOUNT/files/FOLDER/.../NAME, where
//     ACCOUNT is the e-mail address (ls without a PATH lists them).

// browseOptions are the flags shared by ls, find, versions and restore.
type browseOptions struct {
	repo repoOptions
	json bool
}

func addBrowseFlags(cmd *cobra.Command, o *browseOptions) {
	addRepoFlags(cmd, &o.repo, true)
	cmd.Flags().BoolVar(&o.json, "json", false, "print JSON, one object a line")
}

// newRestoreCommands returns ls, find, versions and restore.
func newRestoreCommands(g *globals) []*cobra.Command {
	var lo, fo, vo browseOptions
	var at string
	ls := &cobra.Command{
		Use:   "ls [--at DATE|SNAPSHOT] [PATH]",
		Short: "List mail folders and OneDrive folders as they were in a backup",
		Long: "List what the backup held at a point in time (the newest backup by default). PATH is\n" +
			"ACCOUNT/mail/FOLDER... or ACCOUNT/files/FOLDER...; without it, the accounts are listed.\n" +
			"Each item starts with its handle (v123) for `lifeboat versions` and `lifeboat restore`.\n" +
			"--at takes a date (2026-03-14), a date and time (\"2026-03-14 15:04\"), or a snapshot ID.",
		Args: requireArgs(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			p := ""
			if len(args) == 1 {
				p = args[0]
			}
			return runLs(cmd.Context(), g, lo, at, p)
		},
	}
	addBrowseFlags(ls, &lo)
	ls.Flags().StringVar(&at, "at", "", "as of this date, time or snapshot ID (default: the newest backup)")

	var ff findFlags
	find := &cobra.Command{
		Use:   "find QUERY [--from DATE --until DATE --mail|--files --folder F --deleted]",
		Short: "Search every backup for mail and files",
		Long: "Search subjects, senders and recipients, message text, attachment names, and file names\n" +
			"and paths, across every backup, newest first. Words must all match; \"quotes\" make a\n" +
			"phrase and budg* a prefix. --deleted shows only what has since been deleted (with no\n" +
			"QUERY: everything deleted, most recently deleted first).",
		Args: requireArgs(cobra.ArbitraryArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runFind(cmd.Context(), g, fo, ff, strings.Join(args, " "))
		},
	}
	addBrowseFlags(find, &fo)
	f := find.Flags()
	f.StringVar(&ff.from, "from", "", "only items dated on or after this date")
	f.StringVar(&ff.until, "until", "", "only items dated on or before this date")
	f.BoolVar(&ff.mail, "mail", false, "only mail")
	f.BoolVar(&ff.files, "files", false, "only files")
	f.StringVar(&ff.folder, "folder", "", "only in this folder and below (Inbox/Invoices, Documents)")
	f.BoolVar(&ff.deleted, "deleted", false, "only items that have been deleted")
	f.StringVar(&ff.account, "account", "", "only this account (e-mail address)")
	f.IntVar(&ff.limit, "limit", 50, "show at most this many")

	versions := &cobra.Command{
		Use:   "versions ITEM",
		Short: "List every version of an item the backup holds",
		Args:  requireArgs(cobra.ExactArgs(1)),
		RunE:  func(cmd *cobra.Command, args []string) error { return runVersions(cmd.Context(), g, vo, args[0]) },
	}
	addBrowseFlags(versions, &vo)

	var ro restoreFlags
	rest := &cobra.Command{
		Use:   "restore ITEM|PATH... (--to-original | --to-new-folder | --to-dir DIR) [--at DATE] [--conflict rename|overwrite|skip] [--dry-run]",
		Short: "Put mail and files back, or save them to a folder on this computer",
		Long: "Restore items (v123, as find, ls and versions print them) or whole folders (a PATH as ls\n" +
			"prints it; ACCOUNT/mail or ACCOUNT/files for everything):\n" +
			"  --to-original    back where they were (missing folders are recreated)\n" +
			"  --to-new-folder  into a new folder \"Restored by Lifeboat <date>\" in the mailbox or OneDrive\n" +
			"  --to-dir DIR     into a folder on this computer: mail as .eml files, files with their dates\n" +
			"--at restores each item as it was at that date (folders: as the backup of that time held them).\n" +
			"When something is already there: rename keeps both (default), overwrite replaces it, skip\n" +
			"leaves it. --dry-run shows what would happen and changes nothing. An interrupted restore\n" +
			"continues where it stopped when the same command is run again.",
		Args: requireArgs(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error { return runRestore(cmd.Context(), g, ro, args) },
	}
	addBrowseFlags(rest, &ro.browseOptions)
	f = rest.Flags()
	f.BoolVar(&ro.toOriginal, "to-original", false, "restore to where each item was")
	f.BoolVar(&ro.toNewFolder, "to-new-folder", false, "restore into a new \"Restored by Lifeboat <date>\" folder")
	f.StringVar(&ro.toDir, "to-dir", "", "save into this folder on this computer")
	f.StringVar(&ro.at, "at", "", "restore items as they were at this date, time or snapshot ID")
	f.StringVar(&ro.conflict, "conflict", "rename", "when something is already there: rename (keep both), overwrite or skip")
	f.BoolVar(&ro.dryRun, "dry-run", false, "only show what would be created, renamed, overwritten or skipped")
	f.StringVar(&ro.auth.clientID, "client-id", "", "application (client) ID to sign in with; also LIFEBOAT_CLIENT_ID")
	return []*cobra.Command{ls, find, versions, rest}
}

// browser is an open backup and this computer's catalog of it.
type browser struct {
	g        *globals
	r        *repo.Repository
	c        *catalog.Catalog
	accounts []catalog.Account
	snaps    map[int64]catalog.Snapshot
}

func openBrowser(ctx context.Context, g *globals, o repoOptions) (*browser, error) {
	dir, err := o.destination()
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil, exitError{exitDestinationMissing, driveNotFound(dir)}
	}
	r, err := openRepo(ctx, g, o)
	if err != nil {
		return nil, err
	}
	path, err := localCatalogPath(r)
	if err != nil {
		r.Close()
		return nil, err
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		r.Close()
		return nil, fmt.Errorf("this computer has no catalog of the backup in %s yet; run `lifeboat repair --to %s` to restore it from the backup", dir, dir)
	}
	c, err := catalog.Open(ctx, path, catalog.Options{})
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("opening the local catalog: %w", err)
	}
	accts, err := c.Accounts(ctx)
	if err != nil {
		c.Close()
		r.Close()
		return nil, err
	}
	return &browser{g: g, r: r, c: c, accounts: accts, snaps: map[int64]catalog.Snapshot{}}, nil
}

func (b *browser) Close() {
	b.c.Close()
	b.r.Close()
}

// account finds an account by e-mail address or id.
func (b *browser) account(s string) (catalog.Account, error) {
	for _, a := range b.accounts {
		if strings.EqualFold(a.UPN, s) || a.HomeID == s {
			return a, nil
		}
	}
	var names []string
	for _, a := range b.accounts {
		names = append(names, a.UPN)
	}
	return catalog.Account{}, usageError{fmt.Errorf("no account %q in this backup (it has: %s)", s, strings.Join(names, ", "))}
}

// upn names an account for a person.
func (b *browser) upn(homeID string) string {
	for _, a := range b.accounts {
		if a.HomeID == homeID {
			return a.UPN
		}
	}
	return homeID
}

func (b *browser) snapshotTime(seq int64) time.Time {
	if s, ok := b.snaps[seq]; ok {
		return s.Time
	}
	s, err := b.c.GetSnapshot(context.Background(), seq)
	if err != nil {
		return time.Time{}
	}
	b.snaps[seq] = s
	return s.Time
}

// kindSegment is the PATH segment of a kind.
func kindSegment(k catalog.ItemKind) string {
	if k == catalog.KindMail {
		return "mail"
	}
	return "files"
}

// itemPath is the PATH of an item's folder.
func (b *browser) folderPath(v catalog.VersionInfo) string {
	return strings.TrimSuffix(b.upn(v.Item.Account)+"/"+kindSegment(v.Item.Kind)+"/"+v.Folder, "/")
}

// location is a parsed PATH.
type location struct {
	account catalog.Account
	kind    catalog.ItemKind // "" for the account itself
	folder  string
}

func (b *browser) parsePath(p string) (location, error) {
	p = strings.Trim(p, "/")
	parts := strings.SplitN(p, "/", 3)
	a, err := b.account(parts[0])
	if err != nil {
		return location{}, err
	}
	loc := location{account: a}
	if len(parts) == 1 {
		return loc, nil
	}
	switch parts[1] {
	case "mail":
		loc.kind = catalog.KindMail
	case "files", "onedrive":
		loc.kind = catalog.KindFile
	default:
		return loc, usageError{fmt.Errorf("path %q: after the account comes mail or files", p)}
	}
	if len(parts) == 3 {
		loc.folder = parts[2]
	}
	return loc, nil
}

// parseAt reads --at: a snapshot ID (hex prefix of one of the stream's
// snapshots) or a date/time; it fills the query's Snapshot or Time.
func (b *browser) parseAt(ctx context.Context, at string, q *catalog.AsOfQuery) error {
	if at == "" {
		return nil
	}
	if t, err := parseWhen(at, true); err == nil {
		q.Time = t
		return nil
	}
	sk, err := q.Kind.SnapshotKind()
	if err != nil {
		return err
	}
	snaps, err := b.c.Snapshots(ctx, q.Account, sk)
	if err != nil {
		return err
	}
	for _, s := range snaps {
		if len(at) >= 4 && strings.HasPrefix(s.RepoID, strings.ToLower(at)) {
			q.Snapshot = s.Seq
			return nil
		}
	}
	return usageError{fmt.Errorf("--at %q: not a date (2026-03-14, \"2026-03-14 15:04\") nor a snapshot of %s's %s", at, b.upn(q.Account), sk)}
}

// parseWhen reads a date or date and time in local time, or RFC 3339. A
// bare date means its end when endOfDay (what a backup "on" that day held).
func parseWhen(s string, endOfDay bool) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02T15:04"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	t, err := time.ParseInLocation(time.DateOnly, s, time.Local)
	if err != nil {
		return time.Time{}, usageError{fmt.Errorf("%q is not a date: use 2026-03-14 or \"2026-03-14 15:04\"", s)}
	}
	if endOfDay {
		t = t.AddDate(0, 0, 1).Add(-time.Millisecond)
	}
	return t, nil
}

// itemJSON is one item in --json output.
type itemJSON struct {
	Type      string    `json:"type"`
	Item      string    `json:"item,omitempty"`
	Account   string    `json:"account,omitempty"`
	Kind      string    `json:"kind,omitempty"`
	Path      string    `json:"path,omitempty"`
	Folder    string    `json:"folder,omitempty"`
	Name      string    `json:"name,omitempty"`
	Time      time.Time `json:"time,omitzero"`
	Size      int64     `json:"size,omitempty"`
	Deleted   time.Time `json:"deleted,omitzero"`
	FirstSeen time.Time `json:"firstSeen,omitzero"`
	LastSeen  time.Time `json:"lastSeen,omitzero"`
	Current   bool      `json:"current,omitempty"`
	Snippet   string    `json:"snippet,omitempty"`
}

func handle(v catalog.VersionInfo) string { return "v" + strconv.FormatInt(v.ID, 10) }

func (b *browser) itemJSON(v catalog.VersionInfo) itemJSON {
	return itemJSON{Type: string(v.Item.Kind), Item: handle(v), Account: b.upn(v.Item.Account), Kind: string(v.Item.Kind),
		Path: b.folderPath(v), Folder: v.Folder, Name: v.Name, Time: v.Time, Size: v.Size}
}

func printJSON(w io.Writer, v any) {
	out, _ := json.Marshal(v)
	fmt.Fprintln(w, string(out))
}

// itemLine is one item for a person: handle, date, size, name.
func itemLine(v catalog.VersionInfo) string {
	name := v.Name
	if name == "" && v.Item.Kind == catalog.KindMail {
		name = "(no subject)"
	}
	return fmt.Sprintf("%-8s  %s  %9s  %s", handle(v), v.Time.Local().Format("2006-01-02 15:04"), formatBytes(v.Size), printable(name))
}

// printable keeps control characters in names from a backup off the
// terminal (they could move the cursor or recolour output).
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return '?'
		}
		return r
	}, s)
}

func runLs(ctx context.Context, g *globals, o browseOptions, at, p string) error {
	b, err := openBrowser(ctx, g, o.repo)
	if err != nil {
		return err
	}
	defer b.Close()
	w := g.stdout
	if strings.Trim(p, "/") == "" {
		for _, a := range b.accounts {
			if o.json {
				printJSON(w, itemJSON{Type: "account", Account: a.UPN, Path: a.UPN, Name: a.DisplayName})
				continue
			}
			fmt.Fprintf(w, "%s/\t%s\n", a.UPN, printable(a.DisplayName))
		}
		return nil
	}
	loc, err := b.parsePath(p)
	if err != nil {
		return err
	}
	if loc.kind == "" {
		for _, k := range []string{"mail", "files"} {
			if o.json {
				printJSON(w, itemJSON{Type: "folder", Account: loc.account.UPN, Path: loc.account.UPN + "/" + k})
				continue
			}
			fmt.Fprintf(w, "%s/%s/\n", loc.account.UPN, k)
		}
		return nil
	}
	q := catalog.AsOfQuery{Account: loc.account.HomeID, Kind: loc.kind, Folder: loc.folder}
	if err := b.parseAt(ctx, at, &q); err != nil {
		return err
	}
	snap, items, err := restore.ItemsAsOf(ctx, b.c, q)
	if errors.Is(err, catalog.ErrNoSnapshot) {
		return fmt.Errorf("no backup of %s's %s at that time", loc.account.UPN, kindSegment(loc.kind))
	}
	if err != nil {
		return err
	}
	folders, err := b.c.Folders(ctx, catalog.AsOfQuery{Account: q.Account, Kind: q.Kind, Snapshot: snap.Seq})
	if err != nil {
		return err
	}
	children := childFolders(folders, loc.folder)
	if len(items) == 0 && len(children) == 0 && loc.folder != "" {
		// PATH may name one file or message: look in its parent.
		parent, name := "", loc.folder
		if i := strings.LastIndexByte(loc.folder, '/'); i >= 0 {
			parent, name = loc.folder[:i], loc.folder[i+1:]
		}
		q.Folder, q.Snapshot = parent, snap.Seq
		_, all, err := restore.ItemsAsOf(ctx, b.c, q)
		if err != nil {
			return err
		}
		for _, v := range all {
			if v.Name == name {
				items = append(items, v)
			}
		}
		if len(items) == 0 {
			return fmt.Errorf("nothing at %s in the backup of %s", p, snap.Time.Local().Format(time.DateTime))
		}
	}
	base := loc.account.UPN + "/" + kindSegment(loc.kind)
	if !o.json {
		fmt.Fprintf(w, "As backed up %s:\n", snap.Time.Local().Format(time.DateTime))
	}
	for _, c := range children {
		full := strings.TrimPrefix(loc.folder+"/"+c, "/")
		if o.json {
			printJSON(w, itemJSON{Type: "folder", Account: loc.account.UPN, Kind: string(loc.kind), Path: base + "/" + full, Folder: full})
			continue
		}
		fmt.Fprintf(w, "%-8s  %s/\n", "", printable(base+"/"+full))
	}
	for _, v := range items {
		if o.json {
			printJSON(w, b.itemJSON(v))
			continue
		}
		fmt.Fprintln(w, itemLine(v))
	}
	return nil
}

// childFolders lists the names of the folders directly inside parent.
func childFolders(all []string, parent string) []string {
	var out []string
	for _, f := range all {
		rest := f
		if parent != "" {
			var ok bool
			if rest, ok = strings.CutPrefix(f, parent+"/"); !ok {
				continue
			}
		}
		if rest == "" {
			continue
		}
		name, _, _ := strings.Cut(rest, "/")
		out = append(out, name)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

type findFlags struct {
	from, until, folder, account string
	mail, files, deleted         bool
	limit                        int
}

func runFind(ctx context.Context, g *globals, o browseOptions, ff findFlags, text string) error {
	q := catalog.SearchQuery{Text: strings.TrimSpace(text), Folder: strings.Trim(ff.folder, "/"), DeletedOnly: ff.deleted, Limit: ff.limit}
	switch {
	case ff.mail && ff.files:
		return usageError{errors.New("--mail and --files: choose one (or neither for both)")}
	case ff.mail:
		q.Kind = catalog.KindMail
	case ff.files:
		q.Kind = catalog.KindFile
	}
	var err error
	if ff.from != "" {
		if q.From, err = parseWhen(ff.from, false); err != nil {
			return err
		}
	}
	if ff.until != "" {
		if q.To, err = parseWhen(ff.until, true); err != nil {
			return err
		}
	}
	if q.Text == "" && !q.DeletedOnly {
		return usageError{errors.New("find: give words to look for, or --deleted for everything deleted")}
	}
	b, err := openBrowser(ctx, g, o.repo)
	if err != nil {
		return err
	}
	defer b.Close()
	if ff.account != "" {
		a, err := b.account(ff.account)
		if err != nil {
			return err
		}
		q.Account = a.HomeID
	}
	type hit struct {
		v       catalog.VersionInfo
		deleted time.Time
		snippet string
	}
	var hits []hit
	if q.Text == "" {
		ds, err := b.c.DeletedSince(ctx, q.Account, time.Time{}, 100000)
		if err != nil {
			return err
		}
		for _, d := range ds {
			v := d.VersionInfo
			if (q.Kind != "" && v.Item.Kind != q.Kind) || (!q.From.IsZero() && v.Time.Before(q.From)) || (!q.To.IsZero() && v.Time.After(q.To)) ||
				(q.Folder != "" && v.Folder != q.Folder && !strings.HasPrefix(v.Folder, q.Folder+"/")) {
				continue
			}
			hits = append(hits, hit{v: v, deleted: d.DeletedAt})
			if len(hits) == q.Limit {
				break
			}
		}
	} else {
		hs, err := b.c.Search(ctx, q)
		if err != nil {
			return err
		}
		for _, h := range hs {
			x := hit{v: h.VersionInfo}
			if h.Deleted() {
				x.deleted = b.snapshotTime(h.DeletedSeq)
			}
			var sb strings.Builder
			for _, f := range h.Snippet {
				sb.WriteString(f.Text)
			}
			x.snippet = sb.String()
			hits = append(hits, x)
		}
	}
	w := g.stdout
	for _, h := range hits {
		if o.json {
			j := b.itemJSON(h.v)
			j.Deleted, j.Snippet = h.deleted, h.snippet
			printJSON(w, j)
			continue
		}
		line := itemLine(h.v) + "  in " + printable(b.folderPath(h.v))
		if !h.deleted.IsZero() {
			line += "  (deleted by " + h.deleted.Local().Format("2006-01-02 15:04") + ")"
		}
		fmt.Fprintln(w, line)
	}
	if !o.json && len(hits) == 0 {
		fmt.Fprintln(w, "Nothing found.")
	}
	return nil
}

// version resolves an ITEM handle.
func (b *browser) version(ctx context.Context, s string) (catalog.VersionInfo, error) {
	n, err := strconv.ParseInt(strings.TrimPrefix(strings.ToLower(s), "v"), 10, 64)
	if err != nil || n <= 0 {
		return catalog.VersionInfo{}, usageError{fmt.Errorf("%q is not an item: use the v123 handle that find, ls or versions print", s)}
	}
	v, err := b.c.Version(ctx, n)
	if errors.Is(err, catalog.ErrNotFound) {
		return v, usageError{fmt.Errorf("there is no item %s in this backup's catalog", s)}
	}
	return v, err
}

func runVersions(ctx context.Context, g *globals, o browseOptions, item string) error {
	b, err := openBrowser(ctx, g, o.repo)
	if err != nil {
		return err
	}
	defer b.Close()
	v, err := b.version(ctx, item)
	if err != nil {
		return err
	}
	vs, err := b.c.Versions(ctx, v.Item)
	if err != nil {
		return err
	}
	w := g.stdout
	if !o.json {
		fmt.Fprintf(w, "%s in %s: %d versions, newest first\n", printable(v.Name), printable(b.folderPath(v)), len(vs))
	}
	for _, x := range vs {
		first, last := b.snapshotTime(x.First), b.snapshotTime(x.Last)
		if o.json {
			j := b.itemJSON(x)
			j.FirstSeen, j.LastSeen, j.Current = first, last, x.Current()
			printJSON(w, j)
			continue
		}
		state := "current"
		if !x.Current() {
			state = "until " + b.snapshotTime(x.End).Local().Format("2006-01-02 15:04")
		}
		fmt.Fprintf(w, "%s  backed up %s … %s (%s)\n", itemLine(x), first.Local().Format("2006-01-02 15:04"), last.Local().Format("2006-01-02 15:04"), state)
	}
	return nil
}

type restoreFlags struct {
	browseOptions
	auth                    authOptions
	toOriginal, toNewFolder bool
	toDir, at, conflict     string
	dryRun                  bool
}

// selectItems resolves ITEM handles and PATHs to the versions to restore.
func (b *browser) selectItems(ctx context.Context, args []string, at string) ([]catalog.VersionInfo, error) {
	var out []catalog.VersionInfo
	for _, a := range args {
		if !strings.Contains(a, "/") {
			v, err := b.version(ctx, a)
			if err != nil {
				return nil, err
			}
			if at != "" {
				q := catalog.AsOfQuery{Account: v.Item.Account, Kind: v.Item.Kind}
				if err := b.parseAt(ctx, at, &q); err != nil {
					return nil, err
				}
				t := q.Time
				if q.Snapshot != 0 {
					t = b.snapshotTime(q.Snapshot)
				}
				if v, err = restore.VersionAt(ctx, b.c, v.Item, t); err != nil {
					return nil, fmt.Errorf("%s: %w", a, err)
				}
			}
			out = append(out, v)
			continue
		}
		loc, err := b.parsePath(a)
		if err != nil {
			return nil, err
		}
		if loc.kind == "" {
			return nil, usageError{fmt.Errorf("%s: say what to restore: %s/mail or %s/files (or a folder in them)", a, loc.account.UPN, loc.account.UPN)}
		}
		q := catalog.AsOfQuery{Account: loc.account.HomeID, Kind: loc.kind, Folder: loc.folder, Recursive: true}
		if err := b.parseAt(ctx, at, &q); err != nil {
			return nil, err
		}
		snap, items, err := restore.ItemsAsOf(ctx, b.c, q)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", a, err)
		}
		if len(items) == 0 && loc.folder != "" {
			parent, name := "", loc.folder
			if i := strings.LastIndexByte(loc.folder, '/'); i >= 0 {
				parent, name = loc.folder[:i], loc.folder[i+1:]
			}
			q.Folder, q.Recursive, q.Snapshot = parent, false, snap.Seq
			_, all, err := restore.ItemsAsOf(ctx, b.c, q)
			if err != nil {
				return nil, err
			}
			for _, v := range all {
				if v.Name == name {
					items = append(items, v)
				}
			}
		}
		if len(items) == 0 {
			return nil, fmt.Errorf("nothing at %s in the backup of %s", a, snap.Time.Local().Format(time.DateTime))
		}
		out = append(out, items...)
	}
	return out, nil
}

func runRestore(ctx context.Context, g *globals, o restoreFlags, args []string) error {
	n := 0
	for _, set := range []bool{o.toOriginal, o.toNewFolder, o.toDir != ""} {
		if set {
			n++
		}
	}
	if n != 1 {
		return usageError{errors.New("restore: choose one of --to-original, --to-new-folder or --to-dir DIR")}
	}
	conflict, err := restore.ParseConflict(o.conflict)
	if err != nil {
		return usageError{err}
	}
	b, err := openBrowser(ctx, g, o.repo)
	if err != nil {
		return err
	}
	defer b.Close()
	items, err := b.selectItems(ctx, args, o.at)
	if err != nil {
		return err
	}
	// A shared lock: a prune must not delete data while it is restored.
	lock, err := b.r.Lock(ctx, false)
	if err != nil {
		return fmt.Errorf("cannot restore now: %w", err)
	}
	defer lock.Unlock(context.WithoutCancel(ctx))

	// One destination per account for Graph; one folder for --to-dir.
	groups := map[string][]catalog.VersionInfo{}
	var order []string
	for _, v := range items {
		k := v.Item.Account
		if o.toDir != "" {
			k = ""
		}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], v)
	}
	pr := &restorePrinter{w: g.stdout, json: o.json, b: b}
	var pacer *graph.Pacer
	failures := 0
	for _, acct := range order {
		dest, err := b.destination(ctx, g, o, acct, groups[acct], &pacer)
		if err != nil {
			return err
		}
		pr.account = ""
		if acct != "" {
			pr.account = b.upn(acct)
		}
		f, err := b.restoreGroup(ctx, g, o, conflict, dest, groups[acct], pr)
		dest.Close()
		if err != nil {
			return err
		}
		failures += f
	}
	if failures > 0 {
		return fmt.Errorf("%d items could not be restored (listed above); run the same command again to retry them", failures)
	}
	return nil
}

// destination opens where a group of items goes.
func (b *browser) destination(ctx context.Context, g *globals, o restoreFlags, account string, items []catalog.VersionInfo, pacer **graph.Pacer) (restore.Destination, error) {
	if o.toDir != "" {
		many := false
		for _, v := range items {
			many = many || v.Item.Account != items[0].Item.Account
		}
		var do restore.DirOptions
		if many {
			do.AccountFolder = func(a string) string { return b.upn(a) }
		}
		return restore.ToDir(o.toDir, do)
	}
	gc, err := b.graphClient(ctx, g, o, account, pacer)
	if err != nil {
		return nil, err
	}
	if o.toNewFolder {
		return restore.ToNewFolder(gc, gc, "me", account, restore.NewFolderName(time.Now())), nil
	}
	return restore.ToOriginal(gc, gc, "me", account), nil
}

// graphClient signs in as the account the items belong to.
func (b *browser) graphClient(ctx context.Context, g *globals, o restoreFlags, account string, pacer **graph.Pacer) (*graph.Client, error) {
	o.auth.secretStore = o.repo.secretStore
	m, err := authManager(g, o.auth)
	if err != nil {
		return nil, err
	}
	upn := b.upn(account)
	a, err := m.Account(ctx, upn)
	if err != nil {
		return nil, fmt.Errorf("restoring into %s needs its sign-in (run `lifeboat login`): %w", upn, explain(err))
	}
	graphURL, hc, err := graphEndpoint(g)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(graphURL)
	if err != nil {
		return nil, fmt.Errorf("graph URL: %w", err)
	}
	ts, err := m.TokenSource(a.HomeAccountID, u.Hostname())
	if err != nil {
		return nil, err
	}
	if *pacer == nil {
		if *pacer, err = newPacer(g); err != nil {
			return nil, err
		}
	}
	return graph.New(graph.Options{GraphURL: graphURL, HTTPClient: hc, Auth: ts, Account: a.UPN, Pacer: *pacer, Logger: g.logger()})
}

// journalPath is where a restore records its progress: one file per
// destination and selection, so the same command run again resumes it.
func journalPath(dest restore.Destination, conflict restore.Conflict, items []catalog.VersionInfo) (string, error) {
	cfg, _, err := configDir()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00", dest, conflict)
	ids := make([]int64, 0, len(items))
	for _, v := range items {
		ids = append(ids, v.ID)
	}
	slices.Sort(ids)
	for _, id := range ids {
		fmt.Fprintf(h, "%d,", id)
	}
	return filepath.Join(cfg, "restore-journals", hex.EncodeToString(h.Sum(nil))[:32]+".journal"), nil
}

func (b *browser) restoreGroup(ctx context.Context, g *globals, o restoreFlags, conflict restore.Conflict, dest restore.Destination,
	items []catalog.VersionInfo, pr *restorePrinter) (int, error) {
	journal, err := journalPath(dest, conflict, items)
	if err != nil {
		return 0, err
	}
	r := restore.New(restore.Options{Content: b.r, Conflict: conflict, Journal: journal, Workers: 4, Logger: g.logger(),
		OnProgress: pr.progress, ProgressInterval: time.Second})
	pl, err := r.Plan(ctx, dest, items)
	if err != nil {
		return 0, err
	}
	pr.plan(pl, o.dryRun)
	if o.dryRun {
		return 0, nil
	}
	res, err := r.Execute(ctx, pl)
	pr.result(pl, res, err)
	if err != nil {
		return 0, err
	}
	return len(res.Failures), nil
}

// restorePrinter shows a restore's plan, progress and result.
type restorePrinter struct {
	w       io.Writer
	json    bool
	b       *browser
	account string // whose mailbox and OneDrive, for Graph destinations
	last    time.Time
}

type stepJSON struct {
	Event  string `json:"event"`
	Action string `json:"action"`
	Item   string `json:"item"`
	Kind   string `json:"kind"`
	Name   string `json:"name"`
	From   string `json:"from"`
	To     string `json:"to"`
	Reason string `json:"reason,omitempty"`
	Size   int64  `json:"size"`
	Error  string `json:"error,omitempty"`
}

func (p *restorePrinter) step(event string, s restore.Step, err error) stepJSON {
	j := stepJSON{Event: event, Action: string(s.Action), Item: handle(s.Item), Kind: string(s.Item.Item.Kind), Name: s.Item.Name,
		From: p.b.folderPath(s.Item), To: s.Path, Reason: s.Reason, Size: s.Item.Size}
	if err != nil {
		j.Error = err.Error()
	}
	return j
}

func (p *restorePrinter) plan(pl *restore.Plan, dryRun bool) {
	if p.json {
		for _, s := range pl.Steps {
			printJSON(p.w, p.step("plan", s, nil))
		}
		for _, f := range pl.Failures {
			j := p.step("plan", f.Step, f.Err)
			j.Action = "fail"
			printJSON(p.w, j)
		}
		return
	}
	verb := "Restoring"
	if dryRun {
		verb = "Dry run: would restore"
	}
	dest := pl.Dest
	if p.account != "" {
		dest += " of " + p.account
	}
	fmt.Fprintf(p.w, "%s %d items (%s) to %s:\n", verb, pl.Items, formatBytes(pl.Bytes), dest)
	for _, s := range pl.Steps {
		line := fmt.Sprintf("  %-9s %-8s %s", s.Action, handle(s.Item), printable(s.Path))
		if s.Reason != "" {
			line += "  (" + s.Reason + ")"
		}
		fmt.Fprintln(p.w, line)
	}
	for _, f := range pl.Failures {
		fmt.Fprintf(p.w, "  %-9s %-8s %s: %v\n", "cannot", handle(f.Step.Item), printable(f.Step.Path), f.Err)
	}
	if dryRun {
		c := pl.Counts()
		fmt.Fprintf(p.w, "Would create %d, rename %d, overwrite %d, skip %d. Nothing was changed.\n",
			c[restore.ActionCreate], c[restore.ActionRename], c[restore.ActionOverwrite], c[restore.ActionSkip]+c[restore.ActionDone])
	}
}

func (p *restorePrinter) progress(pr restore.Progress) {
	// The engine reports every item; a line every few seconds is enough.
	now := time.Now()
	if now.Sub(p.last) < 2*time.Second && pr.ItemsDone < pr.ItemsTotal {
		return
	}
	p.last = now
	if p.json {
		printJSON(p.w, map[string]any{"event": "progress", "itemsDone": pr.ItemsDone, "itemsTotal": pr.ItemsTotal,
			"bytesDone": pr.BytesDone, "bytesTotal": pr.BytesTotal, "failed": pr.Failed})
		return
	}
	if pr.ItemsDone < pr.ItemsTotal && pr.ItemsTotal > 1 {
		fmt.Fprintf(p.w, "  %d/%d items, %s of %s\n", pr.ItemsDone, pr.ItemsTotal, formatBytes(pr.BytesDone), formatBytes(pr.BytesTotal))
	}
}

func (p *restorePrinter) result(pl *restore.Plan, res restore.Result, err error) {
	if p.json {
		for _, f := range res.Failures {
			printJSON(p.w, p.step("failed", f.Step, f.Err))
		}
		ev := map[string]any{"event": "result", "restored": len(res.Done), "skipped": len(res.Skipped), "failed": len(res.Failures), "bytes": res.Bytes, "to": pl.Dest}
		if err != nil {
			ev["error"] = err.Error()
		}
		printJSON(p.w, ev)
		return
	}
	for _, f := range res.Failures[len(pl.Failures):] { // the plan's own were listed with it
		fmt.Fprintf(p.w, "  failed    %-8s %s: %v\n", handle(f.Step.Item), printable(f.Step.Path), f.Err)
	}
	if err != nil {
		fmt.Fprintf(p.w, "Stopped after restoring %d items; run the same command again to continue.\n", len(res.Done))
		return
	}
	fmt.Fprintf(p.w, "Restored %d items (%s) to %s", len(res.Done), formatBytes(res.Bytes), pl.Dest)
	if len(res.Skipped) > 0 {
		fmt.Fprintf(p.w, "; %d left as they were", len(res.Skipped))
	}
	fmt.Fprintln(p.w, ".")
}
