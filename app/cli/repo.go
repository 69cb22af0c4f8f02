package cli

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/lifeboat-backup/lifeboat/engine/repo"
	"github.com/lifeboat-backup/lifeboat/engine/service"
)

// recoveryKeyWarning is printed with the recovery key, the only time it is shown.
const recoveryKeyWarning = "Write this down or save it in a password manager. Without it nobody, including us, " +
	"can open this backup if this computer is lost."

// folderFlags are the flags of commands that work on a backup folder.
type folderFlags struct {
	common
	dir         string
	recoveryKey string
	// offsite reads the off-site copy instead of dir, as it was at asOf
	// when set (the browse and restore commands: offsite.go).
	offsite bool
	asOf    string
}

// addTargetFlags adds --to, the backup folder a command writes to
// (init, backup, schedule set).
func addTargetFlags(cmd *cobra.Command, o *folderFlags, withKey bool) {
	f := cmd.Flags()
	f.StringVar(&o.dir, "to", "", "the backup folder (on a USB drive or network share); also LIFEBOAT_REPO")
	addKeyFlags(cmd, o, withKey)
}

// addBackupFlags adds --backup, the backup folder a command reads (and
// --to, which it used to be called, hidden so old scripts keep working).
func addBackupFlags(cmd *cobra.Command, o *folderFlags) {
	f := cmd.Flags()
	f.StringVar(&o.dir, "backup", "", "the backup folder to read (on a USB drive or network share); also LIFEBOAT_REPO")
	f.StringVar(&o.dir, "to", "", "the same as --backup")
	_ = f.MarkHidden("to")
	addKeyFlags(cmd, o, true)
}

func addKeyFlags(cmd *cobra.Command, o *folderFlags, withKey bool) {
	f := cmd.Flags()
	if withKey {
		f.StringVar(&o.recoveryKey, "recovery-key", "", "open the backup with its recovery key instead of this computer's keychain "+
			"(visible to other users in the process list: prefer LIFEBOAT_RECOVERY_KEY or typing it when asked)")
	}
	f.StringVar(&o.secretStore, "secret-store", "", "where this computer keeps the key that opens the backup: keychain (the system's, default) or file (a 0600 file in Lifeboat's config folder: less safe); also LIFEBOAT_SECRET_STORE")
}

// open opens the backup the flags name: a service and the repository.
func (a *app) open(cmd *cobra.Command, o folderFlags) (*service.Service, *repo.Repository, error) {
	dir, err := backupFolder(o.dir)
	if err != nil {
		return nil, nil, err
	}
	svc, err := a.service(o.common, usesBackup)
	if err != nil {
		return nil, nil, err
	}
	r, err := withKey(a, a.recoveryKey(o.recoveryKey), func(key string) (*repo.Repository, error) {
		return svc.OpenBackup(cmd.Context(), dir, key)
	})
	return svc, r, err
}

