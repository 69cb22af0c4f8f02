package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/lifeboat-backup/lifeboat/engine/backup"
	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/repo"
	"github.com/lifeboat-backup/lifeboat/engine/secret"
	"github.com/lifeboat-backup/lifeboat/engine/store"
)

// recoveryKeyWarning is printed with the recovery key, the only time it is shown.
const recoveryKeyWarning = "Write this down or save it in a password manager. Without it nobody, including us, " +
	"can open this backup if this computer is lost."

// repoOptions are the flags of every command that works on a backup folder.
type repoOptions struct {
	to          string
	recoveryKey string
	secretStore string
	// keychain, when set, replaces the keychain --secret-store picks (tests).
	keychain secret.Keychain
	// repoOpts, when set, replaces the repository options (tests: cheap KDF).
	repoOpts *repo.Options
	// checkpoint, when set, is how often a long save writes its index.
	checkpoint time.Duration
}

func addRepoFlags(cmd *cobra.Command, o *repoOptions, withKey bool) {
	f := cmd.Flags()
	f.StringVar(&o.to, "to", "", "the backup folder (on a USB drive or network share); also LIFEBOAT_REPO")
	if withKey {
		f.StringVar(&o.recoveryKey, "recovery-key", "", "open the backup with its recovery key instead of this computer's keychain; also LIFEBOAT_RECOVERY_KEY")
	}
	f.StringVar(&o.secretStore, "secret-store", "", "where this computer keeps the key that opens the backup: keychain (the system's, default) or file (a 0600 file in Lifeboat's config folder: less safe); also LIFEBOAT_SECRET_STORE")
}

