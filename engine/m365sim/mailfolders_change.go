package m365sim

import (
	"errors"
	"fmt"
	"strings"
)

// Mail folders change while a backup knows them: a person moves a folder
// under another one (or into Deleted Items, which is what deleting it in
// Outlook does) or deletes it for good. As documented:
//   - a folder's ID does not change when it moves: "Container types
//     (mailFolder, calendar, etc.) don't support immutable IDs, but their
//     regular IDs were already constant" (learn.microsoft.com/graph/outlook-immutable-id);
//   - mailFolder: delta reports a moved folder with its new parentFolderId,
//     and a deleted one as an entry with only its id and "@removed":
//     {"reason": "deleted"} (mailFolder: delta, "the @removed annotation");
//   - a deleted folder takes its subfolders and their messages with it;
//     asking for its messages answers 404 ErrorItemNotFound.

// MoveFolder moves a folder (with everything in it) below another folder,
// given by ID, well-known name or path ("Archive/2025").
func (t *Tenant) MoveFolder(user, folderID, toFolder string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	u, err := t.userLocked(user)
	if err != nil {
		return err
	}
	f, err := u.folderLocked(folderID)
	if err != nil {
		return err
	}
	to, err := u.folderLocked(toFolder)
	if err != nil {
		if to, err = u.folderByPathLocked(toFolder); err != nil {
			return err
		}
	}
	if f.ID == u.rootFolder || f.WellKnownName != "" {
		return fmt.Errorf("m365sim: the folder %s cannot be moved", f.DisplayName)
	}
	for cur := to; cur != nil; cur = u.folders[cur.ParentID] {
		if cur.ID == f.ID {
			return errors.New("m365sim: cannot move a folder into itself")
		}
	}
	for _, c := range u.childFoldersLocked(to.ID) {
		if strings.EqualFold(c.DisplayName, f.DisplayName) {
			return fmt.Errorf("m365sim: %s already has a folder %s: %w", to.DisplayName, f.DisplayName, ErrConflict)
		}
	}
	f.ParentID = to.ID
	f.Seq = t.bump()
	return nil
}

// DeleteFolder deletes a folder for good, with its subfolders and every
// message in them (as purging it from Deleted Items does).
func (t *Tenant) DeleteFolder(user, folderID string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	u, err := t.userLocked(user)
	if err != nil {
		return err
	}
	f, err := u.folderLocked(folderID)
	if err != nil {
		return err
	}
	if f.ID == u.rootFolder || f.WellKnownName != "" {
		return fmt.Errorf("m365sim: the folder %s cannot be deleted", f.DisplayName)
	}
	t.deleteFolderLocked(u, f)
	return nil
}

func (t *Tenant) deleteFolderLocked(u *User, f *MailFolder) {
	for _, c := range u.childFoldersLocked(f.ID) {
		t.deleteFolderLocked(u, c)
	}
	for id, m := range u.messages {
		if m.FolderID == f.ID {
			delete(u.messages, id)
			u.mailGone = append(u.mailGone, tombstone{ID: id, ParentID: f.ID, Seq: t.bump()})
		}
	}
	delete(u.folders, f.ID)
	u.foldersGone = append(u.foldersGone, tombstone{ID: f.ID, ParentID: f.ParentID, Seq: t.bump()})
}

// goneFoldersLocked are the folders deleted in (since, upto], as delta
// tombstones.
func (u *User) goneFoldersLocked(since, upto int64) []*MailFolder {
	var out []*MailFolder
	for _, g := range u.foldersGone {
		if g.Seq > since && g.Seq <= upto {
			out = append(out, &MailFolder{ID: g.ID, ParentID: g.ParentID, Seq: g.Seq, removed: true})
		}
	}
	return out
}
