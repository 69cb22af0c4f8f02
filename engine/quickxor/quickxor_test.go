package quickxor

import (
	"bytes"
	"encoding"
	"encoding/base64"
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// refSum is a deliberately naive QuickXorHash written straight from
// Microsoft's description, bit by bit, to check the word-at-a-time
// implementation against: bit k of input byte i is XORed into bit
// (11*i + k) mod 160 of a 160-bit vector held as 20 little-endian bytes, and
// the input length (64-bit little-endian) is XORed into the last 8 bytes.
func refSum(data []byte) [Size]byte {
	var v [Size]byte
	for i, b := range data {
		for k := 0; k < 8; k++ {
			if b&(1<<k) == 0 {
				continue
			}
			bit := (11*i + k) % 160
			v[bit/8] ^= 1 << (bit % 8)
		}
	}
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(data)))
	for i := range n {
		v[12+i] ^= n[i]
	}
	return v
}

// pattern returns deterministic, non-repeating-looking test input.
func pattern(n int, f func(i int) byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = f(i)
	}
	return b
}

func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// Expected values were checked three ways: the bit-by-bit refSum above, the
// independent quickxor of Debian's rclone 1.60.1 (`rclone hashsum quickxor
// --base64`, converted from URL-safe base64), and, for "" and "hello world",
// values published alongside other implementations of Microsoft's algorithm.
// The short ones can also be checked by hand: "a" puts 0x61 in byte 0 and the
// length 1 in byte 12.
var vectors = []struct {
	name string
	in   []byte
	want string
}{
	{"empty", nil, "AAAAAAAAAAAAAAAAAAAAAAAAAAA="},
	{"a", []byte("a"), "YQAAAAAAAAAAAAAAAQAAAAAAAAA="},
	{"abc", []byte("abc"), "YRDDGAAAAAAAAAAAAwAAAAAAAAA="},
	{"hello world", []byte("hello world"), "aCgDG9jwBhDc4Q1yawMZAAAAAAA="},
	{"fox", []byte("The quick brown fox jumps over the lazy dog"), "bMSlbysmxJL6S75XwfMcQZOpcr4="},
	{"160 zero bytes", make([]byte, 160), "AAAAAAAAAAAAAAAAoAAAAAAAAAA="},
	{"161 0xff bytes", bytes.Repeat([]byte{0xff}, 161), "/wAAAAAAAAAAAAAAoQAAAAAAAAA="},
	{"1000-byte pattern", pattern(1000, func(i int) byte { return byte(i*7 + 3) }), "dgD8j0n8sM0aPE5CUJ8tqmilX/E="},
	{"1 MiB pattern", pattern(1<<20, func(i int) byte { return byte(i*31 + i/256) }), "jId7FrqeLHiY+efdA7wwgK1ckDM="},
}

func TestVectors(t *testing.T) {
	for _, tc := range vectors {
		t.Run(tc.name, func(t *testing.T) {
			h := New()
			h.Write(tc.in)
			if got := base64.StdEncoding.EncodeToString(h.Sum(nil)); got != tc.want {
				t.Errorf("New().Sum = %s, want %s", got, tc.want)
			}
			s := Sum(tc.in)
			if got := base64.StdEncoding.EncodeToString(s[:]); got != tc.want {
				t.Errorf("Sum = %s, want %s", got, tc.want)
			}
			r := refSum(tc.in)
			if got := base64.StdEncoding.EncodeToString(r[:]); got != tc.want {
				t.Errorf("reference = %s, want %s (the vector or the reference is wrong)", got, tc.want)
			}
		})
	}
}

// TestMatchesReference compares against the bit-by-bit version for every
// length around the word and 160-byte boundaries, and some larger ones.
func TestMatchesReference(t *testing.T) {
	var lengths []int
	for n := 0; n <= 2*160+17; n++ {
		lengths = append(lengths, n)
	}
	lengths = append(lengths, 1000, 4096, 65537, 100003)
	for _, n := range lengths {
		data := randomBytes(uint64(n), n)
		want := refSum(data)
		if got := Sum(data); got != want {
			t.Fatalf("len %d: Sum = %x, reference = %x", n, got, want)
		}
	}
}

