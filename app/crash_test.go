package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/app/apptest"
	"github.com/lifeboat-backup/lifeboat/engine/repo"
	"github.com/lifeboat-backup/lifeboat/engine/service"
	"github.com/lifeboat-backup/lifeboat/engine/store"
)

// The tests in this file run the real binary, built once per test run
// without the race detector (the crash test kills it hundreds of times).
var (
	binOnce sync.Once
	binDir  string
	binPath string
	binErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// lifeboatBinary builds ./app (this package) once and returns the binary.
func lifeboatBinary(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "lifeboat-test-bin-")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "lifeboat")
		cmd := exec.Command("go", "build", "-o", binPath, ".")
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// lifeboatCLI runs the binary with its own config folder and the file
// secret store, and nothing of the test's environment that Lifeboat reads.
type lifeboatCLI struct {
	bin, configDir string
}

func newLifeboatCLI(t *testing.T) lifeboatCLI {
	return lifeboatCLI{bin: lifeboatBinary(t), configDir: filepath.Join(t.TempDir(), "config")}
}

func (c lifeboatCLI) command(args ...string) *exec.Cmd {
	cmd := exec.Command(c.bin, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LIFEBOAT_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "LIFEBOAT_CONFIG_DIR="+c.configDir, "LIFEBOAT_SECRET_STORE=file")
	return cmd
}

// run runs a command to its end and returns its exit code and output.
func (c lifeboatCLI) run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	cmd := c.command(args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, out.String(), errb.String()
	case errors.As(err, &ee):
		return ee.ExitCode(), out.String(), errb.String()
	}
	t.Fatalf("running lifeboat %v: %v", args, err)
	return 0, "", ""
}