// newRepoCommands returns init, snapshots, verify, prune, repair, unlock and bench.
func newRepoCommands(g *globals) []*cobra.Command {
	var ino, so, vo, po, ro, uo, bo repoOptions

	initCmd := &cobra.Command{
		Use:   "init --to DIR",
		Short: "Create a new backup in a folder and show its recovery key",
		Long: "Create a new, empty backup in DIR (a new or empty folder on a USB drive or network share).\n" +
			"Lifeboat shows the backup's recovery key once: write it down. This computer's keychain\n" +
			"keeps another key, so scheduled backups run without it.",
		Args: requireArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error { return runInit(cmd.Context(), g, ino) },
	}
	addRepoFlags(initCmd, &ino, false)

	snapshots := &cobra.Command{
		Use:   "snapshots --to DIR",
		Short: "List the snapshots in a backup",
		Args:  requireArgs(cobra.NoArgs),
		RunE:  func(cmd *cobra.Command, args []string) error { return runSnapshots(cmd.Context(), g, so) },
	}
	addRepoFlags(snapshots, &so, true)

	var readData bool
	var subset string
	verify := &cobra.Command{
		Use:   "verify --to DIR [--read-data | --read-data-subset P% | --read-data-subset n/m]",
		Short: "Check that a backup is complete and undamaged",
		Long: "Check the structure of the backup: keys, index, and that every snapshot's data is there.\n" +
			"With --read-data, also read back and authenticate every byte (slow on a big backup).\n" +
			"--read-data-subset reads part of it: a percentage chosen at random, or part n of m\n" +
			"(1/7 on Monday … 7/7 on Sunday reads everything once a week).",
		Args: requireArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVerify(cmd.Context(), g, vo, readData, subset)
		},
	}
	addRepoFlags(verify, &vo, true)
	verify.Flags().BoolVar(&readData, "read-data", false, "read and authenticate all data")
	verify.Flags().StringVar(&subset, "read-data-subset", "", "read and authenticate part of the data: P% or n/m")

	var pf pruneFlags
	prune := &cobra.Command{
		Use:   "prune --to DIR [--dry-run] [--keep-within 30d --keep-daily 7 --keep-weekly 4 --keep-monthly 12 --keep-yearly 5]",
		Short: "Forget old snapshots by the retention rules and free their space",
		Long: "Apply the retention rules to each account's snapshots: keep everything from the last\n" +
			"--keep-within, then the newest snapshot of each of the last N days, weeks, months and years.\n" +
			"The newest snapshot of every account is always kept. Then delete the data no remaining\n" +
			"snapshot needs. Prune can be interrupted at any moment without harm; run it again to finish.\n" +
			"An item deleted in Microsoft 365 stays restorable for --keep-deleted (default 7 years): the\n" +
			"snapshot holding its last version is kept. Use --dry-run to see what would be removed.",
		Args: requireArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error { return runPrune(cmd.Context(), g, po, pf) },
	}
	addRepoFlags(prune, &po, true)
	def := repo.DefaultPolicy()
	f := prune.Flags()
	f.BoolVar(&pf.dryRun, "dry-run", false, "only report what would be forgotten, deleted and repacked")
	f.StringVar(&pf.keepWithin, "keep-within", "30d", "keep every snapshot younger than this (e.g. 30d, 12h, 1y)")
	f.IntVar(&pf.policy.KeepDaily, "keep-daily", def.KeepDaily, "keep the newest snapshot of each of the last N days")
	f.IntVar(&pf.policy.KeepWeekly, "keep-weekly", def.KeepWeekly, "keep the newest snapshot of each of the last N weeks")
	f.IntVar(&pf.policy.KeepMonthly, "keep-monthly", def.KeepMonthly, "keep the newest snapshot of each of the last N months")
	f.IntVar(&pf.policy.KeepYearly, "keep-yearly", def.KeepYearly, "keep the newest snapshot of each of the last N years")
	f.StringVar(&pf.keepDeleted, "keep-deleted", "7y", "keep items deleted in Microsoft 365 restorable this long (0: no such rule)")
	f.DurationVar(&pf.grace, "grace", repo.DefaultPruneGrace, "never delete data written less than this long ago (0: no grace period)")
	_ = f.MarkHidden("grace")

	repair := &cobra.Command{
		Use:   "repair --to DIR",
		Short: "Rebuild the backup's index from its data files, and this computer's catalog",
		Long: "Rebuild the backup's index from the data files alone, when verify reports a damaged or\n" +
			"missing index, or data left unindexed by an interrupted run. Nothing is deleted.\n" +
			"Then check this computer's catalog of the backup (what search and browsing use) and, when\n" +
			"it is missing or damaged, restore the newest copy stored in the backup.",
		Args: requireArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error { return runRepair(cmd.Context(), g, ro) },
	}
	addRepoFlags(repair, &ro, true)

	var unlockAll bool
	unlock := &cobra.Command{
		Use:   "unlock --to DIR [--all]",
		Short: "Remove locks left by Lifeboat runs that stopped",
		Long: "Remove the locks of runs that are no longer running (their process is gone, or they have\n" +
			"not been refreshed for 30 minutes). With --all, remove every lock: only when you are sure\n" +
			"no other Lifeboat is using this backup.",
		Args: requireArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error { return runUnlock(cmd.Context(), g, uo, unlockAll) },
	}
	addRepoFlags(unlock, &uo, true)
	unlock.Flags().BoolVar(&unlockAll, "all", false, "remove every lock, also those of runs that may still be going")

	bench := &cobra.Command{
		Use:   "bench",
		Short: "Measure the backup format",
		Args:  requireArgs(cobra.NoArgs),
	}
	ingest := &cobra.Command{
		Use:   "ingest SRCDIR --to DIR",
		Short: "Store a local folder in a backup, to measure speed and size",
		Long: "Store every file under SRCDIR in the backup through exactly the pipeline backups use\n" +
			"(chunk, hash, compress, encrypt, pack), add a snapshot listing them, and report files,\n" +
			"bytes, new bytes stored, time and speed.",
		Args: requireArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error { return runBenchIngest(cmd.Context(), g, bo, args[0]) },
	}
	addRepoFlags(ingest, &bo, true)
	bench.AddCommand(ingest)

	return []*cobra.Command{initCmd, snapshots, verify, prune, repair, unlock, bench}
}

// destination is --to or LIFEBOAT_REPO.
func (o repoOptions) destination() (string, error) {
	dir := firstNonEmpty(o.to, os.Getenv("LIFEBOAT_REPO"))
	if dir == "" {
		return "", usageError{errors.New("which backup? pass --to DIR or set LIFEBOAT_REPO")}
	}
	return dir, nil
}

func (o repoOptions) options(g *globals) repo.Options {
	opts := repo.Options{Logger: g.logger()}
	if o.repoOpts != nil {
		opts = *o.repoOpts
	}
	if o.checkpoint != 0 {
		opts.CheckpointInterval = o.checkpoint
	}
	return opts
}

