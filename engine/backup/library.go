package backup

import (
	"context"

	"github.com/lifeboat-backup/lifeboat/engine/graph"
)

// findDrive is the drive a OneDrive run backs up: the user's OneDrive, or
// the document library Options.DriveID names. A library is a drive like a
// OneDrive (same delta, hashes and timestamps), so everything after this
// is the same.
func (ru *run) findDrive(ctx context.Context) (graph.Drive, error) {
	if ru.o.DriveID != "" {
		return ru.g.DriveByID(ctx, ru.o.DriveID)
	}
	return ru.g.GetDrive(ctx, ru.o.User)
}
