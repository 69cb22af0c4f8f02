package service

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/backup"
	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/repo"
	"github.com/lifeboat-backup/lifeboat/engine/restore"
)

// ExportRequest asks for the calendars and address books of an account
// as they were at a point in time, as files other programs open.
type ExportRequest struct {
	// Account is a HomeID; "" exports everyone in the backup.
	Account string
	At      Point
	// Dir is an absolute folder on this computer; each account's files
	// go into a new folder in it named by its e-mail address.
	Dir string
	// Kinds are catalog.KindEvent and/or catalog.KindContact; nil for
	// both.
	Kinds []catalog.ItemKind
}

// ExportedAccount is what an export wrote for one account.
type ExportedAccount struct {
	Account catalog.Account
	// Dir is the folder the files are in ("" when there was nothing to
	// write); Files their paths, relative to it: one .ics per calendar,
	// one .vcf per contact folder.
	Dir   string
	Files []string
	// Calendars and Events, ContactFolders and Contacts count what was
	// written, from the backups made at CalendarsAt and ContactsAt.
	Calendars, Events, ContactFolders, Contacts int
	CalendarsAt, ContactsAt                     time.Time
	// Empty names the calendars and contact folders that held nothing
	// then, and so have no file.
	Empty []string
}

// Export writes one .ics file per calendar (RFC 5545) and one .vcf file
// per contact folder (vCard) for each account asked for, as the backup of
// that time held them. It never writes into a folder that holds something
// already: an earlier export stays as it was.
func (b *Browser) Export(ctx context.Context, req ExportRequest) ([]ExportedAccount, error) {
	if !filepath.IsAbs(req.Dir) {
		return nil, badInput(errors.New("choose a whole folder on this computer (its full path) to export into"))
	}
	kinds := req.Kinds
	if len(kinds) == 0 {
		kinds = []catalog.ItemKind{catalog.KindEvent, catalog.KindContact}
	}
	for _, k := range kinds {
		if k != catalog.KindEvent && k != catalog.KindContact {
			return nil, badInput(fmt.Errorf("only calendars and contacts can be exported, not %s", k))
		}
	}
	var accounts []catalog.Account
	if req.Account != "" {
		a, err := b.AccountByID(ctx, req.Account)
		if err != nil {
			return nil, err
		}
		accounts = append(accounts, a)
	} else {
		as, err := b.Accounts(ctx)
		if err != nil {
			return nil, err
		}
		accounts = as
	}
	var out []ExportedAccount
	for _, a := range accounts {
		ea := ExportedAccount{Account: a, Dir: filepath.Join(req.Dir, restore.SafeName(firstNonEmpty(a.UPN, a.HomeID)))}
		type part struct {
			kind catalog.ItemKind
			c    *backup.PIMContents
			at   time.Time
		}
		var parts []part
		for _, k := range kinds {
			c, at, err := b.pimSnapshot(ctx, a.HomeID, k, req.At)
			if errors.Is(err, catalog.ErrNoSnapshot) {
				continue // nothing of this kind backed up then
			}
			if err != nil {
				return out, err
			}
			parts = append(parts, part{k, c, at})
		}
		if len(parts) == 0 {
			if req.Account != "" {
				return out, badInput(fmt.Errorf("the backup holds no calendars or contacts of %s at that time", firstNonEmpty(a.UPN, a.HomeID)))
			}
			continue
		}
		if err := freshDir(ea.Dir); err != nil {
			return out, err
		}
		for _, p := range parts {
			files, err := restore.ExportPIM(ctx, b.r, p.c, ea.Dir, b.s.now())
			ea.Files = append(ea.Files, files...)
			if err != nil {
				out = append(out, ea)
				return out, fmt.Errorf("exporting %s's %s: %w", firstNonEmpty(a.UPN, a.HomeID), p.kind, err)
			}
			if p.kind == catalog.KindEvent {
				ea.CalendarsAt = p.at
				for _, cal := range p.c.Calendars {
					if len(cal.Events) == 0 {
						ea.Empty = append(ea.Empty, cal.Name)
						continue
					}
					ea.Calendars++
					ea.Events += len(cal.Events)
				}
			} else {
				ea.ContactsAt = p.at
				for _, f := range p.c.Folders {
					if len(f.Contacts) == 0 {
						ea.Empty = append(ea.Empty, f.Path)
						continue
					}
					ea.ContactFolders++
					ea.Contacts += len(f.Contacts)
				}
			}
		}
		if len(ea.Files) == 0 {
			_ = os.Remove(ea.Dir) // made just now, and left empty
			ea.Dir = ""
		}
		out = append(out, ea)
	}
	if len(out) == 0 {
		return nil, badInput(errors.New("the backup holds no calendars or contacts at that time"))
	}
	return out, nil
}

// pimSnapshot reads the calendar or contacts snapshot of an account at a
// point in time (the newest complete one at or before it).
func (b *Browser) pimSnapshot(ctx context.Context, account string, kind catalog.ItemKind, at Point) (*backup.PIMContents, time.Time, error) {
	snap, _, err := b.c.AsOf(ctx, catalog.AsOfQuery{Account: account, Kind: kind, Time: at.At, Snapshot: at.Snapshot, Limit: 1})
	if err != nil {
		return nil, time.Time{}, err
	}
	id, err := repo.ParseID(snap.RepoID)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("the catalog's record of the backup of %s: %w", snap.Time.Format(time.DateTime), err)
	}
	c, err := backup.ReadPIMSnapshot(ctx, b.r, id)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("reading the backup of %s: %w", snap.Time.Format(time.DateTime), err)
	}
	return c, snap.Time, nil
}

// freshDir makes dir, which must not exist or be empty.
func freshDir(dir string) error {
	if es, err := os.ReadDir(dir); err == nil && len(es) > 0 {
		return badInput(fmt.Errorf("%s already holds files (an earlier export?): choose another folder, or move them away first", dir))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return nil
}
