package repo

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/lifeboat-backup/lifeboat/engine/store"
)

type memKeyStore struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (k *memKeyStore) Get(id string) ([]byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	v, ok := k.m[id]
	if !ok {
		return nil, fmt.Errorf("memKeyStore %q: %w", id, ErrKeyNotFound)
	}
	return append([]byte(nil), v...), nil
}

func (k *memKeyStore) Set(id string, v []byte) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.m == nil {
		k.m = map[string][]byte{}
	}
	k.m[id] = append([]byte(nil), v...)
	return nil
}

func (k *memKeyStore) Delete(id string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.m[id]; !ok {
		return ErrKeyNotFound
	}
	delete(k.m, id)
	return nil
}

func TestInitOpen(t *testing.T) {
	ctx := context.Background()
	r, st, rk := newTestRepo(t, TestOptions())
	id, _, err := r.SaveBlob(ctx, TreeBlob, []byte("hello"))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := string(readObject(t, st, readmeName)); !strings.Contains(got, "Open an existing backup") {
		t.Fatalf("README.txt lacks restore steps:\n%s", got)
	}
	r2 := reopen(t, st, rk, TestOptions())
	if r2.Config().ID != r.Config().ID {
		t.Fatal("config ID differs after reopen")
	}
	b, err := r2.LoadBlob(ctx, id)
	if err != nil || string(b) != "hello" {
		t.Fatalf("LoadBlob = %q, %v", b, err)
	}
	if _, _, err := Init(ctx, st, TestOptions()); !errors.Is(err, ErrAlreadyExists) {
		t.Fatalf("second Init: %v, want ErrAlreadyExists", err)
	}
	if _, err := Open(ctx, store.NewMemory(), rk.String(), TestOptions()); !errors.Is(err, ErrNotRepository) {
		t.Fatalf("Open empty store: %v, want ErrNotRepository", err)
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	_, st, rk := newTestRepo(t, TestOptions())
	other, _ := generateRecoveryKey()
	s := rk.String()
	typo := s[:8] + string(crockford[(strings.IndexByte(crockford, s[8])+1)%32]) + s[9:]

	tests := []struct {
		name string
		key  string
		want error
	}{
		{"wrong key", other.String(), ErrWrongKey},
		{"typo", typo, ErrInvalidRecoveryKey},
		{"garbage", "hello", ErrInvalidRecoveryKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Open(ctx, st, tt.key, TestOptions())
			if !errors.Is(err, tt.want) {
				t.Fatalf("Open: %v, want %v", err, tt.want)
			}
		})
	}
	var rke *RecoveryKeyError
	if _, err := Open(ctx, st, typo, TestOptions()); !errors.As(err, &rke) || rke.Group != 2 || rke.Char != 3 {
		t.Fatalf("typo located at %+v", rke)
	}
}

func TestNewerVersionRefused(t *testing.T) {
	ctx := context.Background()
	_, st, rk := newTestRepo(t, TestOptions())
	cfg := readObject(t, st, configName)
	binary.LittleEndian.PutUint32(cfg[len(configMagic):], FormatVersion+1)
	putObject(t, st, configName, cfg)

	// Refused before the key is even looked at: also with a wrong key.
	for _, key := range []string{rk.String(), "not a key"} {
		_, err := Open(ctx, st, key, TestOptions())
		var ve *VersionError
		if !errors.Is(err, ErrNewerVersion) || !errors.As(err, &ve) || ve.Found != FormatVersion+1 {
			t.Fatalf("Open: %v, want *VersionError", err)
		}
		if !strings.Contains(err.Error(), "newer Lifeboat") {
			t.Fatalf("message not clear: %v", err)
		}
	}
	// Lowering the version instead fails authentication: the header is AD.
	binary.LittleEndian.PutUint32(cfg[len(configMagic):], 0)
	putObject(t, st, configName, cfg)
	if _, err := Open(ctx, st, rk.String(), TestOptions()); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open with version 0: %v, want ErrCorrupt", err)
	}
}