func (c lifeboatCLI) mustRun(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := c.run(t, args...)
	if code != 0 {
		t.Fatalf("lifeboat %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// init creates a backup in dir and returns its recovery key.
func (c lifeboatCLI) init(t *testing.T, dir string) string {
	t.Helper()
	out := c.mustRun(t, "init", "--to", dir)
	m := recoveryKeyRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("init printed no recovery key:\n%s", out)
	}
	return m[1]
}

var recoveryKeyRE = regexp.MustCompile(`\n    ([0-9A-Z]{5}(?:-[0-9A-Z]{5}){6})\n`)

var userCodeRE = regexp.MustCompile(`enter the code:\n\n    (\S+)\n`)

var snapshotSavedRE = regexp.MustCompile(`Snapshot ([0-9a-f]+) saved\.`)

// ingest runs `bench ingest` to its end and returns the new snapshot's short ID.
func (c lifeboatCLI) ingest(t *testing.T, src, dir string) string {
	t.Helper()
	out := c.mustRun(t, "bench", "ingest", src, "--to", dir)
	m := snapshotSavedRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("bench ingest did not name its snapshot:\n%s", out)
	}
	return m[1]
}

// crashCorpus is a folder whose content changes between trials: text,
// random data, an edited large file, many small files and a new file each
// version, so every snapshot differs and each run stores something new.
type crashCorpus struct {
	dir     string
	rnd     *rand.Rand
	version int
}

// fileSums maps the slash path of every file to its size and SHA-256.
type fileSums map[string]fileSum

type fileSum struct {
	size int64
	sum  [32]byte
}

func randomData(rnd *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := 0; i < n; i += 8 {
		v := rnd.Uint64()
		for j := 0; j < 8 && i+j < n; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}

var crashWords = strings.Fields("dear paul the invoice for march is attached kind regards anna meeting " +
	"tomorrow project budget report draft review customer contract office thanks schedule delivery order")

func textData(rnd *rand.Rand, n int) []byte {
	var b bytes.Buffer
	for b.Len() < n {
		b.WriteString(crashWords[rnd.IntN(len(crashWords))])
		if rnd.IntN(12) == 0 {
			b.WriteString(".\n")
		} else {
			b.WriteByte(' ')
		}
	}
	return b.Bytes()[:n]
}

func (c *crashCorpus) write(t *testing.T, name string, data []byte) {
	t.Helper()
	p := filepath.Join(c.dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// next moves the corpus to its next version.
func (c *crashCorpus) next(t *testing.T) {
	t.Helper()
	c.version++
	if c.version == 1 {
		c.write(t, "photos/holiday.jpg", randomData(c.rnd, 2<<20))
		c.write(t, "docs/report.txt", textData(c.rnd, 1<<20))
		c.write(t, "archive/mailbox.mbox", append(randomData(c.rnd, 1<<20), textData(c.rnd, 2<<20)...))
		c.write(t, "empty.txt", nil)
		for i := range 40 {
			c.write(t, fmt.Sprintf("mail/%03d.eml", i), textData(c.rnd, 500+c.rnd.IntN(20<<10)))
		}
	} else {
		// Edit the large file in a few places, replace some small files.
		p := filepath.Join(c.dir, "archive", "mailbox.mbox")
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			off := c.rnd.IntN(len(b) - 100)
			copy(b[off:], fmt.Sprintf("edit %d", c.version))
		}
		if c.rnd.IntN(2) == 0 {
			off := c.rnd.IntN(len(b))
			b = slices.Insert(b, off, textData(c.rnd, 1000)...)
		}
		c.write(t, "archive/mailbox.mbox", b)
		for range 3 {
			c.write(t, fmt.Sprintf("mail/%03d.eml", c.rnd.IntN(60)), textData(c.rnd, 500+c.rnd.IntN(20<<10)))
		}
		if err := os.RemoveAll(filepath.Join(c.dir, "new")); err != nil {
			t.Fatal(err)
		}
	}
	c.write(t, fmt.Sprintf("new/run-%04d.bin", c.version), randomData(c.rnd, 1<<20+c.rnd.IntN(1<<20)))
}

// sums reads the corpus as it is now.
func (c *crashCorpus) sums(t *testing.T) fileSums {
	t.Helper()
	out := fileSums{}
	err := filepath.WalkDir(c.dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(c.dir, p)
		out[filepath.ToSlash(rel)] = fileSum{size: int64(len(b)), sum: sha256.Sum256(b)}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

var quietLog = slog.New(slog.DiscardHandler)

func openWithFileKeychain(t *testing.T, dir, configDir string) *repo.Repository {
	return apptest.OpenWithFileKeychain(t, dir, configDir)
}

// restoreSnapshot reads every file of a bench snapshot back and compares it
// with want, byte for byte (through SHA-256 of the whole content).
func restoreSnapshot(ctx context.Context, r *repo.Repository, s *repo.Snapshot, want fileSums) error {
	b, err := r.LoadBlob(ctx, s.Root)
	if err != nil {
		return fmt.Errorf("loading the file list: %w", err)
	}
	files, err := service.IngestedFiles(b)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, f := range files {
		w, ok := want[f.Path]
		if !ok {
			return fmt.Errorf("%s: not in the folder that was stored", f.Path)
		}
		seen[f.Path] = true
		h := sha256.New()
		rc := r.OpenStream(ctx, f.Content)
		n, err := io.Copy(h, rc)
		rc.Close()
		if err != nil {
			return fmt.Errorf("%s: restore: %w", f.Path, err)
		}
		if n != w.size || f.Size != w.size || !bytes.Equal(h.Sum(nil), w.sum[:]) {
			return fmt.Errorf("%s: restored %d bytes that differ from the %d stored", f.Path, n, w.size)
		}
	}
	if len(seen) != len(want) {
		return fmt.Errorf("snapshot lists %d files, the folder had %d", len(seen), len(want))
	}
	return nil
}

// crashTrials is the number of kill -9 trials: LIFEBOAT_CRASH_TRIALS, else
// 50 (10 with -short).
func crashTrials(t *testing.T) int {
	if s := os.Getenv("LIFEBOAT_CRASH_TRIALS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("LIFEBOAT_CRASH_TRIALS=%q: want a positive number", s)
		}
		return n
	}
	if testing.Short() {
		return 10
	}
	return 50
}

// TestCrashKill9 kills the real binary with SIGKILL at random moments of
// `bench ingest` and `prune`. After every kill: the dead run's lock is
// recognised as stale and `unlock` removes it, `verify --read-data`
// passes, every committed snapshot restores byte-identical, and the next
// run completes. LIFEBOAT_CRASH_SEED repeats a run.
func TestCrashKill9(t *testing.T) {
	ctx := context.Background()
	trials := crashTrials(t)
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("LIFEBOAT_CRASH_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("LIFEBOAT_CRASH_SEED=%q: %v", s, err)
		}
		seed = v
	}
	t.Logf("seed %d (LIFEBOAT_CRASH_SEED=%d repeats this run), %d trials", seed, seed, trials)
	rnd := rand.New(rand.NewPCG(seed, 0x11fe))

	cli := newLifeboatCLI(t)
	dir := filepath.Join(t.TempDir(), "backup")
	rk := cli.init(t, dir)
	corpus := &crashCorpus{dir: filepath.Join(t.TempDir(), "src"), rnd: rnd}

	// want holds what each committed snapshot must restore to; sums is the
	// corpus of the current version.
	want := map[repo.ID]fileSums{}
	var sums fileSums
	snapshotIDs := func() []repo.ID {
		r := openWithFileKeychain(t, dir, cli.configDir)
		defer r.Close()
		snaps, err := r.ListSnapshots(ctx)
		if err != nil {
			t.Fatal(err)
		}
		ids := make([]repo.ID, len(snaps))
		for i, s := range snaps {
			ids[i] = s.ID
		}
		return ids
	}
	// completeIngest runs `bench ingest` to its end and records its snapshot.
	completeIngest := func() time.Duration {
		before := snapshotIDs()
		start := time.Now()
		short := cli.ingest(t, corpus.dir, dir)
		d := time.Since(start)
		after := snapshotIDs()
		if len(after) != len(before)+1 {
			t.Fatalf("ingest: %d snapshots before, %d after", len(before), len(after))
		}
		for _, id := range after {
			if !slices.Contains(before, id) {
				if id.Short() != short {
					t.Fatalf("ingest reported snapshot %s, %s appeared", short, id.Short())
				}
				want[id] = sums
			}
		}
		return d
	}

	// Measure uninterrupted runs as the trials make them (an ingest of a
	// changed folder, a prune of a few snapshots): kill delays are drawn
	// from their length.
	pruneArgs := []string{"prune", "--to", dir, "--keep-within", "0d", "--keep-daily", "1",
		"--keep-weekly", "0", "--keep-monthly", "0", "--keep-yearly", "0", "--grace", "0"}
	var ingestTimes, pruneTimes []time.Duration
	for range 3 {
		for range 2 {
			corpus.next(t)
			sums = corpus.sums(t)
			ingestTimes = append(ingestTimes, completeIngest())
		}
		start := time.Now()
		out := cli.mustRun(t, pruneArgs...)
		pruneTimes = append(pruneTimes, time.Since(start))
		if !strings.Contains(out, "Deleted ") || strings.Contains(out, "Deleted 0 snapshots") {
			t.Fatalf("prune forgot nothing:\n%s", out)
		}
		for id := range want {
			if !slices.Contains(snapshotIDs(), id) {
				delete(want, id)
			}
		}
	}
	ingestTimes = append(ingestTimes, completeIngest()) // something for the first prune trial to forget
	t.Logf("an uninterrupted ingest takes %v, a prune %v", recentMedian(ingestTimes).Round(time.Millisecond), recentMedian(pruneTimes).Round(time.Millisecond))

	var killedIngest, killedPrune, finished, staleLocks, killsWithLock, killsWithUnindexed, killsAfterCommit int
	unindexed := 0 // data files in no index, as verify last reported them
	for trial := 1; trial <= trials; trial++ {
		before := snapshotIDs()
		doPrune := len(before) >= 5 || rnd.IntN(4) == 0
		args := pruneArgs
		times := &pruneTimes
		if !doPrune {
			corpus.next(t)
			sums = corpus.sums(t)
			args = []string{"bench", "ingest", corpus.dir, "--to", dir}
			times = &ingestTimes
		}
		// Half the kills anywhere in the run, half in its last part, where
		// the writes are (packs, index, snapshot, lock removal).
		length := recentMedian(*times)
		delay := time.Duration(rnd.Int64N(int64(length) * 11 / 10))
		if rnd.IntN(2) == 0 {
			delay = length*6/10 + time.Duration(rnd.Int64N(int64(length)*45/100))
		}

		cmd := cli.command(args...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		start := time.Now()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		pid := cmd.Process.Pid
		exited := make(chan error, 1)
		var took time.Duration
		go func() {
			err := cmd.Wait() // reaps it: a zombie would still look alive
			took = time.Since(start)
			exited <- err
		}()
		var err error
		select {
		case err = <-exited:
		case <-time.After(delay):
			_ = cmd.Process.Signal(syscall.SIGKILL)
			err = <-exited
		}
		killed := err != nil
		if !killed {
			*times = append(*times, took) // keep the estimate current
		}
		what := map[bool]string{true: "prune", false: "ingest"}[doPrune]
		var ee *exec.ExitError
		switch {
		case err == nil:
			finished++
			what += " (finished before the kill)"
		case errors.As(err, &ee) && ee.ProcessState.Sys().(syscall.WaitStatus).Signal() == syscall.SIGKILL:
			if doPrune {
				killedPrune++
			} else {
				killedIngest++
			}
		default:
			t.Fatalf("trial %d: %s failed on its own: %v\nstdout: %s\nstderr: %s", trial, what, err, out.String(), errb.String())
		}
		t.Logf("trial %d: %s killed after %v", trial, what, delay.Round(time.Microsecond))

		// The dead run's lock, if it left one, is stale: its process is
		// gone from this host. No other lock may be there.
		r := openWithFileKeychain(t, dir, cli.configDir)
		locks, err := r.ListLocks(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, li := range locks {
			if li.PID != pid {
				t.Fatalf("trial %d: a lock of process %d, not of the killed %d: %+v", trial, li.PID, pid, li)
			}
			if !r.IsStale(li) {
				t.Fatalf("trial %d: the lock of the killed process %d is not recognised as stale", trial, pid)
			}
		}
		r.Close()
		staleLocks += len(locks)
		if len(locks) > 0 {
			killsWithLock++
		}
		out2 := cli.mustRun(t, "unlock", "--to", dir)
		if !strings.Contains(out2, fmt.Sprintf("Removed %d locks.", len(locks))) {
			t.Fatalf("trial %d: %d stale locks, unlock says:\n%s", trial, len(locks), out2)
		}

		code, vout, verr := cli.run(t, "verify", "--to", dir, "--read-data")
		if code != 0 || !strings.Contains(vout, "No damage found") {
			t.Fatalf("trial %d (seed %d): verify --read-data after killing %s: exit %d\n%s\n%s", trial, seed, what, code, vout, verr)
		}
		n := strings.Count(vout, "in no index")
		if n > unindexed {
			killsWithUnindexed++
		}
		unindexed = n

		// Snapshots: an ingest may have committed one more (killed after
		// writing it); a prune may have forgotten some, never the newest.
		after := snapshotIDs()
		if !killed && !doPrune && len(after) != len(before)+1 {
			t.Fatalf("trial %d: an ingest that finished left %d snapshots, %d before", trial, len(after), len(before))
		}
		for _, id := range after {
			if _, ok := want[id]; ok {
				continue
			}
			if doPrune || slices.Contains(before, id) || len(after) != len(before)+1 {
				t.Fatalf("trial %d: unexpected snapshot %s after killing %s", trial, id.Short(), what)
			}
			want[id] = sums
			if killed {
				killsAfterCommit++
			}
		}
		for _, id := range before {
			if !slices.Contains(after, id) && (!doPrune || id == before[len(before)-1]) {
				t.Fatalf("trial %d: snapshot %s lost by killing %s", trial, id.Short(), what)
			}
		}
		r = openWithFileKeychain(t, dir, cli.configDir)
		for _, id := range after {
			s, err := r.LoadSnapshot(ctx, id)
			if err == nil {
				err = restoreSnapshot(ctx, r, s, want[id])
			}
			if err != nil {
				t.Fatalf("trial %d (seed %d): snapshot %s after killing %s: %v", trial, seed, id.Short(), what, err)
			}
		}
		r.Close()

		// The next run completes.
		ingestTimes = append(ingestTimes, completeIngest())
	}
	t.Logf("killed %d ingests and %d prunes; %d runs finished before the kill; %d kills left %d stale locks, "+
		"%d left data files in no index, %d came after an ingest had saved its snapshot",
		killedIngest, killedPrune, finished, killsWithLock, staleLocks, killsWithUnindexed, killsAfterCommit)
	if killedIngest+killedPrune < trials/2 || killsWithLock == 0 || (trials >= 20 && (killedIngest == 0 || killedPrune == 0)) {
		t.Errorf("too few kills landed mid-run: %d ingests, %d prunes of %d trials, %d holding a lock", killedIngest, killedPrune, trials, killsWithLock)
	}

	// Finally everything, opened with the recovery key alone.
	st, err := store.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, err := repo.Open(ctx, st, rk, repo.Options{Logger: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	snaps, err := r.ListSnapshots(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range snaps {
		if err := restoreSnapshot(ctx, r, s, want[s.ID]); err != nil {
			t.Fatalf("snapshot %s with the recovery key: %v", s.ID.Short(), err)
		}
	}
}

// recentMedian is the median of the last few durations.
func recentMedian(d []time.Duration) time.Duration {
	d = slices.Clone(d[max(0, len(d)-7):])
	slices.Sort(d)
	return d[len(d)/2]
}

// TestFreshMachine carries a backup to a "new computer": the folder is
// copied elsewhere, the config folder (keychain entry and everything else
// local) is new and empty, and only the recovery key opens it. The index is
// rebuilt from the data files, verify reads everything, and every file of
// every snapshot reads back byte-identical.
func TestFreshMachine(t *testing.T) {
	ctx := context.Background()
	cli := newLifeboatCLI(t)
	dir := filepath.Join(t.TempDir(), "backup")
	rk := cli.init(t, dir)
	corpus := &crashCorpus{dir: filepath.Join(t.TempDir(), "src"), rnd: rand.New(rand.NewPCG(7, 7))}
	want := map[string]fileSums{}
	for range 3 {
		corpus.next(t)
		want[cli.ingest(t, corpus.dir, dir)] = corpus.sums(t)
	}

	// The new computer.
	moved := filepath.Join(t.TempDir(), "usb-drive", "Lifeboat backup")
	if err := os.CopyFS(moved, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	fresh := lifeboatCLI{bin: cli.bin, configDir: filepath.Join(t.TempDir(), "new-computer")}
	if code, _, errOut := fresh.run(t, "snapshots", "--to", moved); code == 0 || !strings.Contains(errOut, "holds no key") {
		t.Fatalf("the new computer opened the backup without the recovery key (exit %d): %s", code, errOut)
	}
	if _, err := os.ReadFile(filepath.Join(moved, "README.txt")); err != nil {
		t.Errorf("no README.txt in the backup folder: %v", err)
	}
	// Lose the index too: the data files alone must be enough.
	idx, _ := filepath.Glob(filepath.Join(moved, "index", "*"))
	if len(idx) == 0 {
		t.Fatal("no index files to remove")
	}
	for _, p := range idx {
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
	}
	out := fresh.mustRun(t, "repair", "--to", moved, "--recovery-key", rk)
	if !strings.Contains(out, "Rebuilt the index") {
		t.Errorf("repair:\n%s", out)
	}
	out = fresh.mustRun(t, "verify", "--to", moved, "--recovery-key", rk, "--read-data")
	if !strings.Contains(out, "No damage found") || !strings.Contains(out, "Checked 3 snapshots") {
		t.Errorf("verify --read-data on the new computer:\n%s", out)
	}
	out = fresh.mustRun(t, "snapshots", "--to", moved, "--recovery-key", rk)
	listed := 0
	for short := range want {
		if strings.Contains(out, short) {
			listed++
		}
	}
	if listed != 3 || !strings.Contains(out, "3 snapshots") {
		t.Errorf("snapshots on the new computer list %d of 3:\n%s", listed, out)
	}
	// Only this computer's identity for the backup's locks may be kept
	// (service.HostIDFile): no key, token or catalog.
	if entries, _ := os.ReadDir(fresh.configDir); len(entries) > 1 || len(entries) == 1 && entries[0].Name() != service.HostIDFile {
		t.Errorf("opening with the recovery key wrote to the config folder: %v", entries)
	}

	// Read every file back with the repository API and the recovery key.
	st, err := store.NewLocal(moved)
	if err != nil {
		t.Fatal(err)
	}
	r, err := repo.Open(ctx, st, rk, repo.Options{Logger: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	snaps, err := r.ListSnapshots(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var restored []string
	for _, s := range snaps {
		w, ok := want[s.ID.Short()]
		if !ok {
			t.Fatalf("unknown snapshot %s", s.ID.Short())
		}
		if err := restoreSnapshot(ctx, r, s, w); err != nil {
			t.Fatalf("snapshot %s: %v", s.ID.Short(), err)
		}
		restored = append(restored, s.ID.Short())
	}
	sort.Strings(restored)
	if len(restored) != 3 {
		t.Fatalf("restored %v, want 3 snapshots", restored)
	}
}
