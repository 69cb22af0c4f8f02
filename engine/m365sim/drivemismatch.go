package m365sim

import "fmt"

// RewriteOnDownload makes the download host serve served for the file at
// path instead of the bytes its size and QuickXorHash describe, which the
// item's metadata keeps reporting. OneDrive for Business and SharePoint do
// this to some files: Office documents SharePoint "enriches" with its own
// properties after upload, sensitivity-labelled files, some photos
// (OneDrive/onedrive-api-docs issues #1066 "[ODB] GET item report wrong
// information sometimes", #935 and #492; rclone's OneDrive documentation,
// "Unexpected file size/hash differences on Sharepoint"). The rewrite is
// stable: every download serves the same bytes, until the file is written
// again.
func (t *Tenant) RewriteOnDownload(user, path string, served Content) error {
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
	if it.Folder || it.Content == nil {
		return fmt.Errorf("m365sim: %s is not a file", path)
	}
	it.Served = served
	return nil
}
