package restore

import (
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSafeName(t *testing.T) {
	long := strings.Repeat("x", 296) + ".txt"
	longUni := strings.Repeat("é", 150) + ".docx" // 300 bytes of two-byte letters
	for _, c := range []struct{ in, want string }{
		{"budget.xlsx", "budget.xlsx"},
		{"../../evil", ".._.._evil"},
		{"..", "_"},
		{".", "_"},
		{"", "_"},
		{"   ", "_"},
		{`a:b*c?.txt`, "a_b_c_.txt"},
		{`<>"|\/`, "______"},
		{"CON", "_CON"},
		{"con", "_con"},
		{"NUL.txt", "_NUL.txt"},
		{"nul.tar.gz", "_nul.tar.gz"},
		{"COM1", "_COM1"},
		{"lpt9.log", "_lpt9.log"},
		{"COM¹", "_COM¹"},
		{"COM10", "COM10"},
		{"CONSOLE", "CONSOLE"},
		{"trailing. . ", "trailing"},
		{"name.", "name"},
		{" lead", "lead"},
		{"tab\there\x01.txt", "tab_here_.txt"},
		{"bad\xff.txt", "bad_.txt"},
		{"cafe\u0301.txt", "caf\u00e9.txt"}, // NFD becomes NFC
		{"invoice\u202Etxt.exe", "invoice_txt.exe"},
		{long, strings.Repeat("x", MaxNameBytes-4) + ".txt"},
	} {
		if got := SafeName(c.in); got != c.want {
			t.Errorf("SafeName(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	got := SafeName(longUni)
	if len(got) > MaxNameBytes || !utf8.ValidString(got) || !strings.HasSuffix(got, ".docx") {
		t.Errorf("SafeName(300-byte Unicode) = %q (%d bytes)", got, len(got))
	}
}

func TestNumbered(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{
		{"budget.xlsx", 1, "budget (1).xlsx"},
		{"README", 2, "README (2)"},
		{".profile", 1, ".profile (1)"},
		{"a.tar.gz", 3, "a.tar (3).gz"},
	} {
		if got := numbered(c.in, c.n); got != c.want {
			t.Errorf("numbered(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
	long := strings.Repeat("y", MaxNameBytes-4) + ".txt"
	if got := numbered(long, 12); len(got) > MaxNameBytes || !strings.HasSuffix(got, " (12).txt") {
		t.Errorf("numbered(long) = %q (%d bytes)", got, len(got))
	}
}

// FuzzSafeName: whatever a backup calls an item, SafeName gives one
// local, portable, stable name.
func FuzzSafeName(f *testing.F) {
	for _, s := range []string{"", ".", "..", "../../evil", "/etc/passwd", `C:\x`, "CON", "con .txt", "a\x00b", "trailing. . ",
		"cafe\u0301", strings.Repeat("é", 300), "x\u202e", "\xff\xfe", "COM¹.log", " lead", "e\x01\u0301"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got := SafeName(in)
		switch {
		case got == "" || got == "." || got == "..":
			t.Fatalf("SafeName(%q) = %q", in, got)
		case len(got) > MaxNameBytes:
			t.Fatalf("SafeName(%q) is %d bytes", in, len(got))
		case !utf8.ValidString(got):
			t.Fatalf("SafeName(%q) = %q is not UTF-8", in, got)
		case strings.ContainsAny(got, "<>:\"/\\|?*"):
			t.Fatalf("SafeName(%q) = %q has a reserved character", in, got)
		case strings.HasSuffix(got, ".") || strings.HasSuffix(got, " ") || strings.HasPrefix(got, " "):
			t.Fatalf("SafeName(%q) = %q ends in a dot or space", in, got)
		case !filepath.IsLocal(got) || filepath.Base(got) != got:
			t.Fatalf("SafeName(%q) = %q is not one local name", in, got)
		case SafeName(got) != got:
			t.Fatalf("SafeName is not stable: %q → %q → %q", in, got, SafeName(got))
		}
		for _, r := range got {
			if r < 0x20 || r == 0x7f {
				t.Fatalf("SafeName(%q) = %q has a control character", in, got)
			}
		}
		base, _, _ := strings.Cut(got, ".")
		if reserved(strings.TrimRight(base, " ")) {
			t.Fatalf("SafeName(%q) = %q is a Windows device name", in, got)
		}
		if n := numbered(got, 123); len(n) > MaxNameBytes || SafeName(n) != n {
			t.Fatalf("numbered(%q) = %q", got, n)
		}
	})
}
