package backup

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/repo"
)

// Affected is one thing that damage in the backup makes unreadable, in one
// snapshot: an email, a file, a list of them, or the catalog copy.
type Affected struct {
	Snapshot repo.ID
	Time     time.Time
	Account  string
	// What: "email", "file", "mail folder", "file list", "catalog copy",
	// or "snapshot" (the snapshot file itself cannot be read).
	What string
	// Name is the email's subject, the file's path or the folder's path.
	Name string
	// ItemID is the Microsoft 365 id of an email or file.
	ItemID string
}

func (a Affected) String() string {
	when := ""
	if !a.Time.IsZero() {
		when = " (backup of " + a.Time.Local().Format("2 Jan 2006 15:04") + ")"
	}
	who := ""
	if a.Account != "" {
		who = " of " + a.Account
	}
	switch a.What {
	case "email":
		return fmt.Sprintf("email %q%s%s", a.Name, who, when)
	case "file":
		return fmt.Sprintf("file %s%s%s", a.Name, who, when)
	case "mail folder":
		return fmt.Sprintf("the list of emails in folder %s%s%s", a.Name, who, when)
	case "file list":
		return fmt.Sprintf("the list of files%s%s", who, when)
	case "catalog copy":
		return "the copy of the search catalog" + when
	}
	return "a whole backup" + when + ": " + a.Name
}

// AffectedItems names what the damaged blobs (repo.Repository.DamagedBlobs
// of a check) make unreadable, snapshot by snapshot: every email and file
// with a damaged chunk, every list whose page is damaged (its items are
// then unknown), the catalog copy; and every snapshot in unreadable (a
// damaged snapshot file, or a root that cannot be read). Snapshots of
// other formats are skipped.
func AffectedItems(ctx context.Context, r *repo.Repository, damaged map[repo.ID]bool, unreadable []repo.ID) ([]Affected, error) {
	var out []Affected
	for _, id := range unreadable {
		out = append(out, Affected{Snapshot: id, What: "snapshot", Name: "snapshot " + id.Short() + " cannot be read"})
	}
	if len(damaged) == 0 {
		return out, nil
	}
	snaps, err := r.ListSnapshots(ctx)
	if err != nil {
		return out, fmt.Errorf("backup: listing snapshots: %w", err)
	}
	hit := func(ref *repo.ContentRef) bool {
		return ref != nil && slices.ContainsFunc(ref.Chunks, func(id repo.ID) bool { return damaged[id] })
	}
	for _, s := range snaps {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		base := Affected{Snapshot: s.ID, Time: s.Time, Account: s.Account}
		add := func(what, name, item string) {
			a := base
			a.What, a.Name, a.ItemID = what, name, item
			out = append(out, a)
		}
		if damaged[s.Root] {
			add("snapshot", "its table of contents is damaged", "")
			continue
		}
		rt, err := loadRoot(ctx, r, s.Root)
		if err != nil {
			continue // not a backup tree (bench), or damage verify reports
		}
		if hit(rt.Catalog) {
			add("catalog copy", "", "")
		}
		for _, f := range rt.Folders {
			for _, pid := range f.Pages {
				if damaged[pid] {
					add("mail folder", f.Path, "")
					continue
				}
				p, err := loadPage(ctx, r, pid)
				if err != nil {
					add("mail folder", f.Path, "")
					continue
				}
				for _, m := range p.Messages {
					if hit(&m.Content) {
						add("email", m.Subject, m.ID)
					}
				}
			}
		}
		if rt.Drive != nil {
			var files []File
			listDamaged := false
			for _, pid := range rt.Drive.Pages {
				p, err := loadPage(ctx, r, pid)
				if damaged[pid] || err != nil {
					listDamaged = true
					continue
				}
				files = append(files, p.Files...)
			}
			if listDamaged {
				add("file list", "", "")
			}
			paths := filePaths(files)
			for _, f := range files {
				if hit(f.Content) {
					add("file", paths[f.ID], f.ID)
				}
			}
		}
	}
	return out, nil
}

// filePaths gives each file its path from the drive's root.
func filePaths(files []File) map[string]string {
	byID := make(map[string]File, len(files))
	for _, f := range files {
		byID[f.ID] = f
	}
	out := make(map[string]string, len(files))
	for _, f := range files {
		var parts []string
		seen := 0
		for cur, ok := f, true; ok && !cur.Root && seen < 256; cur, ok = byID[cur.ParentID] {
			parts = append(parts, cur.Name)
			seen++
		}
		slices.Reverse(parts)
		out[f.ID] = strings.Join(parts, "/")
	}
	return out
}

// AffectedInCatalog names, from the catalog (this computer's, or one
// restored from the backup's copy), every email and file version whose
// content has a damaged chunk, in every complete snapshot the catalog
// knows. It finds them even when the snapshot's own lists are what is
// damaged. Each version is named once.
func AffectedInCatalog(ctx context.Context, c *catalog.Catalog, damaged map[repo.ID]bool) ([]Affected, error) {
	if len(damaged) == 0 {
		return nil, nil
	}
	accts, err := c.Accounts(ctx)
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	seen := map[int64]bool{}
	var out []Affected
	for _, a := range accts {
		for _, sk := range []catalog.SnapshotKind{catalog.SnapshotMail, catalog.SnapshotOneDrive} {
			ik, _ := sk.ItemKind()
			snaps, err := c.Snapshots(ctx, a.HomeID, sk)
			if err != nil {
				return out, fmt.Errorf("backup: %w", err)
			}
			for _, s := range snaps {
				if s.Status != catalog.SnapshotComplete {
					continue
				}
				const page = 100000
				for off := 0; ; off += page {
					_, vs, err := c.AsOf(ctx, catalog.AsOfQuery{Account: a.HomeID, Kind: ik, Snapshot: s.Seq, Recursive: true, Limit: page, Offset: off})
					if err != nil {
						return out, fmt.Errorf("backup: %w", err)
					}
					for _, v := range vs {
						if seen[v.ID] || v.Content == "" {
							continue
						}
						ref, err := decodeContent(v.Content)
						if err != nil || !slices.ContainsFunc(ref.Chunks, func(id repo.ID) bool { return damaged[id] }) {
							continue
						}
						seen[v.ID] = true
						af := Affected{Time: v.Time, Account: a.UPN, ItemID: v.Item.ID, What: "file", Name: strings.TrimPrefix(v.Folder+"/"+v.Name, "/")}
						if ik == catalog.KindMail {
							af.What, af.Name = "email", v.Name
						}
						if id, err := repo.ParseID(s.RepoID); err == nil {
							af.Snapshot = id
						}
						out = append(out, af)
					}
					if len(vs) < page {
						break
					}
				}
			}
		}
	}
	return out, nil
}
