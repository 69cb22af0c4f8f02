package restore

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Name limits for files written to disk. Most file systems allow 255
// bytes (or UTF-16 units) per name; names are cut shorter to leave room
// for " (12)" and a temporary suffix.
const (
	// MaxNameBytes is the longest name SafeName returns, in UTF-8 bytes.
	MaxNameBytes = 200
	// DefaultMaxPathBytes is the longest relative path a local restore
	// writes below its folder.
	DefaultMaxPathBytes = 1024
	// shortDirBytes is what folder names are cut to when a path is too long.
	shortDirBytes = 40
)

// reservedNames are device names Windows reserves in every folder, with
// or without an extension ("CON.txt" is reserved too).
var reservedNames = map[string]bool{
	"CON": true, "PRN": true, "AUX": true, "NUL": true, "CONIN$": true, "CONOUT$": true,
}

func reserved(base string) bool {
	u := strings.ToUpper(base)
	if reservedNames[u] {
		return true
	}
	if len(u) >= 4 && (strings.HasPrefix(u, "COM") || strings.HasPrefix(u, "LPT")) {
		switch u[3:] {
		case "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "¹", "²", "³":
			return true
		}
	}
	return false
}

// SafeName turns one name from a backup (a file name, a folder name, a
// mail subject) into a name that can be created on Windows, macOS and
// Linux and that cannot name anything but a single entry in its folder:
//   - Unicode is normalised to NFC, so NFD and NFC spellings of the same
//     name are the same name (and collide visibly, not silently);
//   - control characters and <>:"/\|?* become "_";
//   - trailing dots and spaces are removed (Windows drops them), leading
//     and trailing spaces too;
//   - "", "." and ".." become "_";
//   - Windows device names (CON, NUL, COM1, LPT1, ..., also with an
//     extension) get a "_" prefix;
//   - the name is cut to MaxNameBytes, keeping its extension.
func SafeName(name string) string {
	name = strings.ToValidUTF8(name, "_")
	name = norm.NFC.String(name)
	var b strings.Builder
	for _, r := range name {
		switch {
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			b.WriteByte('_')
		case strings.ContainsRune(`<>:"/\|?*`, r):
			b.WriteByte('_')
		case r == '\u2028' || r == '\u2029' || r == '\ufeff' || unicode.Is(unicode.Bidi_Control, r):
			// Invisible and direction-changing characters hide a name's
			// real extension from a person reading it.
			b.WriteByte('_')
		default:
			b.WriteRune(r)
		}
	}
	s := strings.TrimLeft(b.String(), " ")
	s = strings.TrimRight(s, ". ")
	if s == "" {
		return "_"
	}
	base, _ := splitExt(s)
	if i := strings.IndexByte(base, '.'); i >= 0 {
		base = base[:i]
	}
	if reserved(strings.TrimRight(base, " ")) {
		s = "_" + s
	}
	return truncateName(s, MaxNameBytes)
}

// splitExt splits "report.final.pdf" into "report.final" and ".pdf". A
// leading dot or an extension longer than 16 bytes is not an extension.
func splitExt(name string) (base, ext string) {
	i := strings.LastIndexByte(name, '.')
	if i <= 0 || len(name)-i > 16 {
		return name, ""
	}
	return name[:i], name[i:]
}

// truncateName cuts name to at most n bytes on a character boundary,
// keeping its extension, and never returns a name ending in a dot or
// space.
func truncateName(name string, n int) string {
	if len(name) <= n {
		return name
	}
	base, ext := splitExt(name)
	if len(ext) >= n/2 {
		base, ext = name, ""
	}
	keep := n - len(ext)
	for keep > 0 && !utf8.RuneStart(base[keep]) {
		keep--
	}
	base = strings.TrimRight(base[:keep], ". ")
	if base == "" {
		base = "_"
	}
	return base + ext
}

// numbered is the n-th "keep both" name: "budget (1).xlsx".
func numbered(name string, n int) string {
	base, ext := splitExt(name)
	suffix := " (" + strconv.Itoa(n) + ")"
	if over := len(base) + len(suffix) + len(ext) - MaxNameBytes; over > 0 {
		keep := max(len(base)-over, 1)
		for keep > 1 && !utf8.RuneStart(base[keep]) {
			keep--
		}
		base = base[:keep]
	}
	return base + suffix + ext
}

// foldKey is how names are compared for collisions: case-insensitively
// and after NFC, as Windows and macOS compare them, so a restore behaves
// the same on every system.
func foldKey(p string) string {
	return strings.ToLower(norm.NFC.String(p))
}