func TestNewerKeyFileRefused(t *testing.T) {
	kf := keyFile{Version: keyFileVersion + 1, Kind: RecoveryKeySlot}
	b, _ := json.Marshal(kf)
	if _, err := decodeKeyFile(b); !errors.Is(err, ErrNewerVersion) {
		t.Fatalf("decodeKeyFile: %v, want ErrNewerVersion", err)
	}
}

func TestKeyStoreSlot(t *testing.T) {
	ctx := context.Background()
	r, st, rk := newTestRepo(t, TestOptions())
	ks := &memKeyStore{}

	if _, err := OpenWithKeyStore(ctx, st, ks, TestOptions()); !errors.Is(err, ErrNoKeychainKey) {
		t.Fatalf("OpenWithKeyStore before slot: %v", err)
	}
	info, err := r.AddKeyStoreSlot(ctx, ks)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := OpenWithKeyStore(ctx, st, ks, TestOptions())
	if err != nil {
		t.Fatalf("OpenWithKeyStore: %v", err)
	}
	r2.Close()
	// The key file holds no secret: only the wrapped key.
	if strings.Contains(string(readObject(t, st, keysDir+info.ID)), string(ks.m[info.KeyStoreID])) {
		t.Fatal("key store secret leaked into the key file")
	}

	// A fresh computer: the keychain is empty, the recovery key still works.
	if _, err := OpenWithKeyStore(ctx, st, &memKeyStore{}, TestOptions()); !errors.Is(err, ErrNoKeychainKey) {
		t.Fatalf("empty key store: %v", err)
	}
	reopen(t, st, rk, TestOptions())

	// Slot removal: the keystore slot can go, the last recovery key cannot.
	keys, err := r.Keys(ctx)
	if err != nil || len(keys) != 2 {
		t.Fatalf("Keys = %v, %v", keys, err)
	}
	if err := r.RemoveKey(ctx, info.ID, ks); err != nil {
		t.Fatal(err)
	}
	if len(ks.m) != 0 {
		t.Fatal("key store entry not removed")
	}
	for _, k := range keys {
		if k.Kind == RecoveryKeySlot {
			if err := r.RemoveKey(ctx, k.ID, nil); err == nil {
				t.Fatal("removed the last recovery key")
			}
		}
	}
}

func TestAddRecoveryKey(t *testing.T) {
	ctx := context.Background()
	r, st, rk := newTestRepo(t, TestOptions())
	rk2, _, err := r.AddRecoveryKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	reopen(t, st, rk, TestOptions())
	reopen(t, st, rk2, TestOptions())
}

func TestDamagedKeyFileDoesNotLockOut(t *testing.T) {
	ctx := context.Background()
	r, st, rk := newTestRepo(t, TestOptions())
	if _, _, err := r.AddRecoveryKey(ctx); err != nil {
		t.Fatal(err)
	}
	names := listNames(t, st, keysDir)
	// Damage whichever slot is not rk's: rk must still open. Damage both
	// in turn; exactly one of the two trials damages rk's slot.
	opened := 0
	for _, n := range names {
		orig := readObject(t, st, n)
		putObject(t, st, n, []byte("{garbage"))
		if r2, err := Open(ctx, st, rk.String(), TestOptions()); err == nil {
			opened++
			r2.Close()
		} else if !errors.Is(err, ErrWrongKey) || !strings.Contains(err.Error(), "could not be read") {
			t.Fatalf("Open: %v", err)
		}
		putObject(t, st, n, orig)
	}
	if opened != 1 {
		t.Fatalf("opened %d times, want 1", opened)
	}
}

func TestDefaultKDFValid(t *testing.T) {
	if err := DefaultKDF().validate(); err != nil {
		t.Fatal(err)
	}
	if DefaultKDF().MemoryKiB < 64*1024 || DefaultKDF().Time < 3 {
		t.Fatal("default KDF weaker than specified")
	}
}
