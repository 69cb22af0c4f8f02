package repo

import (
	"errors"
	"strings"
	"testing"
)

func TestRecoveryKeyRoundTrip(t *testing.T) {
	for range 50 {
		k, err := generateRecoveryKey()
		if err != nil {
			t.Fatal(err)
		}
		s := k.String()
		if len(s) != 41 || strings.Count(s, "-") != 6 {
			t.Fatalf("bad format %q", s)
		}
		variants := []string{s, strings.ToLower(s), strings.ReplaceAll(s, "-", " "), strings.ReplaceAll(s, "-", ""),
			strings.NewReplacer("0", "o", "1", "l").Replace(s)}
		for _, v := range variants {
			got, err := ParseRecoveryKey(v)
			if err != nil {
				t.Fatalf("ParseRecoveryKey(%q): %v", v, err)
			}
			if got != k {
				t.Fatalf("ParseRecoveryKey(%q) = %v, want %v", v, got, k)
			}
		}
	}
}

// Every single-character substitution anywhere is caught and located.
func TestRecoveryKeyLocatesEverySingleTypo(t *testing.T) {
	k, _ := generateRecoveryKey()
	s := strings.ReplaceAll(k.String(), "-", "")
	for pos := range len(s) {
		for _, c := range crockford {
			if byte(c) == s[pos] {
				continue
			}
			typo := s[:pos] + string(c) + s[pos+1:]
			_, err := ParseRecoveryKey(typo)
			var rke *RecoveryKeyError
			if !errors.As(err, &rke) || !errors.Is(err, ErrInvalidRecoveryKey) {
				t.Fatalf("typo at %d (%c) not caught: %v", pos, c, err)
			}
			if rke.Group != pos/5+1 || rke.Char != pos%5+1 {
				t.Fatalf("typo at %d located at group %d char %d", pos, rke.Group, rke.Char)
			}
		}
	}
}

func TestRecoveryKeyErrors(t *testing.T) {
	k, _ := generateRecoveryKey()
	s := strings.ReplaceAll(k.String(), "-", "")
	swapped := []byte(s)
	for i := 0; i+1 < rkDataSymbols; i++ {
		if swapped[i] != swapped[i+1] {
			swapped[i], swapped[i+1] = swapped[i+1], swapped[i]
			break
		}
	}
	tests := []struct {
		name      string
		in        string
		wantGroup int
		wantChar  int
	}{
		{"empty", "", 0, 0},
		{"too short", s[:34], 0, 0},
		{"too long", s + "A", 0, 0},
		{"U is not used", "U" + s[1:], 1, 1},
		{"punctuation", s[:12] + "!" + s[13:], 3, 3},
		{"transposition", string(swapped), -1, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseRecoveryKey(tt.in)
			var rke *RecoveryKeyError
			if !errors.As(err, &rke) {
				t.Fatalf("err = %v, want *RecoveryKeyError", err)
			}
			if tt.wantGroup >= 0 && (rke.Group != tt.wantGroup || rke.Char != tt.wantChar) {
				t.Fatalf("located at %d/%d, want %d/%d (%v)", rke.Group, rke.Char, tt.wantGroup, tt.wantChar, err)
			}
		})
	}
}

func TestRecoveryKeyNotLogged(t *testing.T) {
	k, _ := generateRecoveryKey()
	if v := k.LogValue().String(); strings.Contains(v, k.String()[:5]) {
		t.Fatalf("LogValue leaks key: %q", v)
	}
}
