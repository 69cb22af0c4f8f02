package quickxor

import (
	"encoding/binary"
	"errors"
	"hash"
)

const (
	// Size is the length of a QuickXorHash in bytes (160 bits).
	Size = 20
	// BlockSize is the hash's preferred write size in bytes; any size works.
	BlockSize = 64
)

const (
	widthBits = Size * 8 // the rotating vector is 160 bits wide
	shift     = 11       // each input byte lands 11 bits after the previous one
	// Because 11*160 ≡ 0 (mod 160), bytes whose positions are equal modulo
	// 160 land at the same rotation. So Write only XORs input into 160 byte
	// "slots" (20 words at a time), and Sum rotates each slot into place
	// once. gcd(11, 160) = 1, so the 160 slots map to 160 distinct rotations.
	slots = widthBits
	words = slots / 8

	marshalMagic = "qxh\x01"
	marshalSize  = len(marshalMagic) + slots + 8
)

// digest accumulates input by slot; see the comment on slots.
type digest struct {
	// acc holds slot s (input position modulo 160) in byte s%8 of acc[s/8],
	// little-endian, so eight consecutive input bytes XOR in as one word.
	acc [words]uint64
	n   uint64 // total bytes written
}

// New returns a hash.Hash computing QuickXorHash. The result also implements
// encoding.BinaryMarshaler and encoding.BinaryUnmarshaler, so the state of a
// partly hashed download can be saved and resumed.
func New() hash.Hash { return new(digest) }

// Sum returns the QuickXorHash of data.
func Sum(data []byte) [Size]byte {
	var d digest
	d.Write(data)
	var out [Size]byte
	d.sum(&out)
	return out
}

func (d *digest) Size() int      { return Size }
func (d *digest) BlockSize() int { return BlockSize }
func (d *digest) Reset()         { *d = digest{} }

// Write never fails.
func (d *digest) Write(p []byte) (int, error) {
	total := len(p)
	pos := int(d.n % slots)
	d.n += uint64(total)

	// Bytes until the slot position is word aligned.
	for pos%8 != 0 && len(p) > 0 {
		d.acc[pos/8] ^= uint64(p[0]) << (8 * (pos % 8))
		p = p[1:]
		pos = (pos + 1) % slots
	}
	w := pos / 8
	// Whole words until the slot position wraps back to zero.
	for w != 0 && len(p) >= 8 {
		d.acc[w] ^= binary.LittleEndian.Uint64(p)
		p = p[8:]
		w = (w + 1) % words
	}
	// Whole 160-byte rounds: the hot loop.
	if w == 0 {
		for len(p) >= slots {
			d.xorRound(p[:slots])
			p = p[slots:]
		}
	}
	// Remaining words (fewer than a round, so w stays below words).
	for len(p) >= 8 {
		d.acc[w] ^= binary.LittleEndian.Uint64(p)
		p = p[8:]
		w++
	}
	// Remaining bytes.
	pos = w * 8
	for _, b := range p {
		d.acc[pos/8] ^= uint64(b) << (8 * (pos % 8))
		pos++
	}
	return total, nil
}

// xorRound XORs exactly 160 bytes into the 20 accumulator words. Unrolled so
// the compiler drops the bounds checks and keeps the loads independent.
func (d *digest) xorRound(p []byte) {
	_ = p[slots-1]
	a := &d.acc
	le := binary.LittleEndian
	a[0] ^= le.Uint64(p[0:])
	a[1] ^= le.Uint64(p[8:])
	a[2] ^= le.Uint64(p[16:])
	a[3] ^= le.Uint64(p[24:])
	a[4] ^= le.Uint64(p[32:])
	a[5] ^= le.Uint64(p[40:])
	a[6] ^= le.Uint64(p[48:])
	a[7] ^= le.Uint64(p[56:])
	a[8] ^= le.Uint64(p[64:])
	a[9] ^= le.Uint64(p[72:])
	a[10] ^= le.Uint64(p[80:])
	a[11] ^= le.Uint64(p[88:])
	a[12] ^= le.Uint64(p[96:])
	a[13] ^= le.Uint64(p[104:])
	a[14] ^= le.Uint64(p[112:])
	a[15] ^= le.Uint64(p[120:])
	a[16] ^= le.Uint64(p[128:])
	a[17] ^= le.Uint64(p[136:])
	a[18] ^= le.Uint64(p[144:])
	a[19] ^= le.Uint64(p[152:])
}

// Sum appends the hash to b without changing the state, as hash.Hash requires.
func (d *digest) Sum(b []byte) []byte {
	var out [Size]byte
	d.sum(&out)
	return append(b, out[:]...)
}

// sum rotates every slot into the 160-bit vector (bit k of the vector is bit
// k%8 of out[k/8]) and XORs in the length.
func (d *digest) sum(out *[Size]byte) {
	*out = [Size]byte{}
	for s := 0; s < slots; s++ {
		v := byte(d.acc[s/8] >> (8 * (s % 8)))
		if v == 0 {
			continue
		}
		r := s * shift % widthBits
		i, k := r/8, uint(r%8)
		out[i] ^= v << k
		if k != 0 {
			out[(i+1)%Size] ^= v >> (8 - k)
		}
	}
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], d.n)
	for i, b := range n {
		out[Size-8+i] ^= b
	}
}

// AppendBinary implements encoding.BinaryAppender.
func (d *digest) AppendBinary(b []byte) ([]byte, error) {
	b = append(b, marshalMagic...)
	for _, w := range d.acc {
		b = binary.LittleEndian.AppendUint64(b, w)
	}
	return binary.LittleEndian.AppendUint64(b, d.n), nil
}

// MarshalBinary implements encoding.BinaryMarshaler.
func (d *digest) MarshalBinary() ([]byte, error) {
	return d.AppendBinary(make([]byte, 0, marshalSize))
}

// UnmarshalBinary implements encoding.BinaryUnmarshaler.
func (d *digest) UnmarshalBinary(b []byte) error {
	if len(b) != marshalSize || string(b[:len(marshalMagic)]) != marshalMagic {
		return errors.New("quickxor: invalid hash state")
	}
	b = b[len(marshalMagic):]
	for i := range d.acc {
		d.acc[i] = binary.LittleEndian.Uint64(b[8*i:])
	}
	d.n = binary.LittleEndian.Uint64(b[slots:])
	return nil
}
