package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
)

// The peak-memory benchmarks run `lifeboat backup` as its own process
// against a simulator in the benchmark's process, and report the backup
// process's peak resident set (peak-RSS-MiB; target under 256 MiB). They
// are Heavy: `make bench` runs them once, apart from the quick ones.

// BenchmarkHeavyPeakRSS100kMessages backs up a mailbox of 100,000
// messages.
func BenchmarkHeavyPeakRSS100kMessages(b *testing.B) {
	tn, err := m365sim.GenerateDemo(31, m365sim.DemoOptions{Users: 1, MessagesPerUser: 100_000, FilesPerUser: 1, MaxFileSize: 1 << 10})
	if err != nil {
		b.Fatal(err)
	}
	peakRSSBackup(b, tn)
}

// BenchmarkHeavyPeakRSS4GBFile backs up a OneDrive holding one 4 GB file.
func BenchmarkHeavyPeakRSS4GBFile(b *testing.B) {
	tn := m365sim.NewTenant("Big file", "bigfile.example", nil)
	if _, err := tn.AddUser("owner@bigfile.example", "Owner"); err != nil {
		b.Fatal(err)
	}
	if _, err := tn.PutFile("owner@bigfile.example", "Videos/all-hands.mp4", noiseContent(4<<30), time.Time{}); err != nil {
		b.Fatal(err)
	}
	peakRSSBackup(b, tn)
}

func peakRSSBackup(b *testing.B, tn *m365sim.Tenant) {
	// Microsoft's limits on a fast clock (the profile tells the client), so
	// 100,000 messages do not take the real 100 minutes.
	srv := simtest.Start(b, tn, m365sim.Options{AutoApprove: 10 * time.Millisecond,
		Throttle: m365sim.ThrottleConfig{Mode: m365sim.ThrottleGraphFast, Speedup: 600}})
	profile := filepath.Join(b.TempDir(), "tenant.json")
	if err := m365sim.WriteProfile(profile, srv.Profile()); err != nil {
		b.Fatal(err)
	}
	var peaks []float64
	for b.Loop() {
		b.StopTimer()
		cli := lifeboatCLI{bin: lifeboatBinary(b), configDir: filepath.Join(b.TempDir(), "config")}
		mustRunB(b, cli, "--tenant-profile", profile, "login")
		dir := filepath.Join(b.TempDir(), "backup")
		mustRunB(b, cli, "init", "--to", dir)
		b.StartTimer()
		cmd := cli.command("--tenant-profile", profile, "backup", "--to", dir)
		var errb strings.Builder
		cmd.Stderr = &errb
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		// The kernel's high-water mark of the backup's own address space.
		// (getrusage's ru_maxrss would count this big benchmark process:
		// the child shares its memory between fork and exec.)
		var peak int64
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		for waiting := true; waiting; {
			select {
			case err := <-done:
				if err != nil {
					b.Fatalf("backup: %v\n%s", err, errb.String())
				}
				waiting = false
			case <-time.After(20 * time.Millisecond):
				if kib := vmHWM(cmd.Process.Pid); kib > peak {
					peak = kib
				}
			}
		}
		b.StopTimer()
		peaks = append(peaks, float64(peak)/1024)
		b.StartTimer()
	}
	b.ReportMetric(medianF(peaks), "peak-RSS-MiB")
}

// vmHWM is a process's peak resident set in KiB from /proc (0 if gone).
func vmHWM(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

func mustRunB(b *testing.B, c lifeboatCLI, args ...string) {
	b.Helper()
	cmd := c.command(args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("lifeboat %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// noiseContent is n bytes of deterministic, incompressible data,
// generated as it is read (a 4 GB file need not exist anywhere).
type noiseContent int64

func (n noiseContent) Size() int64         { return int64(n) }
func (n noiseContent) Open() io.ReadSeeker { return &noiseReader{size: int64(n)} }

type noiseReader struct{ off, size int64 }

func (r *noiseReader) Read(p []byte) (int, error) {
	if r.off >= r.size {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), r.size-r.off)]
	for i := range p {
		// xorshift of the absolute offset's 8-byte word: seekable.
		x := uint64((r.off+int64(i))/8) + 0x9E3779B97F4A7C15
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		p[i] = byte(x >> (8 * ((r.off + int64(i)) % 8)))
	}
	r.off += int64(len(p))
	return len(p), nil
}

func (r *noiseReader) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		off += r.off
	case io.SeekEnd:
		off += r.size
	}
	if off < 0 {
		return 0, io.ErrUnexpectedEOF
	}
	r.off = off
	return off, nil
}

func medianF(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(v))
	return s[len(s)/2]
}
