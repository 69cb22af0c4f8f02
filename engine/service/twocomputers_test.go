package service

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/auth"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
	"github.com/lifeboat-backup/lifeboat/engine/repo"
	"github.com/lifeboat-backup/lifeboat/engine/secret"
)

// peerEnv tells TestBackupPeerProcess what to do: "dir|key|config|host".
const peerEnv = "LIFEBOAT_SERVICE_TEST_PEER"

// TestTwoComputersBackUpInTurn: pc-a (another process, its own config
// folder and so its own host identity) is backing up into the folder
// pc-b backs up to. pc-b's backup refuses with a sentence naming pc-a and
// since when; with a wait, it starts once pc-a has finished.
func TestTwoComputersBackUpInTurn(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{AutoApprove: 10 * time.Millisecond})
	tenant, err := TenantFromProfile(srv.Profile(), "")
	if err != nil {
		t.Fatal(err)
	}
	svc := testService(t, func(o *Options) {
		o.Tenant = tenant
		o.Repo.Hostname = "pc-b"
	})
	ctx := t.Context()
	if _, err := svc.SignIn(ctx, func(auth.Event) {}); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "backup")
	nb, err := svc.InitBackup(ctx, dir, true)
	if err != nil {
		t.Fatal(err)
	}
	peerCfg := filepath.Join(t.TempDir(), "config-a")
	cmd := exec.Command(os.Args[0], "-test.run=^TestBackupPeerProcess$", "-test.v")
	cmd.Env = append(os.Environ(), peerEnv+"="+strings.Join([]string{dir, nb.RecoveryKey, peerCfg, "pc-a"}, "|"))
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	sc := bufio.NewScanner(stdout)
	expect := func(prefix string) {
		t.Helper()
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), prefix) {
				return
			}
		}
		t.Fatalf("pc-a ended without saying %q", prefix)
	}
	expect("HOLDING")

	_, err = svc.Backup(ctx, BackupRequest{Dir: dir})
	if err == nil || !strings.Contains(err.Error(), `this backup was not started: the backup is in use: a backup is running on the computer "pc-a", started `) {
		t.Fatalf("pc-b's backup while pc-a backs up: %v", err)
	}
	t.Logf("pc-b is told: %v", err)

	var mu sync.Mutex
	var notes []string
	done := make(chan error, 1)
	go func() {
		_, err := svc.Backup(ctx, BackupRequest{Dir: dir, Wait: 30 * time.Second, Events: BackupEvents{Note: func(s string) {
			mu.Lock()
			notes = append(notes, s)
			mu.Unlock()
		}}})
		done <- err
	}()
	time.Sleep(700 * time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("pc-b's waiting backup did not wait: %v", err)
	default:
	}
	fmt.Fprintln(stdin, "finish")
	expect("RELEASED")
	if err := <-done; err != nil {
		t.Fatalf("pc-b's backup after pc-a finished: %v", err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("pc-a: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(notes) == 0 || !strings.Contains(notes[0], `"pc-a"`) || !strings.Contains(notes[0], "Waiting up to 30s") {
		t.Fatalf("pc-b's notes while waiting: %q", notes)
	}
	a, b := readHostID(t, peerCfg), readHostID(t, svc.ConfigDir())
	if a == b || !validHostID(a) || !validHostID(b) {
		t.Fatalf("host identities %q and %q", a, b)
	}
}

func readHostID(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, HostIDFile))
	if err != nil {
		t.Fatal(err)
	}
	var hf hostFile
	if err := json.Unmarshal(b, &hf); err != nil {
		t.Fatal(err)
	}
	return hf.HostID
}

// TestBackupPeerProcess is pc-a of TestTwoComputersBackUpInTurn: it holds
// the backup lock a backup run holds, in its own process with its own
// config folder, until told to finish (it does nothing when run directly).
func TestBackupPeerProcess(t *testing.T) {
	spec := os.Getenv(peerEnv)
	if spec == "" {
		return
	}
	f := strings.Split(spec, "|")
	dir, key, cfg, host := f[0], f[1], f[2], f[3]
	ro := repo.TestOptions()
	ro.Hostname = host
	svc, err := New(Options{ConfigDir: cfg, CustomConfigDir: true, Keychain: secret.File{Dir: cfg}, Repo: &ro})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	r, err := svc.OpenBackup(ctx, dir, key)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	l, err := r.LockBackup(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("HOLDING")
	bufio.NewScanner(os.Stdin).Scan()
	if err := l.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	fmt.Println("RELEASED")
}
