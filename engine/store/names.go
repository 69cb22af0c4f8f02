package store

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// tempPrefix starts the name of every temporary file a Local store writes.
// No valid object name has a component starting with it, so List can skip
// temp files and CleanTemp can remove them without touching an object.
const tempPrefix = ".tmp-"

// ValidateName reports whether name is acceptable as an object name, and
// why not. Names are slash-separated relative paths ("data/3f/3fa9…").
// The rules keep a name inside its folder on every OS Lifeboat runs on, and
// keep names portable, so a repository written on Linux reads on Windows:
//   - not empty, valid UTF-8, no NUL or other control characters;
//   - not absolute, no backslash, no ':' (drive letters, NTFS streams) and
//     none of the other characters Windows forbids (* ? " < > |);
//   - no empty, "." or ".." component, none ending in '.' or ' ' (Windows
//     would silently strip them), no Windows device name (CON, NUL, COM1, …);
//   - no component starting with ".tmp-", which is reserved for temp files.
//
// Names are compared byte for byte, but a Local store on Windows or macOS
// sees "A" and "a" as the same file: use one case (the repository uses
// lowercase hex).
func ValidateName(name string) error {
	bad := func(why string) error { return fmt.Errorf("%w %q: %s", ErrInvalidName, name, why) }
	if name == "" {
		return bad("empty")
	}
	if name[0] == '/' {
		return bad("absolute path")
	}
	if why := badChars(name); why != "" {
		return bad(why)
	}
	for comp := range strings.SplitSeq(name, "/") {
		if why := validateComponent(comp); why != "" {
			return bad(why)
		}
	}
	return nil
}

// validateComponent returns why one path component is unacceptable, or "".
func validateComponent(c string) string {
	switch {
	case c == "":
		return "empty path component"
	case c == "." || c == "..":
		return "'.' or '..' component"
	case strings.HasPrefix(c, tempPrefix):
		return "component starts with reserved " + tempPrefix
	case strings.HasSuffix(c, ".") || strings.HasSuffix(c, " "):
		return "component ends in '.' or space"
	case isWindowsDevice(c):
		return "Windows device name"
	}
	return ""
}

// isWindowsDevice reports names Windows maps to devices, with or without an
// extension ("nul.txt" is the NUL device too).
func isWindowsDevice(c string) bool {
	base, _, _ := strings.Cut(c, ".")
	base = strings.TrimRight(base, " ")
	switch strings.ToUpper(base) {
	case "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$":
		return true
	}
	if len(base) == 4 {
		u := strings.ToUpper(base[:3])
		if (u == "COM" || u == "LPT") && base[3] >= '0' && base[3] <= '9' {
			return true
		}
	}
	return false
}

// badChars returns why s contains a character no name may contain, or "".
func badChars(s string) string {
	if !utf8.ValidString(s) {
		return "not valid UTF-8"
	}
	for _, c := range s {
		switch {
		case c < 0x20 || c == 0x7f:
			return "control character"
		case c == '\\':
			return "backslash"
		case c == ':':
			return "colon (drive letter or stream)"
		case strings.ContainsRune(`*?"<>|`, c):
			return fmt.Sprintf("character %q not allowed on Windows", c)
		}
	}
	return ""
}

// validatePrefix checks a List prefix: everything up to its last '/' must be
// a valid name, and the partial last component may not contain a character
// no name can contain. (A partial component such as "." or "CO" is fine: it
// only narrows what is listed.)
func validatePrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	if prefix[0] == '/' {
		return fmt.Errorf("%w: prefix %q is absolute", ErrInvalidName, prefix)
	}
	dir, last := splitPrefix(prefix)
	if dir != "" {
		if err := ValidateName(dir); err != nil {
			return fmt.Errorf("prefix %q: %w", prefix, err)
		}
	}
	if why := badChars(last); why != "" {
		return fmt.Errorf("%w: prefix %q: %s", ErrInvalidName, prefix, why)
	}
	return nil
}

// splitPrefix splits "data/3f" into the directory part "data" and the
// partial last component "3f".
func splitPrefix(prefix string) (dir, last string) {
	i := strings.LastIndexByte(prefix, '/')
	if i < 0 {
		return "", prefix
	}
	return prefix[:i], prefix[i+1:]
}
