package volumes

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// ErrNotFound is returned by FindRepository when no connected drive holds
// the backup.
var ErrNotFound = errors.New("the backup drive is not connected")

// FindOptions say where FindRepository looks.
type FindOptions struct {
	// Roots are searched (each root, and folders up to MaxDepth below
	// it). Default: the mount points of List's external, network and
	// other non-system volumes, and the media roots.
	Roots []string
	// MaxDepth is how many folder levels below a root are searched
	// (default 2: /media/anna/USB/Lifeboat).
	MaxDepth int
	// Volumes is passed to List when Roots is empty.
	Volumes Options
}

// Limits on what a drive can make the search do.
const (
	maxEntriesPerDir = 2000
	maxKeyFiles      = 64
	maxKeyFileSize   = 64 * 1024
	configMagic      = "LIFEBOAT"
	minIDPrefix      = 16
)

// FindRepository returns the folder of the backup whose repository ID is
// id, searching connected drives. Only unencrypted parts are read: the
// config file's "LIFEBOAT" header marks a backup, and the key slots that
// open it with a computer's keychain are named "lifeboat/<first 16 hex
// digits of the ID>/…" (engine/repo keyslots.go). That prefix — 64 random
// bits — tells backups apart; whoever opens the folder then checks the
// full ID in the decrypted config.
func FindRepository(ctx context.Context, id string, o FindOptions) (string, error) {
	id = strings.ToLower(strings.TrimSpace(id))
	if len(id) < minIDPrefix {
		return "", fmt.Errorf("repository ID %q is too short", id)
	}
	if _, err := hex.DecodeString(id[:minIDPrefix]); err != nil {
		return "", fmt.Errorf("repository ID %q is not hexadecimal", id)
	}
	want := "lifeboat/" + id[:minIDPrefix] + "/"
	depth := o.MaxDepth
	if depth <= 0 {
		depth = 2
	}
	roots := o.Roots
	if len(roots) == 0 {
		roots = defaultRoots(o.Volumes)
	}
	seen := map[string]bool{}
	for _, root := range roots {
		found, err := search(ctx, root, want, depth, seen)
		if err != nil {
			return "", err
		}
		if found != "" {
			return found, nil
		}
	}
	return "", ErrNotFound
}

func defaultRoots(o Options) []string {
	var roots []string
	if vs, err := List(o); err == nil {
		for _, v := range vs {
			if !v.System {
				roots = append(roots, v.Path)
			}
		}
	}
	for _, r := range o.mediaRoots() {
		if !slices.Contains(roots, r) {
			roots = append(roots, r)
		}
	}
	return roots
}

// search walks dir breadth-first to depth levels, without following
// symbolic links (a link loop on a drive must not hang the scheduler).
func search(ctx context.Context, dir, want string, depth int, seen map[string]bool) (string, error) {
	level := []string{dir}
	for d := 0; d <= depth && len(level) > 0; d++ {
		var next []string
		for _, p := range level {
			if err := ctx.Err(); err != nil {
				return "", err
			}
			if seen[p] {
				continue
			}
			seen[p] = true
			if isRepository(p, want) {
				return p, nil
			}
			if d == depth {
				continue
			}
			next = append(next, subdirs(p)...)
		}
		level = next
	}
	return "", nil
}

func subdirs(dir string) []string {
	f, err := os.Open(dir)
	if err != nil {
		return nil
	}
	defer f.Close()
	ents, err := f.ReadDir(maxEntriesPerDir)
	if err != nil && !errors.Is(err, io.EOF) && len(ents) == 0 {
		return nil
	}
	var out []string
	for _, e := range ents {
		// Lifeboat's own data folders hold thousands of files and no
		// backups; hidden and system folders are skipped too.
		name := e.Name()
		if !e.IsDir() || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "$") || name == "System Volume Information" {
			continue
		}
		out = append(out, filepath.Join(dir, name))
	}
	slices.Sort(out)
	return out
}

// IsRepository reports whether dir holds the backup with repository ID
// id, by the same unencrypted marks FindRepository looks for.
func IsRepository(dir, id string) bool {
	id = strings.ToLower(strings.TrimSpace(id))
	if len(id) < minIDPrefix {
		return false
	}
	return isRepository(dir, "lifeboat/"+id[:minIDPrefix]+"/")
}

// isRepository reports whether dir is a backup with a keychain slot named
// for the wanted ID.
func isRepository(dir, want string) bool {
	hdr, err := readSmall(filepath.Join(dir, "config"), int64(len(configMagic)))
	if err != nil || string(hdr) != configMagic {
		return false
	}
	f, err := os.Open(filepath.Join(dir, "keys"))
	if err != nil {
		return false
	}
	defer f.Close()
	ents, _ := f.ReadDir(maxKeyFiles)
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		b, err := readSmall(filepath.Join(dir, "keys", e.Name()), maxKeyFileSize)
		if err != nil || len(b) >= maxKeyFileSize {
			continue
		}
		var slot struct {
			Kind       string `json:"kind"`
			KeyStoreID string `json:"keystore_id"`
		}
		if json.NewDecoder(bytes.NewReader(b)).Decode(&slot) != nil {
			continue
		}
		if slot.Kind == "keystore" && strings.HasPrefix(slot.KeyStoreID, want) {
			return true
		}
	}
	return false
}

// readSmall reads at most limit bytes of a regular file.
func readSmall(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	return io.ReadAll(io.LimitReader(f, limit))
}

// WaitForRepository polls every interval until the backup with ID id is
// connected and returns its folder: the app and tray use it to start a
// missed backup as soon as the drive is plugged in.
func WaitForRepository(ctx context.Context, id string, every time.Duration, o FindOptions) (string, error) {
	if every <= 0 {
		every = 5 * time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		p, err := FindRepository(ctx, id, o)
		if !errors.Is(err, ErrNotFound) {
			return p, err
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-t.C:
		}
	}
}