// keychain picks the secret store as the sign-in commands do (--secret-store,
// LIFEBOAT_SECRET_STORE; the file store lives in the config folder).
func (o repoOptions) keychainFor(g *globals) (secret.Keychain, error) {
	if o.keychain != nil {
		return o.keychain, nil
	}
	dir, _, err := configDir()
	if err != nil {
		return nil, err
	}
	kc, _, err := secretStore(g, o.secretStore, dir, "warning: --secret-store file: the key that opens this backup on this computer is kept in a file in "+dir+
		", not in the system keychain. Anyone who can read your user folder can open the backup.")
	return kc, err
}

// driveNotFound is the error for a backup folder that is not there.
func driveNotFound(dir string) error {
	return fmt.Errorf("backup drive not found: %s does not exist. Connect the backup drive (or check that the network share is reachable) and try again", dir)
}

// openStore opens an existing backup folder.
func openStore(dir string) (*store.Local, error) {
	st, err := store.NewLocal(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, driveNotFound(dir)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot open the backup folder: %w", err)
	}
	return st, nil
}

// openRepo opens the backup at --to: with the recovery key if one is given
// (flag or LIFEBOAT_RECOVERY_KEY), else with this computer's keychain, else
// by asking for the recovery key when a person is at the terminal.
func openRepo(ctx context.Context, g *globals, o repoOptions) (*repo.Repository, error) {
	dir, err := o.destination()
	if err != nil {
		return nil, err
	}
	st, err := openStore(dir)
	if err != nil {
		return nil, err
	}
	opts := o.options(g)
	if key := firstNonEmpty(o.recoveryKey, os.Getenv("LIFEBOAT_RECOVERY_KEY")); key != "" {
		return openWithRecoveryKey(ctx, st, dir, key, opts)
	}
	kc, err := o.keychainFor(g)
	if err != nil {
		return nil, err
	}
	r, err := repo.OpenWithKeyStore(ctx, st, repo.KeychainKeyStore(kc, repo.DefaultKeychainService), opts)
	if err == nil {
		return r, nil
	}
	if err2 := explainOpen(err, dir); err2 != nil {
		return nil, err2
	}
	why := "this computer's keychain holds no key for the backup in " + dir
	if errors.Is(err, secret.ErrUnavailable) {
		why = explain(err).Error()
	}
	if stdinIsTerminal() {
		fmt.Fprintf(g.stderr, "%s.\nEnter the recovery key (it is shown as you type): ", why)
		line, rerr := bufio.NewReader(os.Stdin).ReadString('\n')
		if rerr != nil && line == "" {
			return nil, fmt.Errorf("reading the recovery key: %w", rerr)
		}
		return openWithRecoveryKey(ctx, st, dir, strings.TrimSpace(line), opts)
	}
	return nil, fmt.Errorf("%s; pass --recovery-key or set LIFEBOAT_RECOVERY_KEY", why)
}

func openWithRecoveryKey(ctx context.Context, st store.Store, dir, key string, opts repo.Options) (*repo.Repository, error) {
	r, err := repo.Open(ctx, st, key, opts)
	if err != nil {
		if e := explainOpen(err, dir); e != nil {
			return nil, e
		}
		return nil, fmt.Errorf("opening the backup in %s: %w", dir, err)
	}
	return r, nil
}

// explainOpen turns the errors that have nothing to do with the keychain
// into messages for people; it returns nil for the others.
func explainOpen(err error, dir string) error {
	switch {
	case errors.Is(err, repo.ErrNotRepository):
		return fmt.Errorf("%s is not a Lifeboat backup (no config file in it); check the folder, or create one with `lifeboat init --to %s`", dir, dir)
	case errors.Is(err, repo.ErrNewerVersion):
		return fmt.Errorf("the backup in %s was written by a newer version of Lifeboat: %w", dir, err)
	case errors.Is(err, repo.ErrWrongKey):
		return fmt.Errorf("wrong recovery key: it does not open the backup in %s (check it against what you wrote down)", dir)
	case errors.Is(err, repo.ErrInvalidRecoveryKey):
		return fmt.Errorf("that is not a valid recovery key: %w", err)
	}
	return nil
}

// stdinIsTerminal is true when a person can type an answer: a character
// device is not enough (/dev/null, which scheduled runs get, is one).
func stdinIsTerminal() bool {
	fd := os.Stdin.Fd()
	return isatty.IsTerminal(fd) || isatty.IsCygwinTerminal(fd)
}