// repoCommands returns init, snapshots, verify, prune, repair, unlock and bench.
func (a *app) repoCommands() []*cobra.Command {
	var ino, so, vo, po, ro, uo, bo folderFlags

	initCmd := &cobra.Command{
		Use:   "init --to DIR",
		Short: "Create a new backup in a folder and show its recovery key",
		Long: "Create a new, empty backup in DIR (a new or empty folder on a USB drive or network share).\n" +
			"Lifeboat shows the backup's recovery key once: write it down. This computer's keychain\n" +
			"keeps another key, so scheduled backups run without it.",
		Args: requireArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error { return a.init(cmd, ino) },
	}
	addTargetFlags(initCmd, &ino, false)

	snapshots := &cobra.Command{
		Use:   "snapshots --backup DIR",
		Short: "List the snapshots in a backup",
		Args:  requireArgs(cobra.NoArgs),
		RunE:  func(cmd *cobra.Command, args []string) error { return a.snapshots(cmd, so) },
	}
	addBackupFlags(snapshots, &so)

	var readData bool
	var subset string
	verify := &cobra.Command{
		Use:   "verify --backup DIR [--read-data | --read-data-subset P% | --read-data-subset n/m]",
		Short: "Check that a backup is complete and undamaged",
		Long: "Check the structure of the backup: keys, index, and that every snapshot's data is there.\n" +
			"With --read-data, also read back and authenticate every byte (slow on a big backup).\n" +
			"--read-data-subset reads part of it: a percentage chosen at random, or part n of m\n" +
			"(1/7 on Monday … 7/7 on Sunday reads everything once a week).",
		Args: requireArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error { return a.verify(cmd, vo, readData, subset) },
	}
	addBackupFlags(verify, &vo)
	verify.Flags().BoolVar(&readData, "read-data", false, "read and authenticate all data")
	verify.Flags().StringVar(&subset, "read-data-subset", "", "read and authenticate part of the data: P% or n/m")

	var pf pruneFlags
	prune := &cobra.Command{
		Use:   "prune --backup DIR [--dry-run] [--keep-within 30d --keep-daily 7 --keep-weekly 4 --keep-monthly 12 --keep-yearly 5]",
		Short: "Forget old snapshots by the retention rules and free their space",
		Long: "Apply the retention rules to each account's snapshots: keep everything from the last\n" +
			"--keep-within, then the newest snapshot of each of the last N days, weeks, months and years.\n" +
			"The newest snapshot of every account is always kept. Then delete the data no remaining\n" +
			"snapshot needs. Prune can be interrupted at any moment without harm; run it again to finish.\n" +
			"An item deleted in Microsoft 365 stays restorable for --keep-deleted (default 7 years): the\n" +
			"snapshot holding its last version is kept. Use --dry-run to see what would be removed.",
		Args: requireArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error { return a.prune(cmd, po, pf) },
	}
	addBackupFlags(prune, &po)
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

	var salvage bool
	repair := &cobra.Command{
		Use:   "repair --backup DIR [--salvage]",
		Short: "Rebuild the backup's index from its data files, and this computer's catalog",
		Long: "Rebuild the backup's index from the data files alone, when verify reports a damaged or\n" +
			"missing index, or data left unindexed by an interrupted run. Nothing is deleted.\n" +
			"With --salvage, when verify --read-data found damaged data: read back every byte, leave\n" +
			"out of the index what cannot be read, and say which emails and files that loses, so that\n" +
			"everything else restores and later backups work again.\n" +
			"Then check this computer's catalog of the backup (what search and browsing use) and, when\n" +
			"it is missing or damaged, restore the newest copy stored in the backup.",
		Args: requireArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error { return a.repair(cmd, ro, salvage) },
	}
	addBackupFlags(repair, &ro)
	repair.Flags().BoolVar(&salvage, "salvage", false, "read every byte and drop what cannot be read, saying what is lost")

	var unlockAll bool
	unlock := &cobra.Command{
		Use:   "unlock --backup DIR [--all]",
		Short: "Remove locks left by Lifeboat runs that stopped",
		Long: "Remove the locks of runs that are no longer running (their process is gone, or they have\n" +
			"not been refreshed for 30 minutes). With --all, remove every lock: only when you are sure\n" +
			"no other Lifeboat is using this backup.",
		Args: requireArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error { return a.unlock(cmd, uo, unlockAll) },
	}
	addBackupFlags(unlock, &uo)
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
		RunE: func(cmd *cobra.Command, args []string) error { return a.ingest(cmd, bo, args[0]) },
	}
	addTargetFlags(ingest, &bo, true)
	bench.AddCommand(ingest)

	return []*cobra.Command{initCmd, snapshots, verify, prune, repair, unlock, bench}
}

func (a *app) init(cmd *cobra.Command, o folderFlags) error {
	dir, err := backupFolder(o.dir)
	if err != nil {
		return usageError{errors.New("which folder? pass --to DIR or set LIFEBOAT_REPO")}
	}
	svc, err := a.service(o.common, usesBackup)
	if err != nil {
		return err
	}
	nb, err := svc.InitBackup(cmd.Context(), dir, false)
	if err != nil {
		return err
	}
	w := a.stdout
	fmt.Fprintf(w, "Created a new Lifeboat backup in %s.\n\n", dir)
	fmt.Fprintf(w, "Recovery key:\n\n    %s\n\n", nb.RecoveryKey)
	fmt.Fprintf(w, "%s\nThis is the only time Lifeboat shows it.\n\n", recoveryKeyWarning)
	for _, warn := range nb.Warnings {
		fmt.Fprintf(a.stderr, "warning: %s\n", warn)
	}
	if nb.KeychainErr != nil {
		fmt.Fprintf(a.stderr, "warning: the backup is created, but this computer cannot keep a key for it: %v\n"+
			"Until that is fixed, give the recovery key to open it (--recovery-key or LIFEBOAT_RECOVERY_KEY).\n", nb.KeychainErr)
		return nil
	}
	fmt.Fprintln(w, "This computer keeps a key in its keychain too, so backups run without the recovery key.")
	return nil
}

