package backup

import (
	"context"

	"github.com/lifeboat-backup/lifeboat/engine/repo"
)

// Contents is everything a snapshot holds, as ReadSnapshot returns it.
type Contents struct {
	Kind    string
	Account string
	// Folders are a mail snapshot's folders with their messages.
	Folders []FolderContents
	// Drive and Files are a onedrive snapshot's drive and its items
	// (folders included).
	DriveID string
	Files   []File
	// Catalog is a catalog snapshot's copy of the catalog.
	Catalog *repo.ContentRef
}

// FolderContents is one mail folder of a snapshot.
type FolderContents struct {
	ID, ParentID, Name, Path, WellKnown string
	Messages                            []Message
}

// ReadSnapshot loads a snapshot's whole tree (not the content, which
// repo.OpenStream reads from each item's ContentRef).
func ReadSnapshot(ctx context.Context, r *repo.Repository, id repo.ID) (*Contents, error) {
	s, err := r.LoadSnapshot(ctx, id)
	if err != nil {
		return nil, err
	}
	rt, err := loadRoot(ctx, r, s.Root)
	if err != nil {
		return nil, err
	}
	c := &Contents{Kind: rt.Kind, Account: rt.Account, Catalog: rt.Catalog}
	for _, f := range rt.Folders {
		fc := FolderContents{ID: f.ID, ParentID: f.ParentID, Name: f.Name, Path: f.Path, WellKnown: f.WellKnown}
		for _, pid := range f.Pages {
			p, err := loadPage(ctx, r, pid)
			if err != nil {
				return nil, err
			}
			fc.Messages = append(fc.Messages, p.Messages...)
		}
		c.Folders = append(c.Folders, fc)
	}
	if rt.Drive != nil {
		c.DriveID = rt.Drive.ID
		for _, pid := range rt.Drive.Pages {
			p, err := loadPage(ctx, r, pid)
			if err != nil {
				return nil, err
			}
			c.Files = append(c.Files, p.Files...)
		}
	}
	return c, nil
}
