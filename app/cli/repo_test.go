package cli

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/repo"
	"github.com/lifeboat-backup/lifeboat/engine/secret"
	"github.com/lifeboat-backup/lifeboat/engine/store"
)

var recoveryKeyRE = regexp.MustCompile(`\n    ([0-9A-Z]{5}(?:-[0-9A-Z]{5}){6})\n`)

// repoEnv points the config folder at a temporary one and clears the
// environment the repository commands read.
func repoEnv(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "config")
	t.Setenv("LIFEBOAT_CONFIG_DIR", dir)
	t.Setenv("LIFEBOAT_SECRET_STORE", "")
	t.Setenv("LIFEBOAT_RECOVERY_KEY", "")
	t.Setenv("LIFEBOAT_REPO", "")
	return dir
}

// initRepo runs init and returns the backup folder and its recovery key.
func initRepo(t *testing.T, extra ...string) (string, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "backup")
	code, out, errOut := runCLI(t, append([]string{"init", "--to", dir}, extra...)...)
	if code != exitOK {
		t.Fatalf("init: exit %d: %s", code, errOut)
	}
	m := recoveryKeyRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("init printed no recovery key:\n%s", out)
	}
	if !strings.Contains(out, recoveryKeyWarning) {
		t.Errorf("init does not tell the owner to write the key down:\n%s", out)
	}
	if strings.Contains(errOut, m[1]) {
		t.Error("recovery key printed on stderr too")
	}
	return dir, m[1]
}

// writeTree fills a folder with text, random data and a nested file.
func writeTree(t *testing.T, dir string, seed uint64) {
	t.Helper()
	rnd := rand.New(rand.NewPCG(seed, 1))
	big := make([]byte, 3<<20)
	for i := range big {
		big[i] = byte(rnd.Uint32())
	}
	files := map[string][]byte{
		"big.bin":            big,
		"notes/letter.txt":   bytes.Repeat([]byte("Dear Paul, the invoice for March is attached. "), 2000),
		"notes/deep/tiny.md": []byte("# tiny\n"),
		"empty":              nil,
	}
	for name, b := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := runCLI(t, args...)
	if code != exitOK {
		t.Fatalf("%v: exit %d\nstdout: %s\nstderr: %s", args, code, out, errOut)
	}
	return out
}

func packFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(filepath.Join(dir, "data"), func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && !strings.HasPrefix(d.Name(), ".") {
			out = append(out, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRepoCommands goes through a backup's life with the file secret store:
// init, ingest, list, verify, damage, verify again, repair, prune, unlock.
func TestRepoCommands(t *testing.T) {
	repoEnv(t)
	t.Setenv("LIFEBOAT_SECRET_STORE", "file")
	dir, _ := initRepo(t)
	src := t.TempDir()
	writeTree(t, src, 1)

	out := mustRun(t, "bench", "ingest", src, "--to", dir)
	for _, want := range []string{"files:      4", "bytes:", "new stored:", "duration:", "MB/s"} {
		if !strings.Contains(out, want) {
			t.Errorf("bench ingest output lacks %q:\n%s", want, out)
		}
	}
	// LIFEBOAT_REPO stands in for --to.
	t.Setenv("LIFEBOAT_REPO", dir)
	out = mustRun(t, "snapshots")
	if !strings.Contains(out, "bench") || !strings.Contains(out, "1 snapshots") {
		t.Errorf("snapshots:\n%s", out)
	}
	out = mustRun(t, "verify", "--read-data")
	if !strings.Contains(out, "No damage found") {
		t.Errorf("verify --read-data:\n%s", out)
	}
	mustRun(t, "verify", "--read-data-subset", "50%")
	mustRun(t, "verify", "--read-data-subset", "1/2")
	if code, _, _ := runCLI(t, "verify", "--read-data-subset", "3/2"); code != exitUsage {
		t.Errorf("verify with subset 3/2: exit %d, want usage error", code)
	}

	// A second, changed ingest of the same folder, then prune the first away.
	writeTree(t, src, 2)
	mustRun(t, "bench", "ingest", src)
	before := packFiles(t, dir)
	out = mustRun(t, "prune", "--dry-run", "--keep-within", "0d", "--keep-daily", "1", "--grace", "0")
	if !strings.Contains(out, "would forget 1") || !strings.Contains(out, "Nothing was changed") {
		t.Errorf("prune --dry-run:\n%s", out)
	}
	if after := packFiles(t, dir); len(after) != len(before) {
		t.Fatalf("dry run changed the data files: %d → %d", len(before), len(after))
	}
	out = mustRun(t, "prune", "--keep-within", "0d", "--keep-daily", "1", "--grace", "0")
	if !strings.Contains(out, "Deleted 1 snapshots") || strings.Contains(out, ": 0 B freed") {
		t.Errorf("prune:\n%s", out)
	}
	out = mustRun(t, "snapshots")
	if !strings.Contains(out, "1 snapshots") {
		t.Errorf("after prune:\n%s", out)
	}
	mustRun(t, "verify", "--read-data")

	// Damage one byte of a data file: verify names the pack, the blob and the file.
	packs := packFiles(t, dir)
	var victim string
	for _, p := range packs {
		if fi, _ := os.Stat(p); fi.Size() > 1<<20 {
			victim = p
		}
	}
	if victim == "" {
		t.Fatalf("no large data file among %v", packs)
	}
	b, err := os.ReadFile(victim)
	if err != nil {
		t.Fatal(err)
	}
	b[1000] ^= 0x01
	if err := os.WriteFile(victim, b, 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, "verify", "--read-data")
	if code != exitFailure {
		t.Fatalf("verify of a damaged backup: exit %d\n%s", code, out)
	}
	for _, want := range []string{filepath.Base(victim), "blob is damaged", "Affected:", "big.bin"} {
		if !strings.Contains(out, want) {
			t.Errorf("verify output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "verify found") {
		t.Errorf("stderr: %s", errOut)
	}
	// Structure alone is fine: the index and snapshots are intact.
	mustRun(t, "verify")

	// Repair rebuilds the index; deleting index files is what it mends.
	idx, _ := filepath.Glob(filepath.Join(dir, "index", "*"))
	for _, p := range idx {
		os.Remove(p)
	}
	if code, out, _ := runCLI(t, "verify"); code != exitFailure {
		t.Errorf("verify without an index: exit %d\n%s", code, out)
	}
	out = mustRun(t, "repair")
	if !strings.Contains(out, "Rebuilt the index") {
		t.Errorf("repair:\n%s", out)
	}
	mustRun(t, "verify")
	_, help, _ := runCLI(t, "repair", "--help")
	if !strings.Contains(help, "catalog") {
		t.Errorf("repair --help does not say the catalog rebuild comes later:\n%s", help)
	}

	// Unlock: a lock of a dead process is stale; --all removes live ones too.
	st, err := store.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfgKeyRepo := openForTest(t, st)
	l, err := cfgKeyRepo.Lock(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock(context.Background())
	out = mustRun(t, "unlock")
	if !strings.Contains(out, "Removed 0 locks") || !strings.Contains(out, "--all") {
		t.Errorf("unlock with a live lock:\n%s", out)
	}
	code, out, errOut = runCLI(t, "unlock", "--all")
	if code != exitOK || !strings.Contains(out, "Removed 1 locks") || !strings.Contains(errOut, "warning: removing every lock") {
		t.Errorf("unlock --all: exit %d\n%s\n%s", code, out, errOut)
	}
}

// openForTest opens a backup with the file keychain of the test's config folder.
func openForTest(t *testing.T, st store.Store) *repo.Repository {
	t.Helper()
	kc := secret.File{Dir: os.Getenv("LIFEBOAT_CONFIG_DIR")}
	r, err := repo.OpenWithKeyStore(context.Background(), st, repo.KeychainKeyStore(kc, repo.DefaultKeychainService), repo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func TestRepoOpenErrors(t *testing.T) {
	repoEnv(t)
	dir, key := initRepo(t, "--secret-store", "file")
	_, otherKey := initRepo(t, "--secret-store", "file")

	t.Run("wrong recovery key", func(t *testing.T) {
		code, _, errOut := runCLI(t, "snapshots", "--to", dir, "--recovery-key", otherKey)
		if code != exitFailure || !strings.Contains(errOut, "wrong recovery key") {
			t.Errorf("exit %d: %s", code, errOut)
		}
	})
	t.Run("mistyped recovery key", func(t *testing.T) {
		bad := key[:len(key)-1] + map[bool]string{true: "1", false: "2"}[key[len(key)-1] != '1']
		code, _, errOut := runCLI(t, "snapshots", "--to", dir, "--recovery-key", bad)
		if code != exitFailure || !strings.Contains(errOut, "not a valid recovery key") {
			t.Errorf("exit %d: %s", code, errOut)
		}
	})
	t.Run("right recovery key, flag and environment", func(t *testing.T) {
		fresh := filepath.Join(t.TempDir(), "elsewhere")
		t.Setenv("LIFEBOAT_CONFIG_DIR", fresh) // a computer without the keychain entry
		mustRun(t, "snapshots", "--to", dir, "--recovery-key", strings.ToLower(key), "--secret-store", "file")
		t.Setenv("LIFEBOAT_RECOVERY_KEY", key)
		mustRun(t, "snapshots", "--to", dir, "--secret-store", "file")
	})
	t.Run("no key on this computer", func(t *testing.T) {
		// Run as a scheduled job would: with no terminal to ask on.
		devNull, err := os.Open(os.DevNull)
		if err != nil {
			t.Fatal(err)
		}
		saved := os.Stdin
		os.Stdin = devNull
		t.Cleanup(func() { os.Stdin = saved; devNull.Close() })
		t.Setenv("LIFEBOAT_CONFIG_DIR", filepath.Join(t.TempDir(), "elsewhere"))
		code, _, errOut := runCLI(t, "snapshots", "--to", dir, "--secret-store", "file")
		if code != exitFailure || !strings.Contains(errOut, "holds no key") || !strings.Contains(errOut, "--recovery-key") {
			t.Errorf("exit %d: %s", code, errOut)
		}
	})
	t.Run("missing destination", func(t *testing.T) {
		missing := filepath.Join(t.TempDir(), "unplugged", "backup")
		for _, args := range [][]string{
			{"snapshots", "--to", missing, "--secret-store", "file"},
			{"snapshots", "--backup", missing, "--secret-store", "file"},
			{"verify", "--to", missing, "--recovery-key", key},
			{"init", "--to", missing, "--secret-store", "file"},
			{"bench", "ingest", t.TempDir(), "--to", missing, "--secret-store", "file"},
		} {
			code, _, errOut := runCLI(t, args...)
			// Exit 5, as for a backup: the drive or folder is not there.
			if code != exitDestinationMissing || !strings.Contains(errOut, "backup drive not found") || strings.Contains(errOut, "goroutine") {
				t.Errorf("%v: exit %d: %s", args, code, errOut)
			}
		}
		if _, err := os.Stat(filepath.Dir(missing)); err == nil {
			t.Error("init created the missing drive's folder")
		}
	})
	t.Run("no destination", func(t *testing.T) {
		code, _, errOut := runCLI(t, "snapshots")
		if code != exitUsage || !strings.Contains(errOut, "LIFEBOAT_REPO") {
			t.Errorf("exit %d: %s", code, errOut)
		}
	})
	t.Run("not a backup", func(t *testing.T) {
		code, _, errOut := runCLI(t, "snapshots", "--to", t.TempDir(), "--secret-store", "file")
		if code != exitFailure || !strings.Contains(errOut, "is not a Lifeboat backup") {
			t.Errorf("exit %d: %s", code, errOut)
		}
	})
	t.Run("newer format", func(t *testing.T) {
		copyDir := filepath.Join(t.TempDir(), "copy")
		if err := os.CopyFS(copyDir, os.DirFS(dir)); err != nil {
			t.Fatal(err)
		}
		cfg := filepath.Join(copyDir, "config")
		b, err := os.ReadFile(cfg)
		if err != nil {
			t.Fatal(err)
		}
		b[8] = 9 // the little-endian format version after "LIFEBOAT"
		if err := os.WriteFile(cfg, b, 0o600); err != nil {
			t.Fatal(err)
		}
		for _, extra := range [][]string{{"--recovery-key", key}, {"--secret-store", "file"}} {
			code, _, errOut := runCLI(t, append([]string{"snapshots", "--to", copyDir}, extra...)...)
			if code != exitFailure || !strings.Contains(errOut, "newer version of Lifeboat") {
				t.Errorf("%v: exit %d: %s", extra, code, errOut)
			}
		}
	})
}

func TestInitRefusals(t *testing.T) {
	repoEnv(t)
	dir, _ := initRepo(t, "--secret-store", "file")
	code, out, errOut := runCLI(t, "init", "--to", dir, "--secret-store", "file")
	if code != exitFailure || !strings.Contains(errOut, "already holds a Lifeboat backup") || recoveryKeyRE.MatchString(out) {
		t.Errorf("second init: exit %d: %s %s", code, out, errOut)
	}
	busy := t.TempDir()
	if err := os.WriteFile(filepath.Join(busy, "holiday.jpg"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = runCLI(t, "init", "--to", busy, "--secret-store", "file")
	if code != exitFailure || !strings.Contains(errOut, "not empty and is not a Lifeboat backup") {
		t.Errorf("init in a used folder: exit %d: %s", code, errOut)
	}
	if entries, _ := os.ReadDir(busy); len(entries) != 1 {
		t.Errorf("init wrote into a used folder: %v", entries)
	}
	// A bad --secret-store is refused before anything is created.
	newDir := filepath.Join(t.TempDir(), "new")
	if code, _, errOut := runCLI(t, "init", "--to", newDir, "--secret-store", "pocket"); code != exitUsage {
		t.Errorf("init --secret-store pocket: exit %d: %s", code, errOut)
	}
	if _, err := os.Stat(newDir); err == nil {
		t.Error("init with a bad --secret-store created the folder")
	}
	// An existing empty folder is fine.
	empty := t.TempDir()
	mustRun(t, "init", "--to", empty, "--secret-store", "file")
}

// TestRepoRealKeychain uses the system keychain (installer/test-session.sh
// provides a real Secret Service).
func TestRepoRealKeychain(t *testing.T) {
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		t.Fatal("no D-Bus session: this test needs the real keychain; run it as `bash installer/test-session.sh go test ./app/` (make test does)")
	}
	repoEnv(t)
	dir, _ := initRepo(t)
	src := t.TempDir()
	writeTree(t, src, 3)
	mustRun(t, "bench", "ingest", src, "--to", dir)
	out := mustRun(t, "snapshots", "--to", dir)
	if !strings.Contains(out, "1 snapshots") {
		t.Errorf("snapshots:\n%s", out)
	}
}

func TestParseSubset(t *testing.T) {
	for in, want := range map[string]repo.Subset{
		"10%": {Percent: 10}, "0.5%": {Percent: 0.5}, "100%": {Percent: 100},
		"1/7": {Part: 1, Of: 7}, "7/7": {Part: 7, Of: 7},
	} {
		got, err := parseSubset(in)
		if err != nil || got != want {
			t.Errorf("parseSubset(%q) = %+v, %v", in, got, err)
		}
	}
	for _, in := range []string{"0%", "101%", "x%", "0/7", "8/7", "1/0", "abc", ""} {
		if _, err := parseSubset(in); err == nil {
			t.Errorf("parseSubset(%q) accepted", in)
		}
	}
}

func TestParseAge(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"30d": 30 * 24 * time.Hour, "0d": 0, "2w": 14 * 24 * time.Hour, "1y": 365 * 24 * time.Hour, "12h": 12 * time.Hour,
	} {
		got, err := parseAge(in)
		if err != nil || got != want {
			t.Errorf("parseAge(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"-1d", "xd", "soon", ""} {
		if _, err := parseAge(in); err == nil {
			t.Errorf("parseAge(%q) accepted", in)
		}
	}
}
