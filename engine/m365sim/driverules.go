package m365sim

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"
)

// OneDrive's naming and size rules for what a client writes
// (support.microsoft.com "Restrictions and limitations in OneDrive and
// SharePoint": invalid file and folder names, file name and path lengths,
// file size; OneDrive API "Error responses" for the answers):
//   - names not allowed: .lock, CON, PRN, AUX, NUL, COM0-COM9, LPT0-LPT9,
//     desktop.ini, "_vti_" anywhere in a name, and names that begin with ~$;
//   - the whole decoded path of a file, its name included, is at most 400
//     characters;
//   - a file is at most 250 GB;
//   - a drive over its quota answers 507 Insufficient Storage
//     (quotaLimitReached); a locked file (checked out, or open for editing)
//     answers 423 Locked (resourceLocked) to a write that replaces it.
// These apply to writes through Graph; a seeded tenant may hold names
// that OneDrive would refuse today (files from before a rule), which is
// exactly what a restore must cope with.

const (
	// MaxDrivePath is the longest decoded path OneDrive stores, in characters.
	MaxDrivePath = 400
	// MaxDriveFile is the largest file OneDrive stores (250 GB).
	MaxDriveFile = 250 << 30
)

// driveRefusal is a write OneDrive refuses with a status of its own.
type driveRefusal struct {
	status    int
	code, msg string
}

func (e *driveRefusal) Error() string { return e.code + ": " + e.msg }

// CheckServiceName applies the rules OneDrive applies to a name written
// through Graph: ValidateDriveName's characters, and the reserved names.
func CheckServiceName(name string) error {
	if err := ValidateDriveName(name); err != nil {
		return invalid("invalidRequest", "%s", strings.TrimPrefix(err.Error(), "m365sim: "))
	}
	base := strings.ToUpper(name)
	if i := strings.IndexByte(base, '.'); i > 0 {
		base = base[:i]
	}
	reserved := base == "CON" || base == "PRN" || base == "AUX" || base == "NUL" ||
		len(base) == 4 && (strings.HasPrefix(base, "COM") || strings.HasPrefix(base, "LPT")) && base[3] >= '0' && base[3] <= '9'
	lower := strings.ToLower(name)
	switch {
	case reserved, lower == ".lock", lower == "desktop.ini", strings.Contains(lower, "_vti_"), strings.HasPrefix(name, "~$"):
		return invalid("invalidRequest", "The name %q is not allowed in OneDrive.", name)
	}
	return nil
}

// checkUploadLocked applies the path, size, quota and lock rules to a file
// of size bytes written at dir/name (dir below the root), replacing old
// (nil for a new file).
func (t *Tenant) checkUploadLocked(d *Drive, dir, name string, size int64, old *DriveItem) error {
	p := strings.Trim(dir+"/"+name, "/")
	if utf8.RuneCountInString(p) > MaxDrivePath {
		return invalid("invalidRequest", "The path is %d characters long; OneDrive allows %d.", utf8.RuneCountInString(p), MaxDrivePath)
	}
	if size > MaxDriveFile {
		return &driveRefusal{http.StatusRequestEntityTooLarge, "maxFileSizeExceeded", "The file is larger than OneDrive allows (250 GB)."}
	}
	if old != nil && d.locked[old.ID] {
		return &driveRefusal{http.StatusLocked, "resourceLocked", "The resource you are attempting to access is locked."}
	}
	var used int64
	for _, it := range d.items {
		if !it.Folder && it.Content != nil && it != old {
			used += it.Content.Size()
		}
	}
	if used+size > d.Quota {
		return &driveRefusal{http.StatusInsufficientStorage, "quotaLimitReached", "Insufficient Space Available"}
	}
	return nil
}

// writeDriveRefusal answers err when it is a driveRefusal.
func writeDriveRefusal(w http.ResponseWriter, err error) bool {
	var dr *driveRefusal
	if errors.As(err, &dr) {
		writeDriveError(w, dr.status, dr.code, dr.msg)
		return true
	}
	return false
}

// LockFile locks the file at path, as a checked-out file or one open for
// editing is: writes that replace it answer 423 until UnlockFile.
func (t *Tenant) LockFile(user, path string) error { return t.setLock(user, path, true) }

// UnlockFile undoes LockFile.
func (t *Tenant) UnlockFile(user, path string) error { return t.setLock(user, path, false) }

func (t *Tenant) setLock(user, path string, on bool) error {
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
	if it.Folder {
		return fmt.Errorf("m365sim: %s is a folder", path)
	}
	if u.Drive.locked == nil {
		u.Drive.locked = map[string]bool{}
	}
	u.Drive.locked[it.ID] = on
	return nil
}

// SetDriveQuota sets the user's OneDrive quota in bytes.
func (t *Tenant) SetDriveQuota(user string, bytes int64) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	u, err := t.userLocked(user)
	if err != nil {
		return err
	}
	u.Drive.Quota = bytes
	return nil
}
