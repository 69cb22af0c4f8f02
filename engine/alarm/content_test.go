package alarm

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

func TestUnreadableAs(t *testing.T) {
	rnd := make([]byte, 4096)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range rnd {
		rnd[i] = byte(r.Uint32())
	}
	text := bytes.Repeat([]byte("Dear Paul, the invoice for March is attached. Kind regards, Anna. "), 80)
	zip := append([]byte("PK\x03\x04\x14\x00"), rnd...)
	mp4 := append([]byte("\x00\x00\x00\x20ftypisom"), rnd...)
	cases := []struct {
		name string
		data []byte
		want bool
	}{
		{"report.docx", zip, false},
		{"report.docx", rnd, true},
		{"report.docx", text, true},
		{"scan.pdf", []byte("%PDF-1.7\n..."), false},
		{"scan.pdf", rnd, true},
		{"notes.txt", text, false},
		{"notes.txt", rnd, true},
		{"notes.txt", rnd[:100], false}, // too little to tell
		{"film.mp4", mp4, false},
		{"film.mp4", rnd, true},
		{"photo.JPG", append([]byte("\xff\xd8\xff\xe0"), rnd...), false},
		{"data.bin", rnd, true}, // unknown type: looks encrypted
		{"data.bin", text, false},
		{"empty.txt", nil, false},
	}
	for _, c := range cases {
		if got := SigOf(c.data).UnreadableAs(c.name); got != c.want {
			t.Errorf("%s with %d bytes (entropy %.2f): unreadable = %v, want %v", c.name, len(c.data), entropy(c.data), got, c.want)
		}
	}
}

func FuzzSig(f *testing.F) {
	f.Add("a.docx", []byte("PK\x03\x04"))
	f.Add("b.mp4", []byte("\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, name string, b []byte) {
		s := SigOf(b)
		_ = s.UnreadableAs(name)
		if s.Entropy < 0 || s.Entropy > 8.0001 {
			t.Fatalf("entropy %v", s.Entropy)
		}
	})
}