func (a *app) snapshots(cmd *cobra.Command, o folderFlags) error {
	_, r, err := a.open(cmd, o)
	if err != nil {
		return err
	}
	defer r.Close()
	snaps, err := r.ListSnapshots(cmd.Context())
	if err != nil {
		return err
	}
	w := a.stdout
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

func (a *app) verify(cmd *cobra.Command, o folderFlags, readData bool, subset string) error {
	opts := repo.CheckOptions{ReadData: readData}
	if subset != "" {
		sub, err := parseSubset(subset)
		if err != nil {
			return err
		}
		opts.ReadData, opts.Subset = true, sub
	}
	svc, r, err := a.open(cmd, o)
	if err != nil {
		return err
	}
	defer r.Close()
	rep, err := svc.Verify(cmd.Context(), r, opts)
	if err != nil {
		return err
	}
	w := a.stdout
	fmt.Fprintf(w, "Checked %d snapshots, %d data files, %d blobs.\n", rep.Snapshots, rep.Packs, rep.Blobs)
	if opts.ReadData {
		fmt.Fprintf(w, "Read back %d data files (%s) and authenticated %d blobs in %s.\n",
			rep.PacksRead, formatBytes(rep.BytesRead), rep.BlobsRead, rep.Took.Round(time.Millisecond))
	}
	for _, p := range rep.Problems {
		fmt.Fprintf(w, "  %s\n", p)
	}
	if rep.Errors == 0 {
		fmt.Fprintln(w, "No damage found.")
		return nil
	}
	if len(rep.Affected) > 0 {
		fmt.Fprintln(w, "Affected:")
		for _, af := range rep.Affected {
			fmt.Fprintf(w, "  %s\n", af)
		}
	}
	return fmt.Errorf("verify found %d problems in the backup; run `lifeboat repair` if an index file is damaged", rep.Errors)
}

type pruneFlags struct {
	dryRun      bool
	keepWithin  string
	keepDeleted string
	policy      repo.Policy
	grace       time.Duration
}

// parseAge reads a duration with d (days), w (weeks) and y (365 days)
// besides Go's units.
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

func (a *app) prune(cmd *cobra.Command, o folderFlags, pf pruneFlags) error {
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
	svc, r, err := a.open(cmd, o)
	if err != nil {
		return err
	}
	defer r.Close()
	grace := pf.grace
	if grace <= 0 {
		grace = -1
	}
	res, err := svc.Prune(cmd.Context(), r, service.PruneRequest{Policy: policy, DryRun: pf.dryRun, Grace: grace})
	if err != nil {
		return err
	}
	printPrune(a.stdout, res, pf.dryRun)
	if n := len(res.Report.Problems); n > 0 && !pf.dryRun {
		return fmt.Errorf("prune finished but found %d damaged data files; run `lifeboat verify --read-data`", n)
	}
	return nil
}

func printPrune(w interface{ Write([]byte) (int, error) }, res service.PruneResult, dryRun bool) {
	verb := "forgetting"
	if dryRun {
		verb = "would forget"
	}
	fmt.Fprintf(w, "Retention: %s.\n", res.Policy)
	fmt.Fprintf(w, "Keeping %d snapshots; %s %d.\n", len(res.Keep), verb, len(res.Forget))
	for _, s := range res.Keep {
		fmt.Fprintf(w, "  keep    %s  %s  %-10s %s  (%s)\n", s.ID.Short(), s.Time.Local().Format(time.DateTime), s.Kind, s.Account, res.Reasons[s.ID])
	}
	for _, s := range res.Forget {
		fmt.Fprintf(w, "  forget  %s  %s  %-10s %s\n", s.ID.Short(), s.Time.Local().Format(time.DateTime), s.Kind, s.Account)
	}
	rep := res.Report
	if dryRun {
		fmt.Fprintf(w, "Dry run: would delete %d data files, rewrite %d partly used ones into %d and remove %d left by interrupted runs, freeing about %s.\n",
			rep.PacksDeleted, rep.PacksRepacked, rep.PacksWritten, rep.UnindexedDeleted, formatBytes(rep.BytesFreed()))
		if rep.PacksKeptRecent > 0 {
			fmt.Fprintf(w, "%d recent data files are left alone (they may belong to a backup in progress).\n", rep.PacksKeptRecent)
		}
		fmt.Fprintln(w, "Nothing was changed.")
		return
	}
	fmt.Fprintf(w, "Deleted %d snapshots and %d data files, rewrote %d partly used ones into %d, removed %d left by interrupted runs: %s freed.\n",
		rep.SnapshotsForgotten, rep.PacksDeleted, rep.PacksRepacked, rep.PacksWritten, rep.UnindexedDeleted, formatBytes(rep.BytesFreed()))
	if rep.PacksKeptRecent > 0 {
		fmt.Fprintf(w, "%d recent data files were left alone (they may belong to a backup in progress).\n", rep.PacksKeptRecent)
	}
	for _, p := range rep.Problems {
		fmt.Fprintf(w, "  %s\n", p)
	}
}

func (a *app) repair(cmd *cobra.Command, o folderFlags, salvage bool) error {
	svc, r, err := a.open(cmd, o)
	if err != nil {
		return err
	}
	defer r.Close()
	res, err := svc.RepairWith(cmd.Context(), r, service.RepairOptions{Salvage: salvage})
	w := a.stdout
	if sv := res.Salvage; sv != nil {
		printSalvage(w, sv, res.Took)
	} else if rep := res.Index; rep != nil {
		fmt.Fprintf(w, "Rebuilt the index from %d data files (%d blobs): wrote %d index files, removed %d old ones.\n",
			rep.Packs, rep.Blobs, rep.IndexesWritten, rep.IndexesRemoved)
		for _, p := range rep.Problems {
			fmt.Fprintf(w, "  %s\n", p)
		}
	}
	if err != nil {
		return err
	}
	c := res.Catalog
	switch c.State {
	case service.CatalogUndamaged:
		fmt.Fprintln(w, "The catalog on this computer is undamaged.")
	case service.CatalogNoCopy:
		if c.Damage != nil {
			fmt.Fprintf(w, "The catalog on this computer is damaged (%v).\n", c.Damage)
		}
		fmt.Fprintln(w, "This backup holds no catalog copy yet; the next backup run builds the catalog.")
	default:
		if c.Damage != nil {
			fmt.Fprintf(w, "The catalog on this computer is damaged (%v); restoring it from the backup.\n", c.Damage)
		}
		fmt.Fprintf(w, "Restored the catalog from the copy saved %s.\n", c.CopyTime.Local().Format("2006-01-02 15:04"))
	}
	fmt.Fprintln(w, "Run `lifeboat verify --read-data` to check the data itself.")
	return nil
}

func (a *app) unlock(cmd *cobra.Command, o folderFlags, all bool) error {
	svc, r, err := a.open(cmd, o)
	if err != nil {
		return err
	}
	defer r.Close()
	if all {
		fmt.Fprintln(a.stderr, "warning: removing every lock, also those of runs that may still be going. "+
			"If another Lifeboat is using this backup right now, stop it first.")
	}
	removed, left, err := svc.Unlock(cmd.Context(), r, all)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "Removed %d locks.\n", removed)
	if left > 0 {
		fmt.Fprintf(a.stdout, "%d locks belong to runs that are still going; --all removes them too.\n", left)
	}
	return nil
}

func (a *app) ingest(cmd *cobra.Command, o folderFlags, src string) error {
	svc, r, err := a.open(cmd, o)
	if err != nil {
		return err
	}
	defer r.Close()
	res, err := svc.Ingest(cmd.Context(), r, src)
	if err != nil {
		return err
	}
	st := res.Stats
	w := a.stdout
	fmt.Fprintf(w, "Snapshot %s saved.\n", res.Snapshot.Short())
	fmt.Fprintf(w, "files:      %d\n", res.Files)
	fmt.Fprintf(w, "bytes:      %d (%s)\n", res.Bytes, formatBytes(res.Bytes))
	fmt.Fprintf(w, "new stored: %d (%s; %d new blobs, %d duplicates, %d data files)\n", st.StoredBytes, formatBytes(st.StoredBytes), st.NewBlobs, st.DuplicateBlobs, st.Packs)
	fmt.Fprintf(w, "duration:   %.3f s\n", res.Took.Seconds())
	fmt.Fprintf(w, "speed:      %.1f MB/s\n", float64(res.Bytes)/1e6/max(res.Took.Seconds(), 1e-9))
	return nil
}
