package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/lifeboat-backup/lifeboat/app/apptest"
	"github.com/lifeboat-backup/lifeboat/engine/auth"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
	"github.com/lifeboat-backup/lifeboat/engine/secret"
	"github.com/lifeboat-backup/lifeboat/engine/service"
)

// loginEnv starts a simulator with the environment Lifeboat reads cleared.
func loginEnv(t *testing.T, opts m365sim.Options) (*m365sim.Server, string, string) {
	t.Helper()
	return apptest.LoginEnv(t, opts)
}

func lifeboat(t *testing.T, ctx context.Context, args ...string) (int, string, string) {
	t.Helper()
	var out, errb apptest.SyncBuffer
	code := run(ctx, args, &out, &errb)
	return code, out.String(), errb.String()
}

var userCodeRE = regexp.MustCompile(`enter the code:\n\n    (\S+)\n`)

// TestLoginWhoamiLogout signs in through the CLI with the real keychain
// (installer/test-session.sh), shows the account, and signs out.
func TestLoginWhoamiLogout(t *testing.T) {
	if runtime.GOOS == "linux" && os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		t.Fatal("no D-Bus session: run with the real keychain, e.g. `bash installer/test-session.sh go test ./app/` (as `make test` does)")
	}
	_, profile, dir := loginEnv(t, m365sim.Options{AutoApprove: 10 * time.Millisecond})
	keyAccount := auth.DefaultKeyAccount + ":" + dir
	t.Cleanup(func() { _ = keyring.Delete(auth.KeychainService, keyAccount) })
	ctx := t.Context()

	code, out, errOut := lifeboat(t, ctx, "--tenant-profile", profile, "--log-level", "debug", "login")
	if code != exitOK {
		t.Fatalf("login: exit %d\n%s\n%s", code, out, errOut)
	}
	m := userCodeRE.FindStringSubmatch(out)
	if m == nil || !strings.Contains(out, "/devicelogin") || !strings.Contains(out, "Signed in as Alice Archer ("+simtest.Alice+")") {
		t.Fatalf("login printed:\n%s", out)
	}
	if strings.Contains(errOut, m[1]) {
		t.Error("the user code is in the log")
	}
	if strings.Contains(errOut, secret.FileWarning) {
		t.Error("file-store warning with the keychain")
	}
	raw, err := keyring.Get(auth.KeychainService, keyAccount)
	if err != nil {
		t.Fatalf("key not in the keyring: %v", err)
	}
	if k, err := base64.StdEncoding.DecodeString(raw); err != nil || len(k) != 32 {
		t.Errorf("key: %d bytes, %v", len(k), err)
	}
	cache := filepath.Join(dir, auth.CacheFileName)
	if b, err := os.ReadFile(cache); err != nil || bytes.Contains(b, []byte(simtest.Alice)) {
		t.Fatalf("cache file: readable or missing (%v)", err)
	}

	code, out, errOut = lifeboat(t, ctx, "--tenant-profile", profile, "whoami")
	if code != exitOK {
		t.Fatalf("whoami: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"Alice Archer (" + simtest.Alice + ")", "account ID:", "token valid until", "Mail.ReadWrite", "Files.ReadWrite.All"} {
		if !strings.Contains(out, want) {
			t.Errorf("whoami lacks %q:\n%s", want, out)
		}
	}

	code, out, errOut = lifeboat(t, ctx, "--tenant-profile", profile, "logout")
	if code != exitOK || !strings.Contains(out, "Signed out Alice Archer") || !strings.Contains(out, "deleted") {
		t.Fatalf("logout: exit %d\n%s\n%s", code, out, errOut)
	}
	if _, err := os.Stat(cache); !os.IsNotExist(err) {
		t.Errorf("cache after logout: %v", err)
	}
	if _, err := keyring.Get(auth.KeychainService, keyAccount); !errors.Is(err, keyring.ErrNotFound) {
		t.Errorf("key after logout: %v", err)
	}
	code, out, _ = lifeboat(t, ctx, "--tenant-profile", profile, "whoami")
	if code == exitOK || !strings.Contains(out, "Not signed in") {
		t.Errorf("whoami after logout: exit %d %q", code, out)
	}
}

