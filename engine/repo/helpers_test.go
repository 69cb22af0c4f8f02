package repo

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"github.com/lifeboat-backup/lifeboat/engine/store"
)

func newTestRepo(t *testing.T, opts Options) (*Repository, store.Store, RecoveryKey) {
	t.Helper()
	st := store.NewMemory()
	r, rk, err := Init(context.Background(), st, opts)
	if err != nil {
		t.Fatalf("Init: %v", err)
	}
	t.Cleanup(func() { r.Close() })
	return r, st, rk
}

func reopen(t *testing.T, st store.Store, rk RecoveryKey, opts Options) *Repository {
	t.Helper()
	r, err := Open(context.Background(), st, rk.String(), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// randomBytes is deterministic per seed, incompressible.
func randomBytes(seed uint64, n int) []byte {
	rnd := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := 0; i < n; i += 8 {
		v := rnd.Uint64()
		for j := 0; j < 8 && i+j < n; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}

func textBytes(n int) []byte {
	var sb strings.Builder
	for i := 0; sb.Len() < n; i++ {
		sb.WriteString("Dear Paul, please find attached the invoice for March. Kind regards, Anna. ")
		sb.WriteString(strings.Repeat("x", i%7))
	}
	return []byte(sb.String()[:n])
}

func readObject(t *testing.T, st store.Store, name string) []byte {
	t.Helper()
	rc, err := st.Get(context.Background(), name, 0, -1)
	if err != nil {
		t.Fatalf("Get %s: %v", name, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return b
}

func putObject(t *testing.T, st store.Store, name string, b []byte) {
	t.Helper()
	if err := st.Put(context.Background(), name, bytes.NewReader(b), int64(len(b))); err != nil {
		t.Fatalf("Put %s: %v", name, err)
	}
}

func listNames(t *testing.T, st store.Store, prefix string) []string {
	t.Helper()
	var out []string
	if err := st.List(context.Background(), prefix, func(fi store.Info) error {
		out = append(out, fi.Name)
		return nil
	}); err != nil {
		t.Fatalf("List %s: %v", prefix, err)
	}
	sort.Strings(out)
	return out
}
