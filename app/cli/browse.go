package cli

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/service"
)

// The browse and restore commands name things two ways, both copied from
// their output:
//   - ITEM is a version handle, "v123" (catalog.VersionInfo.ID): find and ls
//     print the version they show, versions prints every version;
//   - PATH is ACCOUNT/mail/FOLDER/..., ACCOUNT/files/FOLDER/.../NAME,
//     ACCOUNT/calendar/CALENDAR/SUBJECT or ACCOUNT/contacts/Contacts/FOLDER/NAME,
//     where ACCOUNT is the e-mail address (ls without a PATH lists them);
//     ACCOUNT alone means everything of that account.

// browseFlags are the flags shared by ls, find, versions and restore.
type browseFlags struct {
	folderFlags
	json bool
}

func addBrowseFlags(cmd *cobra.Command, o *browseFlags) {
	addBackupFlags(cmd, &o.folderFlags)
	cmd.Flags().BoolVar(&o.json, "json", false, "print JSON, one object a line")
	addOffsiteFlags(cmd, &o.folderFlags)
}

// browser opens the backup and its catalog for ls, find, versions and
// restore.
func (a *app) browser(cmd *cobra.Command, o folderFlags, u uses) (*service.Service, *service.Browser, error) {
	if o.offsite {
		return a.offsiteBrowser(cmd, o, u)
	}
	dir, err := backupFolder(o.dir)
	if err != nil {
		return nil, nil, err
	}
	svc, err := a.service(o.common, u)
	if err != nil {
		return nil, nil, err
	}
	b, err := withKey(a, a.recoveryKey(o.recoveryKey), func(key string) (*service.Browser, error) {
		return svc.OpenBrowser(cmd.Context(), dir, key)
	})
	if errors.Is(err, service.ErrNoCatalog) {
		return nil, nil, fmt.Errorf("the backup in %s has no catalog yet: let a backup finish first", dir)
	}
	return svc, b, err
}

// browseCommands returns ls, find, versions and restore.
func (a *app) browseCommands() []*cobra.Command {
	var lo, fo, vo browseFlags
	var at string
	ls := &cobra.Command{
		Use:   "ls [--at DATE|SNAPSHOT] [PATH]",
		Short: "List mail, OneDrive, calendar and contact folders as they were in a backup",
		Long: "List what the backup held at a point in time (the newest backup by default). PATH is\n" +
			"ACCOUNT/mail/FOLDER..., ACCOUNT/files/FOLDER..., ACCOUNT/calendar/CALENDAR or\n" +
			"ACCOUNT/contacts/Contacts/FOLDER...; without it, the accounts are listed.\n" +
			"Each item starts with its handle (v123) for `lifeboat versions` and `lifeboat restore`.\n" +
			"--at takes a date (2026-03-14), a date and time (\"2026-03-14 15:04\"), or a snapshot ID.",
		Args: requireArgs(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			p := ""
			if len(args) == 1 {
				p = args[0]
			}
			return a.ls(cmd, lo, at, p)
		},
	}
	addBrowseFlags(ls, &lo)
	ls.Flags().StringVar(&at, "at", "", "as of this date, time or snapshot ID (default: the newest backup)")

	var ff findFlags
	find := &cobra.Command{
		Use:   "find QUERY [--from DATE --until DATE --mail|--files|--calendar|--contacts --folder F --deleted]",
		Short: "Search every backup for mail, files, calendar events and contacts",
		Long: "Search subjects, senders and recipients, message text, attachment names, file names and\n" +
			"paths, events (subject, people, place) and contacts (names, e-mail addresses, companies,\n" +
			"phone numbers), across every backup, newest first. Words must all match; \"quotes\" make a\n" +
			"phrase and budg* a prefix. --deleted shows only what has since been deleted (with no\n" +
			"QUERY: everything deleted, most recently deleted first).",
		Args: requireArgs(cobra.ArbitraryArgs),
		RunE: func(cmd *cobra.Command, args []string) error { return a.find(cmd, fo, ff, strings.Join(args, " ")) },
	}
	addBrowseFlags(find, &fo)
	f := find.Flags()
	f.StringVar(&ff.from, "from", "", "only items dated on or after this date")
	f.StringVar(&ff.until, "until", "", "only items dated on or before this date")
	f.BoolVar(&ff.mail, "mail", false, "only mail")
	f.BoolVar(&ff.files, "files", false, "only files")
	f.BoolVar(&ff.calendar, "calendar", false, "only calendar events")
	f.BoolVar(&ff.contacts, "contacts", false, "only contacts")
	f.StringVar(&ff.folder, "folder", "", "only in this folder and below (Inbox/Invoices, Documents)")
	f.BoolVar(&ff.deleted, "deleted", false, "only items that have been deleted")
	f.StringVar(&ff.account, "account", "", "only this account (e-mail address)")
	f.IntVar(&ff.limit, "limit", 50, "show at most this many")

	versions := &cobra.Command{
		Use:   "versions ITEM",
		Short: "List every version of an item the backup holds",
		Args:  requireArgs(cobra.ExactArgs(1)),
		RunE:  func(cmd *cobra.Command, args []string) error { return a.versions(cmd, vo, args[0]) },
	}
	addBrowseFlags(versions, &vo)
	return []*cobra.Command{ls, find, versions, a.restoreCommand()}
}

