package repo

import (
	"context"
	"errors"
	"testing"

	"github.com/lifeboat-backup/lifeboat/engine/secret"
	"github.com/lifeboat-backup/lifeboat/engine/store"
)

func TestKeychainKeyStore(t *testing.T) {
	ctx := context.Background()
	ks := KeychainKeyStore(secret.File{Dir: t.TempDir()}, "lifeboat-test")
	if _, err := ks.Get("lifeboat/abc/def"); !errors.Is(err, ErrKeyNotFound) {
		t.Fatalf("Get of a missing key: %v, want ErrKeyNotFound", err)
	}
	if err := ks.Delete("lifeboat/abc/def"); !errors.Is(err, ErrKeyNotFound) {
		t.Fatalf("Delete of a missing key: %v, want ErrKeyNotFound", err)
	}

	st := store.NewMemory()
	r, rk, err := Init(ctx, st, TestOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// Before the slot exists, the keychain has nothing for this backup.
	if _, err := OpenWithKeyStore(ctx, st, ks, TestOptions()); err != nil && !errors.Is(err, ErrNoKeychainKey) {
		t.Fatalf("open without a slot: %v", err)
	}
	info, err := r.AddKeyStoreSlot(ctx, ks)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := OpenWithKeyStore(ctx, st, ks, TestOptions())
	if err != nil {
		t.Fatalf("open with the keychain: %v", err)
	}
	r2.Close()
	// Another installation's (empty) keychain: a clear ErrNoKeychainKey.
	other := KeychainKeyStore(secret.File{Dir: t.TempDir()}, "")
	if _, err := OpenWithKeyStore(ctx, st, other, TestOptions()); !errors.Is(err, ErrNoKeychainKey) {
		t.Fatalf("open with another keychain: %v, want ErrNoKeychainKey", err)
	}
	// A keychain that does not work is reported as such, not as "no key".
	failing := KeychainKeyStore(secret.Failing{}, "")
	if _, err := OpenWithKeyStore(ctx, st, failing, TestOptions()); !errors.Is(err, secret.ErrUnavailable) {
		t.Fatalf("open with a failing keychain: %v, want ErrUnavailable", err)
	}
	if err := r.RemoveKey(ctx, info.ID, ks); err != nil {
		t.Fatalf("RemoveKey: %v", err)
	}
	if _, err := ks.Get(info.KeyStoreID); !errors.Is(err, ErrKeyNotFound) {
		t.Fatalf("keychain entry survived RemoveKey: %v", err)
	}
	if _, err := Open(ctx, st, rk.String(), TestOptions()); err != nil {
		t.Fatalf("the recovery key must still open it: %v", err)
	}
}