func runInit(ctx context.Context, g *globals, o repoOptions) error {
	dir, err := o.destination()
	if err != nil {
		return err
	}
	// Check the choice of keychain before anything is written.
	kc, err := o.keychainFor(g)
	if err != nil {
		return err
	}
	if err := prepareInitFolder(dir); err != nil {
		return err
	}
	st, err := openStore(dir)
	if err != nil {
		return err
	}
	r, rk, err := repo.Init(ctx, st, o.options(g))
	if errors.Is(err, repo.ErrAlreadyExists) {
		return fmt.Errorf("%s already holds a Lifeboat backup; nothing was changed", dir)
	}
	if err != nil {
		return fmt.Errorf("creating the backup in %s: %w", dir, err)
	}
	defer r.Close()
	w := g.stdout
	fmt.Fprintf(w, "Created a new Lifeboat backup in %s.\n\n", dir)
	fmt.Fprintf(w, "Recovery key:\n\n    %s\n\n", rk)
	fmt.Fprintf(w, "%s\nThis is the only time Lifeboat shows it.\n\n", recoveryKeyWarning)

	if _, err := r.AddKeyStoreSlot(ctx, repo.KeychainKeyStore(kc, repo.DefaultKeychainService)); err != nil {
		fmt.Fprintf(g.stderr, "warning: the backup is created, but this computer cannot keep a key for it: %v\n"+
			"Until that is fixed, give the recovery key to open it (--recovery-key or LIFEBOAT_RECOVERY_KEY).\n", explain(err))
		return nil
	}
	fmt.Fprintln(w, "This computer keeps a key in its keychain too, so backups run without the recovery key.")
	return nil
}