func TestChunkedWrites(t *testing.T) {
	data := randomBytes(42, 5000)
	want := refSum(data)
	r := rand.New(rand.NewPCG(1, 2))

	splits := []struct {
		name  string
		chunk func() int
	}{
		{"bytes", func() int { return 1 }},
		{"7", func() int { return 7 }},
		{"8", func() int { return 8 }},
		{"159", func() int { return 159 }},
		{"161", func() int { return 161 }},
		{"random 0-400", func() int { return r.IntN(401) }},
		{"random 0-20", func() int { return r.IntN(21) }},
	}
	for _, sp := range splits {
		t.Run(sp.name, func(t *testing.T) {
			for trial := 0; trial < 20; trial++ {
				h := New()
				rest := data
				for len(rest) > 0 {
					n := min(sp.chunk(), len(rest))
					if w, err := h.Write(rest[:n]); w != n || err != nil {
						t.Fatalf("Write = %d, %v; want %d, nil", w, err, n)
					}
					rest = rest[n:]
				}
				if got := h.Sum(nil); !bytes.Equal(got, want[:]) {
					t.Fatalf("trial %d: chunked = %x, want %x", trial, got, want)
				}
			}
		})
	}
}

func TestSumAppendsAndKeepsState(t *testing.T) {
	h := New()
	h.Write([]byte("hello "))
	prefix := []byte("prefix")
	mid := h.Sum(prefix)
	if !bytes.Equal(mid[:len(prefix)], prefix) || len(mid) != len(prefix)+Size {
		t.Fatalf("Sum(prefix) = %q, want prefix followed by %d hash bytes", mid, Size)
	}
	wantMid := refSum([]byte("hello "))
	if !bytes.Equal(mid[len(prefix):], wantMid[:]) {
		t.Fatalf("intermediate Sum = %x, want %x", mid[len(prefix):], wantMid)
	}
	// Sum must not have disturbed the state.
	h.Write([]byte("world"))
	if got := base64.StdEncoding.EncodeToString(h.Sum(nil)); got != "aCgDG9jwBhDc4Q1yawMZAAAAAAA=" {
		t.Fatalf("after Sum and more writes: %s", got)
	}
}

func TestReset(t *testing.T) {
	h := New()
	h.Write(randomBytes(7, 333))
	h.Reset()
	if got := h.Sum(nil); !bytes.Equal(got, make([]byte, Size)) {
		t.Fatalf("after Reset, Sum = %x, want zeros", got)
	}
	h.Write([]byte("hello world"))
	if got := base64.StdEncoding.EncodeToString(h.Sum(nil)); got != "aCgDG9jwBhDc4Q1yawMZAAAAAAA=" {
		t.Fatalf("after Reset and Write: %s", got)
	}
}

func TestSizes(t *testing.T) {
	h := New()
	if h.Size() != 20 || Size != 20 {
		t.Errorf("Size = %d / %d, want 20", h.Size(), Size)
	}
	if h.BlockSize() != 64 || BlockSize != 64 {
		t.Errorf("BlockSize = %d / %d, want 64", h.BlockSize(), BlockSize)
	}
}

// TestMarshalResume checks that a saved state resumes to the same hash,
// which a resumed download relies on.
func TestMarshalResume(t *testing.T) {
	data := randomBytes(9, 10007)
	want := refSum(data)
	for _, cut := range []int{0, 1, 159, 160, 4099, len(data)} {
		h := New()
		h.Write(data[:cut])
		state, err := h.(encoding.BinaryMarshaler).MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		h2 := New()
		if err := h2.(encoding.BinaryUnmarshaler).UnmarshalBinary(state); err != nil {
			t.Fatalf("cut %d: UnmarshalBinary: %v", cut, err)
		}
		h2.Write(data[cut:])
		if got := h2.Sum(nil); !bytes.Equal(got, want[:]) {
			t.Fatalf("cut %d: resumed = %x, want %x", cut, got, want)
		}
	}

	bad := [][]byte{nil, []byte("qxh\x01"), make([]byte, marshalSize)}
	for _, b := range bad {
		if err := New().(encoding.BinaryUnmarshaler).UnmarshalBinary(b); err == nil {
			t.Errorf("UnmarshalBinary(%d bytes) accepted an invalid state", len(b))
		}
	}
}

func BenchmarkQuickXor(b *testing.B) {
	for _, bc := range []struct {
		name string
		size int
	}{{"1KiB", 1 << 10}, {"1MiB", 1 << 20}} {
		data := randomBytes(1, bc.size)
		b.Run(bc.name, func(b *testing.B) {
			h := New()
			b.SetBytes(int64(bc.size))
			for b.Loop() {
				h.Write(data)
			}
			h.Sum(nil)
		})
	}
}
