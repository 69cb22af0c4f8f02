package cli

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/repo"
	"github.com/lifeboat-backup/lifeboat/engine/secret"
	"github.com/lifeboat-backup/lifeboat/engine/service"
)

// cliPeerEnv tells TestCLIBackupPeerProcess what to do: "dir|key|config|host".
const cliPeerEnv = "LIFEBOAT_CLI_TEST_PEER"

// TestSecondComputerBackup: while another computer (another process with
// its own config folder, so its own host identity) is backing up into the
// folder, `lifeboat backup` refuses with a sentence naming that computer
// and since when; with --wait it waits and backs up once that one is done.
func TestSecondComputerBackup(t *testing.T) {
	_, profile, cfg := loginEnv(t, m365sim.Options{AutoApprove: 10 * time.Millisecond})
	t.Setenv("LIFEBOAT_RECOVERY_KEY", "")
	t.Setenv("LIFEBOAT_REPO", "")
	ctx := t.Context()
	p := func(args ...string) []string {
		return append([]string{"--tenant-profile", profile}, append(args, "--secret-store", "file")...)
	}
	if code, out, errOut := lifeboat(t, ctx, p("login")...); code != exitOK {
		t.Fatalf("login: exit %d\n%s\n%s", code, out, errOut)
	}
	dir, key := initRepo(t, "--secret-store", "file")

	cmd := exec.Command(os.Args[0], "-test.run=^TestCLIBackupPeerProcess$", "-test.v")
	cmd.Env = append(os.Environ(), cliPeerEnv+"="+strings.Join([]string{dir, key, filepath.Join(t.TempDir(), "pc-a"), "pc-a"}, "|"))
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

	code, _, errOut := lifeboat(t, ctx, p("backup", "--to", dir)...)
	if code != exitFailure || !strings.Contains(errOut, `a backup is running on the computer "pc-a", started `) ||
		!strings.Contains(errOut, "lifeboat: this backup was not started: the backup is in use") {
		t.Fatalf("backup while pc-a backs up: exit %d\n%s", code, errOut)
	}
	t.Logf("refused with: %s", strings.TrimSpace(errOut))

	go func() {
		time.Sleep(700 * time.Millisecond)
		fmt.Fprintln(stdin, "finish")
	}()
	start := time.Now()
	code, out, errOut := lifeboat(t, ctx, p("backup", "--to", dir, "--wait", "30s")...)
	if code != exitOK || time.Since(start) < 700*time.Millisecond {
		t.Fatalf("backup --wait: exit %d after %s\n%s\n%s", code, time.Since(start), out, errOut)
	}
	if !strings.Contains(out+errOut, "Waiting up to 30s") {
		t.Errorf("backup --wait did not say it waits:\n%s\n%s", out, errOut)
	}
	expect("RELEASED")
	if err := cmd.Wait(); err != nil {
		t.Fatalf("pc-a: %v", err)
	}
	if _, err := os.Stat(filepath.Join(cfg, service.HostIDFile)); err != nil {
		t.Errorf("this computer keeps no identity: %v", err)
	}
}

// TestCLIBackupPeerProcess is pc-a of TestSecondComputerBackup: it holds
// the lock a backup run holds until told to finish (it does nothing when
// run directly).
func TestCLIBackupPeerProcess(t *testing.T) {
	spec := os.Getenv(cliPeerEnv)
	if spec == "" {
		return
	}
	f := strings.Split(spec, "|")
	dir, key, cfg, host := f[0], f[1], f[2], f[3]
	ro := repo.Options{Hostname: host}
	svc, err := service.New(service.Options{ConfigDir: cfg, CustomConfigDir: true, Keychain: secret.File{Dir: cfg}, Repo: &ro})
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
