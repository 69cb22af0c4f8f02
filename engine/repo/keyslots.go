package repo

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
)

// AddRecoveryKey adds a recovery-key slot (for example to replace a key
// the owner fears is exposed) and returns the new key, shown once.
func (r *Repository) AddRecoveryKey(ctx context.Context) (RecoveryKey, KeyInfo, error) {
	rk, err := generateRecoveryKey()
	if err != nil {
		return RecoveryKey{}, KeyInfo{}, err
	}
	kf, err := newRecoveryKeyFile(rk, r.master, r.opts.KDF, r.opts.Now())
	if err != nil {
		return RecoveryKey{}, KeyInfo{}, err
	}
	id, err := writeKeyFile(ctx, r.st, "", kf)
	if err != nil {
		return RecoveryKey{}, KeyInfo{}, err
	}
	return rk, kf.info(id), nil
}

// AddKeyStoreSlot adds a slot unlocked by a random 32-byte key that is
// stored in ks (the OS keychain), so scheduled runs need no recovery key.
// The secret goes into ks before the key file is written: a crash in
// between leaves an unused keychain entry, never an unusable slot.
func (r *Repository) AddKeyStoreSlot(ctx context.Context, ks KeyStore) (KeyInfo, error) {
	kid, err := randomID()
	if err != nil {
		return KeyInfo{}, err
	}
	id := kid.String()
	kek := make([]byte, 32)
	if _, err := rand.Read(kek); err != nil {
		return KeyInfo{}, fmt.Errorf("repo: generating keychain key: %w", err)
	}
	wrapped, err := wrapMasterKey(kek, r.master)
	if err != nil {
		return KeyInfo{}, err
	}
	ksID := "lifeboat/" + r.cfg.ID.String()[:16] + "/" + id[:16]
	if err := ks.Set(ksID, kek); err != nil {
		return KeyInfo{}, fmt.Errorf("repo: saving key in key store: %w", err)
	}
	kf := &keyFile{Version: keyFileVersion, Kind: KeyStoreSlot, Created: r.opts.Now().UTC(), KeyStoreID: ksID, Wrapped: wrapped}
	if _, err := writeKeyFile(ctx, r.st, id, kf); err != nil {
		if derr := ks.Delete(ksID); derr != nil {
			r.log.Warn("could not remove unused key store entry", "id", ksID, "err", derr)
		}
		return KeyInfo{}, err
	}
	return kf.info(id), nil
}

func (kf *keyFile) info(id string) KeyInfo {
	return KeyInfo{ID: id, Kind: kf.Kind, Created: kf.Created, KeyStoreID: kf.KeyStoreID}
}

// Keys lists the readable key slots.
func (r *Repository) Keys(ctx context.Context) ([]KeyInfo, error) {
	files, _, err := listKeyFiles(ctx, r.st)
	if err != nil {
		return nil, err
	}
	out := make([]KeyInfo, 0, len(files))
	for _, f := range files {
		out = append(out, f.kf.info(f.id))
	}
	return out, nil
}

// RemoveKey deletes a key slot, and its key store entry when ks is given.
// The last recovery-key slot cannot be removed: a lost laptop must never
// mean a lost backup.
func (r *Repository) RemoveKey(ctx context.Context, id string, ks KeyStore) error {
	files, _, err := listKeyFiles(ctx, r.st)
	if err != nil {
		return err
	}
	var target *keyFile
	recovery := 0
	for _, f := range files {
		if f.kf.Kind == RecoveryKeySlot {
			recovery++
		}
		if f.id == id {
			target = f.kf
		}
	}
	if target == nil {
		return fmt.Errorf("repo: no key slot %q", truncate(id, 80))
	}
	if target.Kind == RecoveryKeySlot && recovery <= 1 {
		return errors.New("repo: refusing to remove the last recovery key")
	}
	if err := r.st.Delete(ctx, keysDir+id); err != nil {
		return fmt.Errorf("repo: removing key slot: %w", err)
	}
	if target.Kind == KeyStoreSlot && ks != nil {
		if err := ks.Delete(target.KeyStoreID); err != nil && !errors.Is(err, ErrKeyNotFound) && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("repo: removing key store entry: %w", err)
		}
	}
	return nil
}
