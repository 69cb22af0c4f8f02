package main

import (
	"context"

	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/restore"
	"github.com/lifeboat-backup/lifeboat/ui"
)

// graphDestination is an account's mailbox and OneDrive: where things
// were, or a new "Restored by Lifeboat <date>" folder there.
func (s *guiRestore) graphDestination(ctx context.Context, a catalog.Account, to ui.RestoreTarget) (restore.Destination, error) {
	if s.o.Graph == nil {
		return nil, problem(errNoGraph)
	}
	gc, err := s.o.Graph(ctx, a)
	if err != nil {
		return nil, problem(err)
	}
	if to == ui.ToNewFolder {
		return restore.ToNewFolder(gc, gc, "me", a.HomeID, restore.NewFolderName(s.o.Now())), nil
	}
	return restore.ToOriginal(gc, gc, "me", a.HomeID), nil
}
