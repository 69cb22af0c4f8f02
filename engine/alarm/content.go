package alarm

import (
	"bytes"
	"math"
	"path"
	"strings"
	"unicode/utf8"
)

// signatures returns the first bytes files of a signature family start
// with. A file whose name says it is of one of these types and whose
// content does not start like it is no longer readable by its program.
func signatures(family string) []string {
	switch family {
	case "zip":
		return []string{"PK\x03\x04", "PK\x05\x06", "PK\x07\x08"}
	case "pdf":
		return []string{"%PDF-"}
	case "png":
		return []string{"\x89PNG\r\n\x1a\n"}
	case "jpeg":
		return []string{"\xff\xd8\xff"}
	case "gif":
		return []string{"GIF87a", "GIF89a"}
	case "ole":
		return []string{"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"}
	case "rtf":
		return []string{"{\\rtf"}
	}
	return nil
}

// typeOf maps an extension to the signature family it must have, or
// "text" for formats that are text, or "" when Lifeboat cannot tell.
func typeOf(name string) string {
	switch strings.ToLower(strings.TrimPrefix(path.Ext(name), ".")) {
	case "docx", "xlsx", "pptx", "docm", "xlsm", "pptm", "odt", "ods", "odp", "zip", "epub", "vsdx":
		return "zip"
	case "pdf":
		return "pdf"
	case "png":
		return "png"
	case "jpg", "jpeg":
		return "jpeg"
	case "gif":
		return "gif"
	case "doc", "xls", "ppt", "msg", "vsd":
		return "ole"
	case "rtf":
		return "rtf"
	case "mp4", "m4a", "m4v", "mov", "3gp", "heic":
		return "ftyp"
	case "txt", "md", "csv", "tsv", "html", "htm", "xml", "json", "eml", "ics", "vcf", "log", "ini", "yaml", "yml", "svg", "css", "js":
		return "text"
	}
	return ""
}

// entropy is the Shannon entropy of b in bits per byte (0 to 8). Text is
// around 4–5; compressed or encrypted data is close to 8.
func entropy(b []byte) float64 {
	if len(b) == 0 {
		return 0
	}
	var counts [256]int
	for _, c := range b {
		counts[c]++
	}
	h := 0.0
	n := float64(len(b))
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / n
			h -= p * math.Log2(p)
		}
	}
	return h
}

// minSample is the fewest bytes an entropy verdict is made on: on a
// handful of bytes, entropy says nothing.
const minSample = 512

// Sig is what the alarm keeps of a file's first bytes: a few bytes of
// signature and two numbers, not the sample itself, so a first backup of
// thousands of files costs little memory.
type Sig struct {
	Prefix  []byte  // up to 16 bytes
	Len     int     // bytes sampled
	Entropy float64 // bits per byte
	UTF8    bool    // the sample is (mostly) valid UTF-8
}

// SigOf summarises the start of a file's content.
func SigOf(head []byte) Sig {
	return Sig{Prefix: bytes.Clone(head[:min(16, len(head))]), Len: len(head), Entropy: entropy(head), UTF8: mostlyUTF8(head)}
}

// UnreadableAs reports whether the content no longer matches the type the
// name origName (a file's name before this run, when it was renamed) says.
func (s Sig) UnreadableAs(origName string) bool {
	if s.Len == 0 {
		return false
	}
	switch t := typeOf(origName); t {
	case "":
		// Unknown type: only data that looks encrypted counts, and only on
		// a sample large enough to tell.
		return s.Len >= minSample && s.Entropy > 7.9
	case "text":
		return s.Len >= minSample && s.Entropy > 7.2 && !s.UTF8
	case "ftyp":
		return len(s.Prefix) < 8 || !bytes.Equal(s.Prefix[4:8], []byte("ftyp"))
	default:
		for _, sig := range signatures(t) {
			if bytes.HasPrefix(s.Prefix, []byte(sig)) {
				return false
			}
		}
		return true
	}
}

// mostlyUTF8 reports whether b is text in UTF-8 (a few bad bytes, such as
// a rune cut at the end of the sample, are allowed).
func mostlyUTF8(b []byte) bool {
	bad := 0
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n <= 1 {
			bad++
		}
		b = b[max(n, 1):]
	}
	return bad < 8
}
