//go:build linux

package oracle

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
)

const paul = "paul@contoso.com"

// seedFile is one file of the seeded OneDrive.
type seedFile struct {
	path string
	data []byte
	mod  time.Time
}

func oneDriveSeed() []seedFile {
	rnd := rand.New(rand.NewChaCha8([32]byte{18}))
	randBytes := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rnd.Uint32())
		}
		return b
	}
	at := func(d int) time.Time { return time.Date(2025, 11, d, 9, 30, d, 0, time.UTC) }
	return []seedFile{
		{"Documents/budget 2026.xlsx", randBytes(300_000), at(1)},
		{"Documents/Notes/todo.txt", []byte("call the accountant\n"), at(2)},
		{"Documents/empty.txt", nil, at(3)},
		{"Photos/Ünïcödé – café.jpg", randBytes(1_500_000), at(4)},
		{"Photos/2025/summer/beach #1 (final).png", randBytes(70_000), at(5)},
		{"readme.md", []byte("# Paul's files\n"), at(6)},
		{"Big/video.mp4", randBytes(9 << 20), at(7)},
	}
}

func rclonePath(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("rclone")
	if err != nil {
		t.Fatal("rclone is not installed: run installer/deps.sh (Debian package rclone)")
	}
	return p
}

// TestRcloneOneDrive runs Debian's rclone, an independent OneDrive client,
// against the simulator under Microsoft's host names: it refreshes its
// token at login.microsoftonline.com, lists and copies a seeded OneDrive
// byte for byte with modification times, and a second sync picks up a
// change, an addition and a deletion made in the simulator meanwhile.
func TestRcloneOneDrive(t *testing.T) {
	rclone := rclonePath(t)
	t.Parallel()
	if !Isolated(t) {
		return
	}
	tn := m365sim.NewTenant("Contoso", "contoso.com", nil)
	if _, err := tn.AddUser(paul, "Paul Jones"); err != nil {
		t.Fatal(err)
	}
	seed := oneDriveSeed()
	for _, f := range seed {
		if _, err := tn.PutFile(paul, f.path, m365sim.BytesContent(f.data), f.mod); err != nil {
			t.Fatal(err)
		}
	}
	env := Start(t, tn, m365sim.Options{})
	tok := env.SignIn(t, paul, "Files.ReadWrite.All offline_access User.Read")
	u, err := tn.User(paul)
	if err != nil {
		t.Fatal(err)
	}
	// An expired access token makes rclone refresh it first, at the
	// identity platform's token endpoint.
	token, _ := json.Marshal(map[string]any{"access_token": tok.AccessToken, "token_type": "Bearer",
		"refresh_token": tok.RefreshToken, "expiry": "2001-01-01T00:00:00Z"})
	conf := fmt.Sprintf("[sim]\ntype = onedrive\nclient_id = %s\ntoken = %s\ndrive_id = %s\ndrive_type = business\n",
		env.Server.ClientID(), token, u.Drive.ID)
	confPath := filepath.Join(env.Home, "rclone.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) []byte {
		t.Helper()
		cmd := env.Command(rclone, append([]string{"--config", confPath, "--low-level-retries", "1", "--retries", "1"}, args...)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("rclone %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
		}
		return out
	}

	var listed []struct {
		Path    string
		Size    int64
		ModTime time.Time
		IsDir   bool
		Hashes  map[string]string
	}
	if err := json.Unmarshal(run("lsjson", "-R", "--hash", "sim:"), &listed); err != nil {
		t.Fatal(err)
	}
	files := map[string]bool{}
	for _, l := range listed {
		if l.IsDir {
			continue
		}
		files[l.Path] = true
		f, ok := findSeed(seed, l.Path)
		if !ok {
			t.Errorf("rclone lists %q, which is not in the seed", l.Path)
			continue
		}
		if l.Size != int64(len(f.data)) || !l.ModTime.Equal(f.mod) {
			t.Errorf("rclone lists %q as %d bytes modified %s, want %d bytes modified %s", l.Path, l.Size, l.ModTime, len(f.data), f.mod)
		}
		if l.Hashes["quickxor"] == "" {
			t.Errorf("rclone lists %q with no QuickXorHash: %v", l.Path, l.Hashes)
		}
	}
	if len(files) != len(seed) {
		t.Errorf("rclone lists %d files, the seed has %d", len(files), len(seed))
	}

	dest := filepath.Join(t.TempDir(), "copy")
	run("copy", "sim:", dest)
	checkTree(t, dest, seed)

	// Paul changes the budget, adds a file and deletes the to-do list.
	changed := seedFile{"Documents/budget 2026.xlsx", []byte("new figures\n"), time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)}
	added := seedFile{"Documents/Notes/new.txt", []byte("added later\n"), time.Date(2026, 1, 6, 8, 0, 0, 0, time.UTC)}
	for _, f := range []seedFile{changed, added} {
		if _, err := tn.PutFile(paul, f.path, m365sim.BytesContent(f.data), f.mod); err != nil {
			t.Fatal(err)
		}
	}
	todo, err := tn.DriveItemByPath(paul, "Documents/Notes/todo.txt")
	if err != nil {
		t.Fatal(err)
	}
	if err := tn.DeleteDriveItem(paul, todo.ID); err != nil {
		t.Fatal(err)
	}
	var now []seedFile
	for _, f := range seed {
		switch f.path {
		case changed.path:
			now = append(now, changed)
		case todo.Name, "Documents/Notes/todo.txt":
		default:
			now = append(now, f)
		}
	}
	now = append(now, added)
	run("sync", "sim:", dest)
	checkTree(t, dest, now)
	env.LogRequests(t)
}

func findSeed(seed []seedFile, p string) (seedFile, bool) {
	for _, f := range seed {
		if f.path == p {
			return f, true
		}
	}
	return seedFile{}, false
}

// checkTree compares a local folder with the files it must hold: the same
// names, bytes and modification times, and nothing else.
func checkTree(t *testing.T, dir string, want []seedFile) {
	t.Helper()
	got := map[string]bool{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		got[rel] = true
		f, ok := findSeed(want, rel)
		if !ok {
			t.Errorf("%s holds %q, which it should not", dir, rel)
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if !bytes.Equal(b, f.data) {
			t.Errorf("%q: %d bytes differ from the %d seeded", rel, len(b), len(f.data))
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if !info.ModTime().Equal(f.mod) {
			t.Errorf("%q modified %s, want %s", rel, info.ModTime().UTC(), f.mod)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range want {
		if !got[f.path] {
			t.Errorf("%s lacks %q", dir, f.path)
		}
	}
}