// kindSegment is the PATH segment of a kind.
func kindSegment(k catalog.ItemKind) string {
	switch k {
	case catalog.KindMail:
		return "mail"
	case catalog.KindEvent:
		return "calendar"
	case catalog.KindContact:
		return "contacts"
	}
	return "files"
}

// location is a parsed PATH.
type location struct {
	account catalog.Account
	kind    catalog.ItemKind // "" for the account itself
	folder  string
}

func parsePath(ctx context.Context, b *service.Browser, p string) (location, error) {
	p = strings.Trim(p, "/")
	parts := strings.SplitN(p, "/", 3)
	acc, err := b.Account(ctx, parts[0])
	if err != nil {
		return location{}, err
	}
	loc := location{account: acc}
	if len(parts) == 1 {
		return loc, nil
	}
	switch parts[1] {
	case "mail":
		loc.kind = catalog.KindMail
	case "files", "onedrive":
		loc.kind = catalog.KindFile
	case "calendar", "calendars":
		loc.kind = catalog.KindEvent
	case "contacts":
		loc.kind = catalog.KindContact
	default:
		return loc, usageError{fmt.Errorf("path %q: after the account comes mail, files, calendar or contacts", p)}
	}
	if len(parts) == 3 {
		loc.folder = parts[2]
	}
	return loc, nil
}