// approveNext approves the next device code that appears as upn.
func approveNext(t *testing.T, srv *m365sim.Server, upn string) <-chan error {
	done := make(chan error, 1)
	go func() {
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			if codes := srv.PendingDeviceCodes(); len(codes) > 0 {
				done <- srv.ApproveDeviceCode(codes[0], upn)
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		done <- errors.New("no device code appeared")
	}()
	return done
}

func TestLoginTwoAccountsWithFileStore(t *testing.T) {
	srv, profile, dir := loginEnv(t, m365sim.Options{})
	ctx := t.Context()
	for _, upn := range []string{simtest.Alice, simtest.Bob} {
		approved := approveNext(t, srv, upn)
		code, out, errOut := lifeboat(t, ctx, "--tenant-profile", profile, "login", "--secret-store", "file")
		if err := <-approved; err != nil {
			t.Fatal(err)
		}
		if code != exitOK || !strings.Contains(out, "Signed in as") || !strings.Contains(out, upn) {
			t.Fatalf("login as %s: exit %d\n%s\n%s", upn, code, out, errOut)
		}
		if !strings.Contains(errOut, secret.FileWarning) {
			t.Errorf("no file-store warning: %q", errOut)
		}
	}
	keyFile := secret.File{Dir: dir}.Path(auth.KeychainService, auth.DefaultKeyAccount+":"+dir)
	if fi, err := os.Stat(keyFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file %s: %v, %v", keyFile, fi, err)
	}
	t.Setenv("LIFEBOAT_SECRET_STORE", "file") // the environment works as the flag does

	code, out, errOut := lifeboat(t, ctx, "--tenant-profile", profile, "whoami")
	if code != exitOK || !strings.Contains(out, simtest.Alice) || !strings.Contains(out, simtest.Bob) {
		t.Fatalf("whoami: exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(errOut, secret.FileWarning) {
		t.Error("no file-store warning on whoami")
	}
	code, _, errOut = lifeboat(t, ctx, "--tenant-profile", profile, "logout")
	if code != exitUsage || !strings.Contains(errOut, simtest.Alice) || !strings.Contains(errOut, simtest.Bob) {
		t.Errorf("logout without an account of two: exit %d %q", code, errOut)
	}
	code, out, _ = lifeboat(t, ctx, "--tenant-profile", profile, "logout", "BOB@contoso.test")
	if code != exitOK || !strings.Contains(out, "Signed out Bob Baker") || !strings.Contains(out, "Still signed in: "+simtest.Alice) {
		t.Fatalf("logout bob: exit %d\n%s", code, out)
	}
	code, out, _ = lifeboat(t, ctx, "--tenant-profile", profile, "whoami")
	if code != exitOK || !strings.Contains(out, simtest.Alice) || strings.Contains(out, simtest.Bob) {
		t.Errorf("whoami after logout bob: exit %d\n%s", code, out)
	}
	code, _, errOut = lifeboat(t, ctx, "--tenant-profile", profile, "logout", "nobody@contoso.test")
	if code == exitOK || !strings.Contains(errOut, "not signed in") {
		t.Errorf("logout of an unknown account: exit %d %q", code, errOut)
	}
}

func TestLoginCtrlC(t *testing.T) {
	_, profile, _ := loginEnv(t, m365sim.Options{})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var out, errb apptest.SyncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--tenant-profile", profile, "login", "--secret-store", "file"}, &out, &errb)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), "Waiting for you") {
		if time.Now().After(deadline) {
			t.Fatalf("no code shown: %q %q", out.String(), errb.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case code := <-done:
		if code != exitCancelled || !strings.Contains(errb.String(), "sign-in cancelled") {
			t.Errorf("after Ctrl-C: exit %d %q", code, errb.String())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("login did not stop on Ctrl-C")
	}
}

func TestLoginKeychainUnavailable(t *testing.T) {
	srv, profile, _ := loginEnv(t, m365sim.Options{AutoApprove: time.Millisecond})
	var out, errb apptest.SyncBuffer
	code := runAdjusted(t.Context(), func(o *service.Options) { o.Keychain = secret.Failing{} }, []string{"--tenant-profile", profile, "login"}, &out, &errb)
	if code != exitFailure {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	msg := errb.String()
	for _, want := range []string{"cannot keep your sign-in safe", "keychain", "--secret-store file"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q: %s", want, msg)
		}
	}
	if strings.Contains(out.String(), "enter the code") || srv.Requests().Count("devicecode") != 0 {
		t.Error("a code was asked for though the sign-in could not be saved")
	}
}

func TestLoginDamagedCache(t *testing.T) {
	_, profile, dir := loginEnv(t, m365sim.Options{AutoApprove: time.Millisecond})
	t.Setenv("LIFEBOAT_SECRET_STORE", "file")
	ctx := t.Context()
	if code, out, e := lifeboat(t, ctx, "--tenant-profile", profile, "login"); code != exitOK {
		t.Fatalf("login: %d %s %s", code, out, e)
	}
	cache := filepath.Join(dir, auth.CacheFileName)
	b, err := os.ReadFile(cache)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-1] ^= 1
	if err := os.WriteFile(cache, b, 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := lifeboat(t, ctx, "--tenant-profile", profile, "whoami")
	if code != exitSignInRequired || !strings.Contains(errOut, "damaged") || !strings.Contains(errOut, "lifeboat login") {
		t.Errorf("whoami with a damaged cache: exit %d %q", code, errOut)
	}
	if code, out, e := lifeboat(t, ctx, "--tenant-profile", profile, "login"); code != exitOK || !strings.Contains(out, "Signed in as") {
		t.Fatalf("login over a damaged cache: %d %s %s", code, out, e)
	}
	if code, out, e := lifeboat(t, ctx, "--tenant-profile", profile, "whoami"); code != exitOK || !strings.Contains(out, simtest.Alice) {
		t.Fatalf("whoami after signing in again: %d %s %s", code, out, e)
	}
	// logout clears a damaged cache too.
	if err := os.WriteFile(cache, []byte("junk"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, _ := lifeboat(t, ctx, "--tenant-profile", profile, "logout"); code != exitOK || !strings.Contains(out, "damaged") {
		t.Errorf("logout of a damaged cache: %d %q", code, out)
	}
	if _, err := os.Stat(cache); !os.IsNotExist(err) {
		t.Errorf("damaged cache left: %v", err)
	}
}

func TestLoginUsageErrors(t *testing.T) {
	_, profile, _ := loginEnv(t, m365sim.Options{})
	for _, args := range [][]string{
		{"--tenant-profile", profile, "login", "--secret-store", "pocket"},
		{"--tenant-profile", profile, "login", "extra"},
		{"--tenant-profile", profile, "logout", "a", "b"},
		{"whoami"}, // no profile, no client ID in this build or the environment
	} {
		code, _, errOut := lifeboat(t, t.Context(), args...)
		if code != exitUsage || !strings.HasPrefix(errOut, "lifeboat: ") {
			t.Errorf("%v: exit %d %q", args, code, errOut)
		}
	}
}

func TestRoughDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		10 * time.Second: "less than a minute", 59*time.Minute + 50*time.Second: "1 h",
		45 * time.Minute: "45 min", 65 * time.Minute: "1 h 5 min",
	} {
		if got := roughDuration(d); got != want {
			t.Errorf("%v: %q, want %q", d, got, want)
		}
	}
}

func TestExitCodeFor(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code int
	}{
		{auth.ErrCancelled, exitCancelled},
		{fmt.Errorf("login: %w", context.Canceled), exitCancelled},
		{&auth.SignInRequiredError{Reason: "x"}, exitSignInRequired},
		{&auth.CacheDamagedError{Path: "p", Reason: "r"}, exitSignInRequired},
		{exitError{code: exitWarnings, err: errors.New("2 items skipped")}, exitWarnings},
		{usageError{errors.New("bad flag")}, exitUsage},
		{errors.New("disk full"), exitFailure},
	} {
		if code := exitCodeFor(tc.err); code != tc.code {
			t.Errorf("%v: exit %d, want %d", tc.err, code, tc.code)
		}
	}
}
