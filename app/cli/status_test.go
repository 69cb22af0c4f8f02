//go:build linux

package cli

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/store/sharetest"
)

var statusFullRE = regexp.MustCompile(`stopped because .* is full \(\d+(\.\d)? [kMG]?B free, about \d+(\.\d)? [kMG]B needed\)`)

// TestStatusAfterTheDriveFilledUp: `lifeboat backup` onto a drive (a small
// tmpfs) that fills up stops with the plain sentence, and `lifeboat status`
// then says so with the drive's free space and what was needed, until a
// backup finishes on a bigger drive.
func TestStatusAfterTheDriveFilledUp(t *testing.T) {
	if !sharetest.InMountNamespace(t) {
		return
	}
	drive := sharetest.NewDrive(t, 24<<20)
	srv, profile, _ := loginEnv(t, m365sim.Options{AutoApprove: 10 * time.Millisecond})
	t.Setenv("LIFEBOAT_RECOVERY_KEY", "")
	t.Setenv("LIFEBOAT_REPO", "")
	ctx := t.Context()
	p := func(args ...string) []string {
		return append([]string{"--tenant-profile", profile}, append(args, "--secret-store", "file")...)
	}
	if code, out, errOut := lifeboat(t, ctx, p("login")...); code != exitOK {
		t.Fatalf("login: exit %d\n%s\n%s", code, out, errOut)
	}
	status := func() string {
		t.Helper()
		code, out, errOut := lifeboat(t, ctx, p("status")...)
		if code != exitOK {
			t.Fatalf("status: exit %d\n%s\n%s", code, out, errOut)
		}
		return out
	}
	dir := drive.Dir + "/Lifeboat"
	if code, out, errOut := lifeboat(t, ctx, p("init", "--to", dir)...); code != exitOK {
		t.Fatalf("init: exit %d\n%s\n%s", code, out, errOut)
	}
	backup := func() (int, string) {
		code, _, errOut := lifeboat(t, ctx, p("backup", "--to", dir)...)
		return code, errOut
	}
	if code, errOut := backup(); code != exitOK {
		t.Fatalf("first backup: exit %d\n%s", code, errOut)
	}
	rnd := rand.New(rand.NewPCG(5, 5))
	for i := range 16 {
		b := make([]byte, 2<<20+rnd.IntN(2<<20))
		for k := range b {
			b[k] = byte(rnd.Uint32())
		}
		if _, err := srv.Tenant().PutFile("alice@contoso.test", fmt.Sprintf("Scans/scan %02d.bin", i), m365sim.BytesContent(b), time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	code, errOut := backup()
	if code != exitFailure || !strings.Contains(errOut, "the backup drive is full (") {
		t.Fatalf("backup onto a full drive: exit %d\n%s", code, errOut)
	}
	out := status()
	if !statusFullRE.MatchString(out) || !strings.Contains(out, "ATTENTION: ") {
		t.Fatalf("status after the drive filled up:\n%s", out)
	}
	t.Logf("status:\n%s", out)
	drive.Resize(256 << 20)
	if code, errOut := backup(); code != exitOK {
		t.Fatalf("backup on the bigger drive: exit %d\n%s", code, errOut)
	}
	if out := status(); strings.Contains(out, "is full") {
		t.Fatalf("status after a good backup:\n%s", out)
	}
}