// parseAt reads --at for one stream: a date/time, or the ID (a hex prefix)
// of one of the stream's snapshots.
func parseAt(ctx context.Context, b *service.Browser, at, account string, kind catalog.ItemKind) (service.Point, error) {
	if at == "" {
		return service.Point{}, nil
	}
	if t, err := parseWhen(at, true); err == nil {
		return service.Point{At: t}, nil
	}
	if kind == "" {
		return service.Point{}, usageError{fmt.Errorf("--at %q: not a date (2026-03-14, \"2026-03-14 15:04\"); a snapshot ID names the backup of one kind of item", at)}
	}
	sn, ok, err := b.SnapshotByPrefix(ctx, account, kind, at)
	if err != nil {
		return service.Point{}, err
	}
	if !ok {
		sk, _ := kind.SnapshotKind()
		return service.Point{}, usageError{fmt.Errorf("--at %q: not a date (2026-03-14, \"2026-03-14 15:04\") nor a snapshot of %s's %s", at, b.UPN(ctx, account), sk)}
	}
	return service.Point{Snapshot: sn.Seq}, nil
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

// folderPath is the PATH of an item's folder.
func folderPath(ctx context.Context, b *service.Browser, v catalog.VersionInfo) string {
	return strings.TrimSuffix(b.UPN(ctx, v.Item.Account)+"/"+kindSegment(v.Item.Kind)+"/"+v.Folder, "/")
}

func toJSON(ctx context.Context, b *service.Browser, v catalog.VersionInfo) itemJSON {
	return itemJSON{Type: string(v.Item.Kind), Item: handle(v), Account: b.UPN(ctx, v.Item.Account), Kind: string(v.Item.Kind),
		Path: folderPath(ctx, b, v), Folder: v.Folder, Name: v.Name, Time: v.Time, Size: v.Size}
}

// itemLine is one item for a person: handle, date, size, name.
func itemLine(v catalog.VersionInfo) string {
	name := v.Name
	if name == "" && v.Item.Kind == catalog.KindMail {
		name = "(no subject)"
	}
	return fmt.Sprintf("%-8s  %s  %9s  %s", handle(v), v.Time.Local().Format("2006-01-02 15:04"), formatBytes(v.Size), printable(name))
}

func (a *app) ls(cmd *cobra.Command, o browseFlags, at, p string) error {
	ctx := cmd.Context()
	_, b, err := a.browser(cmd, o.folderFlags, usesBackup)
	if err != nil {
		return err
	}
	defer b.Close()
	w := a.stdout
	if strings.Trim(p, "/") == "" {
		accs, err := b.Accounts(ctx)
		if err != nil {
			return err
		}
		for _, acc := range accs {
			if o.json {
				printJSON(w, itemJSON{Type: "account", Account: acc.UPN, Path: acc.UPN, Name: acc.DisplayName})
				continue
			}
			fmt.Fprintf(w, "%s/\t%s\n", acc.UPN, printable(acc.DisplayName))
		}
		return nil
	}
	loc, err := parsePath(ctx, b, p)
	if err != nil {
		return err
	}
	if loc.kind == "" {
		for _, k := range service.ItemKinds() {
			seg := kindSegment(k)
			if o.json {
				printJSON(w, itemJSON{Type: "folder", Account: loc.account.UPN, Path: loc.account.UPN + "/" + seg})
				continue
			}
			fmt.Fprintf(w, "%s/%s/\n", loc.account.UPN, seg)
		}
		return nil
	}
	point, err := parseAt(ctx, b, at, loc.account.HomeID, loc.kind)
	if err != nil {
		return err
	}
	l, err := b.List(ctx, loc.account.HomeID, loc.kind, loc.folder, point)
	if errors.Is(err, catalog.ErrNoSnapshot) {
		return fmt.Errorf("no backup of %s's %s at that time", loc.account.UPN, kindSegment(loc.kind))
	}
	if err != nil {
		return err
	}
	items := l.Items
	if len(items) == 0 && len(l.Folders) == 0 && loc.folder != "" {
		// PATH may name one file or message: look in its parent.
		parent, name := splitLast(loc.folder)
		if items, err = b.ItemsNamed(ctx, loc.account.HomeID, loc.kind, parent, name, service.Point{Snapshot: l.Snapshot}); err != nil {
			return err
		}
		if len(items) == 0 {
			return fmt.Errorf("nothing at %s in the backup of %s", p, l.At.Local().Format(time.DateTime))
		}
	}
	base := loc.account.UPN + "/" + kindSegment(loc.kind)
	if !o.json {
		fmt.Fprintf(w, "As backed up %s:\n", l.At.Local().Format(time.DateTime))
	}
	for _, full := range l.Folders {
		if o.json {
			printJSON(w, itemJSON{Type: "folder", Account: loc.account.UPN, Kind: string(loc.kind), Path: base + "/" + full, Folder: full})
			continue
		}
		fmt.Fprintf(w, "%-8s  %s/\n", "", printable(base+"/"+full))
	}
	for _, v := range items {
		if o.json {
			printJSON(w, toJSON(ctx, b, v))
			continue
		}
		fmt.Fprintln(w, itemLine(v))
	}
	return nil
}

// splitLast splits a folder path into its parent and last name.
func splitLast(p string) (parent, name string) {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[:i], p[i+1:]
	}
	return "", p
}

type findFlags struct {
	from, until, folder, account string
	mail, files, deleted         bool
	calendar, contacts           bool
	limit                        int
}

