package cli

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
)

// TestSimLeaversAndJoiners: `lifeboat sim hire`, `leave --shared`,
// `leave --delete`, `admin` and `replication` change a running simulator.
func TestSimLeaversAndJoiners(t *testing.T) {
	profile := filepath.Join(t.TempDir(), "tenant.json")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"sim", "serve", "--import", seedDir(t), "--profile-out", profile}, &out, &errb)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), "Press Ctrl-C") {
		if time.Now().After(deadline) {
			t.Fatalf("sim serve did not start: %q %q", out.String(), errb.String())
		}
		select {
		case code := <-done:
			t.Fatalf("sim serve exited %d: %s", code, errb.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	sim := func(args ...string) string {
		t.Helper()
		code, o, e := runCLI(t, append([]string{"--tenant-profile", profile, "sim"}, args...)...)
		if code != exitOK {
			t.Fatalf("sim %v: exit %d: %s", args, code, e)
		}
		return o
	}
	if o := sim("hire", "Nina", "Novak"); !strings.Contains(o, "Nina Novak joined as nina.novak@") {
		t.Fatalf("hire said %q", o)
	}
	status := sim("status")
	if !strings.Contains(status, "nina.novak@") || !strings.Contains(status, simtest.Alice) {
		t.Fatalf("status after hiring:\n%s", status)
	}
	nina := strings.Fields(status[strings.Index(status, "nina.novak@"):])[0]
	if o := sim("leave", nina, "--shared"); !strings.Contains(o, "shared mailbox") {
		t.Errorf("leave --shared said %q", o)
	}
	if o := sim("admin", nina, "--role", "global-admin"); !strings.Contains(o, "Global Administrator") {
		t.Errorf("admin said %q", o)
	}
	if o := sim("replication", "2s"); !strings.Contains(o, "2s") {
		t.Errorf("replication said %q", o)
	}
	if o := sim("leave", simtest.Alice, "--delete"); !strings.Contains(o, "deleted") {
		t.Errorf("leave --delete said %q", o)
	}
	if status := sim("status"); strings.Contains(status, simtest.Alice) || !strings.Contains(status, nina) {
		t.Errorf("status after Alice left:\n%s", status)
	}
	code, _, e := runCLI(t, "--tenant-profile", profile, "sim", "leave", nina)
	if code == exitOK || !strings.Contains(e, "--delete") {
		t.Errorf("leave without a way to leave: exit %d %q", code, e)
	}
	code, _, e = runCLI(t, "--tenant-profile", profile, "sim", "leave", simtest.Alice, "--delete")
	if code != exitFailure || !strings.Contains(e, "no such user") {
		t.Errorf("deleting someone already gone: exit %d %q", code, e)
	}
	cancel()
	<-done
}
