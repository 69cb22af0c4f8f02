package service

import (
	"context"

	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/graph"
	"github.com/lifeboat-backup/lifeboat/engine/restore"
)

// libraryDrive is a site's document library as a restore's drive: the
// same upload path as a OneDrive, with the library as the drive.
type libraryDrive struct {
	*graph.Client
	id string
}

func (l libraryDrive) GetDrive(ctx context.Context, _ string) (graph.Drive, error) {
	return l.DriveByID(ctx, l.id)
}

// restoreDrive is where an account's files go back to: a library's
// account to its library, a person's to their OneDrive.
func restoreDrive(a catalog.Account, gc *graph.Client) restore.Drive {
	if id := libraryDriveID(a); id != "" {
		return libraryDrive{Client: gc, id: id}
	}
	return gc
}

// libraryFolder names the folder a library's files go in on disk: the
// library's name in the app ("Sales - Contracts"), not "OneDrive".
func (s *Service) libraryFolder(ctx context.Context, b *Browser) func(account string) string {
	return func(account string) string {
		a, err := b.AccountByID(ctx, account)
		if err != nil || libraryDriveID(a) == "" {
			return ""
		}
		return a.DisplayName
	}
}