func (a *app) find(cmd *cobra.Command, o browseFlags, ff findFlags, text string) error {
	ctx := cmd.Context()
	req := service.FindRequest{Text: strings.TrimSpace(text), Folder: ff.folder, DeletedOnly: ff.deleted, Limit: ff.limit}
	kinds := 0
	for k, on := range map[catalog.ItemKind]bool{catalog.KindMail: ff.mail, catalog.KindFile: ff.files, catalog.KindEvent: ff.calendar, catalog.KindContact: ff.contacts} {
		if on {
			req.Kind = k
			kinds++
		}
	}
	if kinds > 1 {
		return usageError{errors.New("--mail, --files, --calendar and --contacts: choose one (or none for everything)")}
	}
	var err error
	if ff.from != "" {
		if req.From, err = parseWhen(ff.from, false); err != nil {
			return err
		}
	}
	if ff.until != "" {
		if req.To, err = parseWhen(ff.until, true); err != nil {
			return err
		}
	}
	if req.Text == "" && !req.DeletedOnly {
		return usageError{errors.New("find: give words to look for, or --deleted for everything deleted")}
	}
	_, b, err := a.browser(cmd, o.folderFlags, usesBackup)
	if err != nil {
		return err
	}
	defer b.Close()
	if ff.account != "" {
		acc, err := b.Account(ctx, ff.account)
		if err != nil {
			return err
		}
		req.Account = acc.HomeID
	}
	hits, err := b.Find(ctx, req)
	if err != nil {
		return err
	}
	w := a.stdout
	for _, h := range hits {
		if o.json {
			j := toJSON(ctx, b, h.Version)
			j.Deleted, j.Snippet = h.Deleted, h.Snippet
			printJSON(w, j)
			continue
		}
		line := itemLine(h.Version) + "  in " + printable(folderPath(ctx, b, h.Version))
		if !h.Deleted.IsZero() {
			line += "  (deleted by " + h.Deleted.Local().Format("2006-01-02 15:04") + ")"
		}
		fmt.Fprintln(w, line)
	}
	if !o.json && len(hits) == 0 {
		fmt.Fprintln(w, "Nothing found.")
	}
	return nil
}

// parseHandle reads an ITEM handle, "v123".
func parseHandle(s string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimPrefix(strings.ToLower(s), "v"), 10, 64)
	if err != nil || n <= 0 {
		return 0, usageError{fmt.Errorf("%q is not an item: use the v123 handle that find, ls or versions print", s)}
	}
	return n, nil
}

func (a *app) versions(cmd *cobra.Command, o browseFlags, item string) error {
	ctx := cmd.Context()
	id, err := parseHandle(item)
	if err != nil {
		return err
	}
	_, b, err := a.browser(cmd, o.folderFlags, usesBackup)
	if err != nil {
		return err
	}
	defer b.Close()
	v, err := b.Version(ctx, id)
	if err != nil {
		return noSuchItem(err, item)
	}
	vs, err := b.Versions(ctx, v.Item)
	if err != nil {
		return err
	}
	w := a.stdout
	if !o.json {
		fmt.Fprintf(w, "%s in %s: %d versions, newest first\n", printable(v.Name), printable(folderPath(ctx, b, v)), len(vs))
	}
	for _, x := range vs {
		if o.json {
			j := toJSON(ctx, b, x.VersionInfo)
			j.FirstSeen, j.LastSeen, j.Current = x.Seen, x.LastSeen, x.Current()
			printJSON(w, j)
			continue
		}
		state := "current"
		if !x.Current() {
			state = "until " + x.Until.Local().Format("2006-01-02 15:04")
		}
		fmt.Fprintf(w, "%s  backed up %s … %s (%s)\n", itemLine(x.VersionInfo), x.Seen.Local().Format("2006-01-02 15:04"), x.LastSeen.Local().Format("2006-01-02 15:04"), state)
	}
	return nil
}

// noSuchItem names an unknown handle as the person typed it.
func noSuchItem(err error, item string) error {
	if errors.Is(err, catalog.ErrNotFound) {
		return usageError{fmt.Errorf("there is no item %s in this backup's catalog", item)}
	}
	return err
}

// absDir makes a folder given on the command line absolute.
func absDir(d string) (string, error) {
	if d == "" {
		return "", nil
	}
	return filepath.Abs(d)
}
