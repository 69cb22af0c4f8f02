package restore

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/lifeboat-backup/lifeboat/engine/graph"
)

// OneDrive's naming and size rules (support.microsoft.com, "Restrictions
// and limitations in OneDrive and SharePoint"): some names are refused
// (CON, PRN, AUX, NUL, COM0-9, LPT0-9, .lock, desktop.ini, names with
// "_vti_", names beginning with ~$, and the characters " * : < > ? / \ |),
// a file's whole path is at most 400 characters, a file at most 250 GB. A
// backup may hold names OneDrive refuses today, and "Restored by Lifeboat
// DATE/" in front of a deep path may push it past 400 characters, so a
// restore to OneDrive adjusts the name or the folder names, and says so in
// the step's Reason.
const (
	oneDriveMaxPath = 400
	oneDriveMaxFile = 250 << 30
	// oneDriveShortDir is what folder names are cut to when a path is too
	// long, in characters.
	oneDriveShortDir = 40
)

// oneDriveName returns a name OneDrive accepts for name, and whether it
// had to change it.
func oneDriveName(name string) (string, bool) {
	out := strings.Map(func(r rune) rune {
		if strings.ContainsRune(`"*:<>?/\|`, r) || r < 0x20 {
			return '_'
		}
		return r
	}, name)
	out = strings.TrimSpace(out)
	if strings.HasPrefix(out, "~$") {
		out = "~_" + out[2:]
	}
	for strings.Contains(strings.ToLower(out), "_vti_") {
		i := strings.Index(strings.ToLower(out), "_vti_")
		out = out[:i] + "_vti-" + out[i+5:]
	}
	base := strings.ToUpper(out)
	if i := strings.IndexByte(base, '.'); i > 0 {
		base = base[:i]
	}
	lower := strings.ToLower(out)
	if base == "CON" || base == "PRN" || base == "AUX" || base == "NUL" ||
		len(base) == 4 && (strings.HasPrefix(base, "COM") || strings.HasPrefix(base, "LPT")) && base[3] >= '0' && base[3] <= '9' ||
		lower == ".lock" || lower == "desktop.ini" {
		out = "_" + out
	}
	if out == "" || out == "." || out == ".." {
		out = "_"
	}
	return out, out != name
}

// fitOneDrivePath makes folder/name (folder by component) a path OneDrive
// takes: refused names adjusted, and folder names shortened when the path
// is longer than 400 characters. why says what changed, "" when nothing.
func fitOneDrivePath(folder []string, name string) ([]string, string, string) {
	var why []string
	out := make([]string, len(folder))
	changed := false
	for i, c := range folder {
		out[i], _ = oneDriveName(c)
		changed = changed || out[i] != c
	}
	if changed {
		why = append(why, "folder names OneDrive does not allow were changed")
	}
	n, renamed := oneDriveName(name)
	if renamed {
		why = append(why, fmt.Sprintf("OneDrive does not allow the name %q", name))
	}
	if pathLen(out, n) > oneDriveMaxPath {
		for i := range out {
			if utf8.RuneCountInString(out[i]) > oneDriveShortDir {
				out[i] = strings.TrimRight(string([]rune(out[i])[:oneDriveShortDir]), ". ")
			}
		}
		if pathLen(out, n) > oneDriveMaxPath {
			keep := oneDriveMaxPath - pathLen(out, "")
			base, ext := splitExt(n)
			if r := []rune(base); keep-len([]rune(ext)) > 0 && len(r) > keep-len([]rune(ext)) {
				n = string(r[:keep-len([]rune(ext))]) + ext
			}
		}
		why = append(why, "folder names were shortened: OneDrive allows paths of at most 400 characters")
	}
	return out, n, strings.Join(why, "; ")
}

// pathLen is the length in characters of folder/name.
func pathLen(folder []string, name string) int {
	n := utf8.RuneCountInString(name)
	for _, c := range folder {
		n += utf8.RuneCountInString(c) + 1
	}
	return n
}

// oneDriveWriteError says in words why OneDrive refused a file.
func oneDriveWriteError(path string, err error) error {
	var ge *graph.Error
	if !errors.As(err, &ge) {
		return nil
	}
	switch ge.Status {
	case http.StatusInsufficientStorage:
		return fmt.Errorf("restore: OneDrive is full, so %s was not put back; free some space in OneDrive and restore it again: %w", path, err)
	case http.StatusLocked:
		return fmt.Errorf("restore: %s is open or checked out in OneDrive, so it was not replaced; close it there and restore it again: %w", path, err)
	}
	return nil
}