// prepareInitFolder makes sure dir is a folder that is new or empty. It
// creates only the last path element: a missing parent usually means the
// drive is not connected, and creating it would fill the system disk.
func prepareInitFolder(dir string) error {
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		parent := filepath.Dir(filepath.Clean(dir))
		if _, perr := os.Stat(parent); errors.Is(perr, fs.ErrNotExist) {
			return driveNotFound(parent)
		}
		if err := os.Mkdir(dir, 0o700); err != nil {
			return fmt.Errorf("creating the backup folder: %w", err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("cannot use %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is a file, not a folder", dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("cannot read %s: %w", dir, err)
	}
	if len(entries) == 0 {
		return nil
	}
	if _, err := os.Stat(filepath.Join(dir, "config")); err == nil {
		return fmt.Errorf("%s already holds a Lifeboat backup; nothing was changed", dir)
	}
	return fmt.Errorf("%s is not empty and is not a Lifeboat backup; choose a new or empty folder", dir)
}

func runSnapshots(ctx context.Context, g *globals, o repoOptions) error {
	r, err := openRepo(ctx, g, o)
	if err != nil {
		return err
	}
	defer r.Close()
	snaps, err := r.ListSnapshots(ctx)
	if err != nil {
		return err
	}
	w := g.stdout
	if len(snaps) == 0 {
		fmt.Fprintln(w, "No snapshots yet.")
		return nil
	}
	fmt.Fprintf(w, "%-8s  %-19s  %-10s  %-24s  %s\n", "ID", "Time", "Kind", "Account", "Computer")
	for _, s := range snaps {
		fmt.Fprintf(w, "%-8s  %-19s  %-10s  %-24s  %s\n", s.ID.Short(), s.Time.Local().Format(time.DateTime), s.Kind, s.Account, s.Hostname)
	}
	fmt.Fprintf(w, "%d snapshots\n", len(snaps))
	return nil
}

// parseSubset reads "P%" or "n/m".
func parseSubset(s string) (repo.Subset, error) {
	if p, ok := strings.CutSuffix(s, "%"); ok {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || v <= 0 || v > 100 {
			return repo.Subset{}, usageError{fmt.Errorf("--read-data-subset %q: a percentage must be more than 0 and at most 100", s)}
		}
		return repo.Subset{Percent: v}, nil
	}
	n, m, ok := strings.Cut(s, "/")
	if ok {
		a, err1 := strconv.Atoi(strings.TrimSpace(n))
		b, err2 := strconv.Atoi(strings.TrimSpace(m))
		if err1 == nil && err2 == nil && b >= 1 && a >= 1 && a <= b {
			return repo.Subset{Part: a, Of: b}, nil
		}
	}
	return repo.Subset{}, usageError{fmt.Errorf("--read-data-subset %q: use a percentage (10%%) or n/m (1/7)", s)}
}

func runVerify(ctx context.Context, g *globals, o repoOptions, readData bool, subset string) error {
	opts := repo.CheckOptions{ReadData: readData, Refs: backupRefs(false)}
	if subset != "" {
		sub, err := parseSubset(subset)
		if err != nil {
			return err
		}
		opts.ReadData, opts.Subset = true, sub
	}
	r, err := openRepo(ctx, g, o)
	if err != nil {
		return err
	}
	defer r.Close()
	// A shared lock: a prune must not delete data while it is being checked.
	lock, err := r.Lock(ctx, false)
	if err != nil {
		return fmt.Errorf("cannot verify now: %w", err)
	}
	defer lock.Unlock(context.WithoutCancel(ctx))
	start := time.Now()
	rep, err := r.Check(ctx, opts)
	if err != nil {
		return fmt.Errorf("verify could not run: %w", err)
	}
	w := g.stdout
	fmt.Fprintf(w, "Checked %d snapshots, %d data files, %d blobs.\n", rep.Snapshots, rep.Packs, rep.Blobs)
	if opts.ReadData {
		fmt.Fprintf(w, "Read back %d data files (%s) and authenticated %d blobs in %s.\n",
			rep.PacksRead, formatBytes(rep.BytesRead), rep.BlobsRead, time.Since(start).Round(time.Millisecond))
	}
	errorsFound := 0
	for _, p := range rep.Problems {
		if p.Severity == repo.Error {
			errorsFound++
		}
		fmt.Fprintf(w, "  %s\n", p)
	}
	if errorsFound == 0 {
		fmt.Fprintln(w, "No damage found.")
		return nil
	}
	affected := affectedFiles(ctx, r, rep.Problems)
	if len(affected) > 0 {
		fmt.Fprintln(w, "Affected:")
		for _, a := range affected {
			fmt.Fprintf(w, "  %s\n", a)
		}
	}
	return fmt.Errorf("verify found %d problems in the backup; run `lifeboat repair` if an index file is damaged", errorsFound)
}

// affectedFiles names the snapshot files whose content includes a damaged
// blob, for the trees this build can read.
func affectedFiles(ctx context.Context, r *repo.Repository, problems []repo.Problem) []string {
	damaged := map[repo.ID]bool{}
	for _, p := range problems {
		if p.Severity == repo.Error && !p.Blob.IsZero() {
			damaged[p.Blob] = true
		}
	}
	if len(damaged) == 0 {
		return nil
	}
	snaps, err := r.ListSnapshots(ctx)
	if err != nil {
		return nil
	}
	var out []string
	for _, s := range snaps {
		label := fmt.Sprintf("snapshot %s (%s %s)", s.ID.Short(), s.Kind, s.Time.Local().Format(time.DateTime))
		if damaged[s.Root] {
			out = append(out, label+": its list of files")
			continue
		}
		if s.Root.IsZero() {
			continue
		}
		b, err := r.LoadBlob(ctx, s.Root)
		if err != nil {
			continue
		}
		var t benchTree
		if json.Unmarshal(b, &t) != nil || t.Format != benchTreeFormat {
			continue
		}
		for _, f := range t.Files {
			if slices.ContainsFunc(f.Content.Chunks, func(id repo.ID) bool { return damaged[id] }) {
				out = append(out, label+": "+f.Path)
			}
		}
	}
	return out
}

type pruneFlags struct {
	dryRun      bool
	keepWithin  string
	keepDeleted string
	policy      repo.Policy
	grace       time.Duration
}

// parseAge reads a duration with d (days) and y (365 days) besides Go's units.
func parseAge(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	for suffix, unit := range map[string]time.Duration{"d": 24 * time.Hour, "y": 365 * 24 * time.Hour, "w": 7 * 24 * time.Hour} {
		if n, ok := strings.CutSuffix(s, suffix); ok {
			v, err := strconv.Atoi(n)
			if err != nil || v < 0 {
				return 0, fmt.Errorf("%q is not a duration like 30d", s)
			}
			return time.Duration(v) * unit, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not a duration like 30d or 12h", s)
	}
	return d, nil
}

func runPrune(ctx context.Context, g *globals, o repoOptions, pf pruneFlags) error {
	within, err := parseAge(pf.keepWithin)
	if err != nil {
		return usageError{fmt.Errorf("--keep-within: %w", err)}
	}
	policy := pf.policy
	policy.KeepAllWithin = within
	if pf.keepDeleted != "" { // else the policy's own rule
		if policy.KeepDeletedFor, err = parseAge(pf.keepDeleted); err != nil {
			return usageError{fmt.Errorf("--keep-deleted: %w", err)}
		}
	}
	r, err := openRepo(ctx, g, o)
	if err != nil {
		return err
	}
	defer r.Close()
	snaps, err := r.ListSnapshots(ctx)
	if err != nil {
		return err
	}
	var cat *catalog.Catalog
	if !holdsItems(snaps) {
		policy.KeepDeletedFor = 0 // nothing a deletion rule could protect
	}
	if policy.KeepDeletedFor > 0 {
		if cat, err = catalogForRetention(ctx, r); err != nil {
			return err
		}
		defer cat.Close()
	}
	keep, forget, reasons, err := backup.RetentionPlan(ctx, cat, snaps, time.Now(), policy)
	if err != nil {
		return err
	}
	byID := map[repo.ID]*repo.Snapshot{}
	for _, s := range snaps {
		byID[s.ID] = s
	}
	w := g.stdout
	verb := "forgetting"
	if pf.dryRun {
		verb = "would forget"
	}
	fmt.Fprintf(w, "Retention: %s.\n", policy)
	fmt.Fprintf(w, "Keeping %d snapshots; %s %d.\n", len(keep), verb, len(forget))
	for _, id := range keep {
		s := byID[id]
		fmt.Fprintf(w, "  keep    %s  %s  %-10s %s  (%s)\n", id.Short(), s.Time.Local().Format(time.DateTime), s.Kind, s.Account, reasons[id])
	}
	for _, id := range forget {
		s := byID[id]
		fmt.Fprintf(w, "  forget  %s  %s  %-10s %s\n", id.Short(), s.Time.Local().Format(time.DateTime), s.Kind, s.Account)
	}
	grace := pf.grace
	if grace <= 0 {
		grace = -1
	}
	rep, err := r.Prune(ctx, repo.PruneOptions{Forget: forget, Refs: backupRefs(true), DryRun: pf.dryRun, Grace: grace})
	if err != nil {
		if errors.Is(err, repo.ErrLocked) {
			return fmt.Errorf("%w; prune needs the backup to itself: try again when the other run is finished", err)
		}
		return err
	}
	if pf.dryRun {
		fmt.Fprintf(w, "Dry run: would delete %d data files, rewrite %d partly used ones into %d and remove %d left by interrupted runs, freeing about %s.\n",
			rep.PacksDeleted, rep.PacksRepacked, rep.PacksWritten, rep.UnindexedDeleted, formatBytes(rep.BytesFreed()))
		if rep.PacksKeptRecent > 0 {
			fmt.Fprintf(w, "%d recent data files are left alone (they may belong to a backup in progress).\n", rep.PacksKeptRecent)
		}
		fmt.Fprintln(w, "Nothing was changed.")
		return nil
	}
	fmt.Fprintf(w, "Deleted %d snapshots and %d data files, rewrote %d partly used ones into %d, removed %d left by interrupted runs: %s freed.\n",
		rep.SnapshotsForgotten, rep.PacksDeleted, rep.PacksRepacked, rep.PacksWritten, rep.UnindexedDeleted, formatBytes(rep.BytesFreed()))
	if rep.PacksKeptRecent > 0 {
		fmt.Fprintf(w, "%d recent data files were left alone (they may belong to a backup in progress).\n", rep.PacksKeptRecent)
	}
	for _, p := range rep.Problems {
		fmt.Fprintf(w, "  %s\n", p)
	}
	if len(rep.Problems) > 0 {
		return fmt.Errorf("prune finished but found %d damaged data files; run `lifeboat verify --read-data`", len(rep.Problems))
	}
	return nil
}

// holdsItems reports whether any snapshot holds mail or OneDrive items.
func holdsItems(snaps []*repo.Snapshot) bool {
	for _, s := range snaps {
		if s.Kind == backup.KindMail || s.Kind == backup.KindOneDrive {
			return true
		}
	}
	return false
}

// catalogForRetention opens this computer's catalog of r, restoring it
// from the backup's copy when it is missing: prune must know which
// snapshots hold deleted items before it may forget any.
func catalogForRetention(ctx context.Context, r *repo.Repository) (*catalog.Catalog, error) {
	c, err := openLocalCatalog(ctx, r)
	if errors.Is(err, backup.ErrNoCatalogCopy) {
		return nil, errors.New("prune needs the catalog to know which snapshots hold deleted items, and this backup has no copy of it yet; " +
			"run a backup first, or pass --keep-deleted 0")
	}
	if err != nil {
		return nil, fmt.Errorf("opening the catalog (run `lifeboat repair` if it is damaged): %w", err)
	}
	return c, nil
}

func runRepair(ctx context.Context, g *globals, o repoOptions) error {
	r, err := openRepo(ctx, g, o)
	if err != nil {
		return err
	}
	defer r.Close()
	lock, err := r.Lock(ctx, true)
	if err != nil {
		return fmt.Errorf("repair needs the backup to itself: %w", err)
	}
	defer lock.Unlock(context.WithoutCancel(ctx))
	rep, err := r.RebuildIndex(ctx)
	if err != nil {
		return fmt.Errorf("rebuilding the index: %w", err)
	}
	w := g.stdout
	fmt.Fprintf(w, "Rebuilt the index from %d data files (%d blobs): wrote %d index files, removed %d old ones.\n",
		rep.Packs, rep.Blobs, rep.IndexesWritten, rep.IndexesRemoved)
	for _, p := range rep.Problems {
		fmt.Fprintf(w, "  %s\n", p)
	}
	if err := repairCatalog(ctx, g, r); err != nil {
		return fmt.Errorf("repairing the catalog: %w", err)
	}
	fmt.Fprintln(w, "Run `lifeboat verify --read-data` to check the data itself.")
	if err := lock.Unlock(ctx); err != nil {
		return err
	}
	return nil
}

func runUnlock(ctx context.Context, g *globals, o repoOptions, all bool) error {
	r, err := openRepo(ctx, g, o)
	if err != nil {
		return err
	}
	defer r.Close()
	var n int
	if all {
		fmt.Fprintln(g.stderr, "warning: removing every lock, also those of runs that may still be going. "+
			"If another Lifeboat is using this backup right now, stop it first.")
		n, err = r.RemoveAllLocks(ctx)
	} else {
		n, err = r.RemoveStaleLocks(ctx)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(g.stdout, "Removed %d locks.\n", n)
	if !all {
		left, err := r.ListLocks(ctx)
		if err != nil {
			return err
		}
		if len(left) > 0 {
			fmt.Fprintf(g.stdout, "%d locks belong to runs that are still going; --all removes them too.\n", len(left))
		}
	}
	return nil
}

// benchTreeFormat names the tree blobs `bench ingest` writes: JSON listing
// every file with its content ref.
const benchTreeFormat = "lifeboat-bench-tree/1"

type benchTree struct {
	Format string      `json:"format"`
	Files  []benchFile `json:"files"`
}

type benchFile struct {
	Path    string          `json:"path"` // slash-separated, relative to the ingested folder
	Size    int64           `json:"size"`
	Mode    string          `json:"mode"`
	ModTime time.Time       `json:"mtime"`
	Content repo.ContentRef `json:"content"`
}

// benchRefs returns what a bench tree references. strict (for prune)
// rejects other trees, whose references it cannot know; otherwise (for
// verify) they are not followed.
func benchRefs(strict bool) func([]byte) ([]repo.ID, error) {
	return func(b []byte) ([]repo.ID, error) {
		var t benchTree
		if err := json.Unmarshal(b, &t); err != nil || t.Format != benchTreeFormat {
			if strict {
				return nil, errors.New("this version of Lifeboat cannot follow this kind of snapshot")
			}
			return nil, nil
		}
		var ids []repo.ID
		for _, f := range t.Files {
			ids = append(ids, f.Content.Chunks...)
		}
		return ids, nil
	}
}

func runBenchIngest(ctx context.Context, g *globals, o repoOptions, src string) error {
	if fi, err := os.Stat(src); err != nil {
		return fmt.Errorf("cannot read the folder to ingest: %w", err)
	} else if !fi.IsDir() {
		return usageError{fmt.Errorf("%s is not a folder", src)}
	}
	r, err := openRepo(ctx, g, o)
	if err != nil {
		return err
	}
	defer r.Close()
	lock, err := r.Lock(ctx, false)
	if err != nil {
		return err
	}
	defer lock.Unlock(context.WithoutCancel(ctx))

	start := time.Now()
	files, err := ingestFolder(ctx, r, src)
	if err != nil {
		return err
	}
	tree, err := json.Marshal(benchTree{Format: benchTreeFormat, Files: files})
	if err != nil {
		return fmt.Errorf("encoding the file list: %w", err)
	}
	root, _, err := r.SaveBlob(ctx, repo.TreeBlob, tree)
	if err != nil {
		return fmt.Errorf("saving the file list: %w", err)
	}
	abs, _ := filepath.Abs(src)
	id, err := r.SaveSnapshot(ctx, &repo.Snapshot{Kind: "bench", Account: abs, Root: root, Tags: []string{"bench"}})
	if err != nil {
		return err
	}
	if err := lock.Unlock(ctx); err != nil {
		return err
	}
	d := time.Since(start)
	var total int64
	for _, f := range files {
		total += f.Size
	}
	st := r.Stats()
	w := g.stdout
	fmt.Fprintf(w, "Snapshot %s saved.\n", id.Short())
	fmt.Fprintf(w, "files:      %d\n", len(files))
	fmt.Fprintf(w, "bytes:      %d (%s)\n", total, formatBytes(total))
	fmt.Fprintf(w, "new stored: %d (%s; %d new blobs, %d duplicates, %d data files)\n", st.StoredBytes, formatBytes(st.StoredBytes), st.NewBlobs, st.DuplicateBlobs, st.Packs)
	fmt.Fprintf(w, "duration:   %.3f s\n", d.Seconds())
	fmt.Fprintf(w, "speed:      %.1f MB/s\n", float64(total)/1e6/max(d.Seconds(), 1e-9))
	return nil
}

// ingestFolder stores every regular file under src. Small files are saved
// by several workers at once; large ones, which SaveStream already splits
// across workers, one at a time, so memory stays bounded.
func ingestFolder(ctx context.Context, r *repo.Repository, src string) ([]benchFile, error) {
	type job struct {
		i    int
		path string
		fi   fs.FileInfo
	}
	var (
		files []benchFile
		jobs  []job
	)
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("reading %s: %w", p, err)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return fmt.Errorf("reading %s: %w", p, err)
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		jobs = append(jobs, job{i: len(files), path: p, fi: fi})
		files = append(files, benchFile{Path: filepath.ToSlash(rel), Size: fi.Size(), Mode: fi.Mode().String(), ModTime: fi.ModTime().UTC()})
		return nil
	})
	if err != nil {
		return nil, err
	}
	const bigFile = 1 << 20
	workers := min(runtime.GOMAXPROCS(0), 8)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
		big      = make(chan struct{}, 1)
		next     = make(chan job)
	)
	fail := func(err error) {
		errOnce.Do(func() { firstErr = err; cancel() })
	}
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range next {
				if j.fi.Size() >= bigFile {
					big <- struct{}{}
				}
				ref, err := saveFile(ctx, r, j.path)
				if j.fi.Size() >= bigFile {
					<-big
				}
				if err != nil {
					fail(err)
					continue
				}
				files[j.i].Content = ref
				files[j.i].Size = ref.Size
			}
		}()
	}
feed:
	for _, j := range jobs {
		select {
		case next <- j:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return files, nil
}

func saveFile(ctx context.Context, r *repo.Repository, path string) (repo.ContentRef, error) {
	f, err := os.Open(path)
	if err != nil {
		return repo.ContentRef{}, fmt.Errorf("reading %s: %w", path, err)
	}
	defer f.Close()
	ref, err := r.SaveStream(ctx, f)
	if err != nil {
		return repo.ContentRef{}, fmt.Errorf("storing %s: %w", path, err)
	}
	return ref, nil
}

// formatBytes is n in B, kB, MB, GB (powers of 1000, as drives are sold).
func formatBytes(n int64) string {
	const unit = 1000
	if n < unit && n > -unit {
		return fmt.Sprintf("%d B", n)
	}
	v := float64(n)
	for _, u := range []string{"kB", "MB", "GB", "TB"} {
		v /= unit
		if v < unit && v > -unit {
			return fmt.Sprintf("%.1f %s", v, u)
		}
	}
	return fmt.Sprintf("%.1f PB", v/unit)
}
