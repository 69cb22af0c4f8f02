package repo

import (
	"crypto/rand"
	"fmt"
	"log/slog"
	"strings"
)

// A recovery key is 30 random symbols of Crockford's base32 (150 bits),
// shown as six groups of five, followed by a seventh group of five check
// symbols:
//
//	7KQ2M-XW9DA-0RT4N-H8J3C-VB6PE-Z1FGS-4MX0Q
//
// The check symbols are the syndromes S_k = Σ v_i·α^(i·k), k = 0…4, of the
// data symbols v_i over GF(32) (FORMAT.md §2). Any five or fewer mistyped
// data symbols are always detected, and a single mistyped symbol is located
// exactly, so the app can say "group 3, character 4 looks wrong" before it
// spends a second on Argon2id.
const (
	rkDataSymbols  = 30
	rkCheckSymbols = 5
	rkGroupSize    = 5
	rkSymbols      = rkDataSymbols + rkCheckSymbols
	rkGroups       = rkSymbols / rkGroupSize
	crockford      = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
)

// RecoveryKey is a parsed, checksum-verified recovery key. Its String form
// is what the user writes down. It implements slog.LogValuer so that it is
// redacted if it is ever passed to a logger by mistake.
type RecoveryKey struct {
	data [rkDataSymbols]byte // symbol values 0..31
}

// String returns the key in its canonical written form with check group.
func (k RecoveryKey) String() string {
	var sb strings.Builder
	all := make([]byte, 0, rkSymbols)
	all = append(all, k.data[:]...)
	chk := rkChecksum(&k.data)
	all = append(all, chk[:]...)
	for i, v := range all {
		if i > 0 && i%rkGroupSize == 0 {
			sb.WriteByte('-')
		}
		sb.WriteByte(crockford[v])
	}
	return sb.String()
}

// LogValue keeps the key out of logs.
func (k RecoveryKey) LogValue() slog.Value { return slog.StringValue("[recovery key redacted]") }

// password is the Argon2id input: the 30 data symbols as canonical
// uppercase ASCII, without separators or check group.
func (k RecoveryKey) password() []byte {
	out := make([]byte, rkDataSymbols)
	for i, v := range k.data {
		out[i] = crockford[v]
	}
	return out
}

func generateRecoveryKey() (RecoveryKey, error) {
	var k RecoveryKey
	var raw [rkDataSymbols]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return k, fmt.Errorf("repo: generating recovery key: %w", err)
	}
	for i, b := range raw {
		k.data[i] = b & 31 // 256 is a multiple of 32: uniform
	}
	return k, nil
}

// RecoveryKeyError says what is wrong with a typed recovery key and, when
// it can be located, where: Group 1–7 and Char 1–5 (0 when unknown).
type RecoveryKeyError struct {
	Group, Char int
	Reason      string
}

func (e *RecoveryKeyError) Error() string {
	if e.Group > 0 && e.Char > 0 {
		return fmt.Sprintf("recovery key: group %d, character %d: %s", e.Group, e.Char, e.Reason)
	}
	return "recovery key: " + e.Reason
}

// Is makes errors.Is(err, ErrInvalidRecoveryKey) true.
func (e *RecoveryKeyError) Is(target error) bool { return target == ErrInvalidRecoveryKey }

// ParseRecoveryKey accepts a recovery key as typed by a person: any case,
// spaces or dashes anywhere, and the look-alikes O (for 0) and I, L (for 1).
func ParseRecoveryKey(s string) (RecoveryKey, error) {
	var k RecoveryKey
	var syms [rkSymbols]byte
	n := 0
	for _, r := range s {
		switch r {
		case ' ', '-', '\t', '\n', '\r', '_', '.':
			continue
		}
		if n >= rkSymbols {
			n++
			continue
		}
		v, ok := crockfordValue(r)
		if !ok {
			return k, &RecoveryKeyError{Group: n/rkGroupSize + 1, Char: n%rkGroupSize + 1,
				Reason: fmt.Sprintf("%q is not a character used in recovery keys", r)}
		}
		syms[n] = v
		n++
	}
	if n != rkSymbols {
		return k, &RecoveryKeyError{Reason: fmt.Sprintf("a recovery key has %d characters in %d groups of %d; this has %d", rkSymbols, rkGroups, rkGroupSize, n)}
	}
	copy(k.data[:], syms[:rkDataSymbols])
	want := rkChecksum(&k.data)
	var delta [rkCheckSymbols]byte
	nonzero := 0
	for i := range delta {
		delta[i] = want[i] ^ syms[rkDataSymbols+i]
		if delta[i] != 0 {
			nonzero++
		}
	}
	switch {
	case nonzero == 0:
		return k, nil
	case nonzero == 1:
		// Only one check symbol disagrees: that symbol was mistyped.
		for i, d := range delta {
			if d != 0 {
				return RecoveryKey{}, &RecoveryKeyError{Group: rkGroups, Char: i + 1, Reason: "this character looks mistyped"}
			}
		}
	}
	if pos, ok := locateSingleError(delta); ok {
		return RecoveryKey{}, &RecoveryKeyError{Group: pos/rkGroupSize + 1, Char: pos%rkGroupSize + 1, Reason: "this character looks mistyped"}
	}
	return RecoveryKey{}, &RecoveryKeyError{Reason: "the characters do not add up (more than one typo?); compare it with the written key character by character"}
}

func crockfordValue(r rune) (byte, bool) {
	if r >= 'a' && r <= 'z' {
		r -= 'a' - 'A'
	}
	switch r {
	case 'O':
		r = '0'
	case 'I', 'L':
		r = '1'
	}
	if i := strings.IndexRune(crockford, r); i >= 0 && r < 128 {
		return byte(i), true
	}
	return 0, false
}

// GF(32) with the primitive polynomial x^5 + x^2 + 1.
var gfExp, gfLog = gfTables()

func gfTables() (exp [62]byte, log [32]byte) {
	x := byte(1)
	for i := 0; i < 31; i++ {
		exp[i] = x
		exp[i+31] = x
		log[x] = byte(i)
		x <<= 1
		if x&32 != 0 {
			x ^= 0x25
		}
	}
	return exp, log
}

func gfMul(a, b byte) byte {
	if a == 0 || b == 0 {
		return 0
	}
	return gfExp[int(gfLog[a])+int(gfLog[b])]
}

// rkChecksum computes S_k = Σ_i v_i · α^(i·k) for k = 0…4, i = 0…29.
func rkChecksum(data *[rkDataSymbols]byte) [rkCheckSymbols]byte {
	var s [rkCheckSymbols]byte
	for i, v := range data {
		for k := range s {
			s[k] ^= gfMul(v, gfExp[(i*k)%31])
		}
	}
	return s
}

// locateSingleError returns the data position i if the syndrome differences
// are exactly those of one wrong symbol: delta_k = e·α^(i·k) for all k.
func locateSingleError(delta [rkCheckSymbols]byte) (int, bool) {
	e := delta[0]
	if e == 0 || delta[1] == 0 {
		return 0, false
	}
	i := (int(gfLog[delta[1]]) - int(gfLog[e]) + 31) % 31
	if i >= rkDataSymbols {
		return 0, false
	}
	for k := range delta {
		if delta[k] != gfMul(e, gfExp[(i*k)%31]) {
			return 0, false
		}
	}
	return i, true
}
