package m365sim

import "fmt"

// PackageOneNote is the package type of a OneNote notebook.
const PackageOneNote = "oneNote"

// MakePackage turns the folder at path into a package of the given type,
// as a OneNote notebook is in OneDrive: "the top level item that
// represents the notebook has a package facet", and "DriveItems with the
// package facet do not include a folder or file facet but are
// conceptually similar to an item with a folder facet" (resources/package.md).
// Its children (the notebook's section files) stay ordinary files. Delta
// reports the change.
func (t *Tenant) MakePackage(user, path, kind string) error {
	if kind == "" {
		return fmt.Errorf("m365sim: a package needs a type")
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	u, err := t.userLocked(user)
	if err != nil {
		return err
	}
	it, err := u.Drive.byPathLocked(path)
	if err != nil {
		return err
	}
	if !it.Folder || it.ID == u.Drive.RootID {
		return fmt.Errorf("m365sim: %s is not a folder: %w", path, ErrConflict)
	}
	it.Package = kind
	it.Modified = t.now().UTC()
	it.Seq = t.bump()
	it.stamp()
	return nil
}
