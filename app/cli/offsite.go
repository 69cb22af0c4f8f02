package cli

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/lifeboat-backup/lifeboat/engine/health"
	"github.com/lifeboat-backup/lifeboat/engine/service"
)

// secretEnv is where a script passes the off-site storage's secret key:
// a flag would show it to every user of the computer in the process list.
const secretEnv = "LIFEBOAT_S3_SECRET"

type offsiteFlags struct {
	common
	provider, endpoint, region, bucket, prefix, accessKeyID string
	retentionDays                                           int
	json                                                    bool
}

// offsiteCommand is `lifeboat offsite setup|check|copy|status|maintain`.
func (a *app) offsiteCommand() *cobra.Command {
	var o offsiteFlags
	cmd := &cobra.Command{
		Use:   "offsite",
		Short: "A second copy of the backup in S3-compatible storage that nobody can delete (Object Lock)",
		Long: "Keep a second copy of the backup off site, in an S3-compatible bucket with Object Lock\n" +
			"(Backblaze B2, Wasabi, Amazon S3, Synology C2, MinIO on a NAS…). Every object is locked for\n" +
			"the retention period, so neither ransomware nor anyone holding Lifeboat's keys can delete\n" +
			"it. After each scheduled backup the new data is copied, verified and its locks kept up.",
		Args: requireArgs(cobra.NoArgs),
	}
	setup := &cobra.Command{
		Use:   "setup --endpoint URL --bucket NAME --access-key-id ID [--provider P] [--retention-days 30]",
		Short: "Choose the bucket, check it and remember it (the secret key goes into the keychain)",
		Long: "Check the bucket (it must exist, with versioning and Object Lock on) and save it as the\n" +
			"off-site destination. The secret key is read from " + secretEnv + " or asked for; it is\n" +
			"kept in the system keychain, never in a file. Providers: " + providerIDs() + ".",
		Args: requireArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error { return a.offsiteSetup(cmd, o) },
	}
	f := setup.Flags()
	f.StringVar(&o.provider, "provider", "", "the storage service: "+providerIDs()+" (default: other S3-compatible)")
	f.StringVar(&o.endpoint, "endpoint", "", "the service's address, e.g. s3.eu-central-003.backblazeb2.com or https://nas.local:9000")
	f.StringVar(&o.region, "region", "", "the region, when the service needs it")
	f.StringVar(&o.bucket, "bucket", "", "the bucket (create it first, with Object Lock on)")
	f.StringVar(&o.prefix, "prefix", "", "a folder in the bucket, to share it with other backups")
	f.StringVar(&o.accessKeyID, "access-key-id", "", "the access key ID (the secret is read from "+secretEnv+" or asked for)")
	f.IntVar(&o.retentionDays, "retention-days", service.DefaultOffsiteDays, "how many days every copied object stays locked")
	check := &cobra.Command{
		Use:   "check",
		Short: "Check the saved bucket again: versioning, Object Lock, and what the keys could destroy",
		Args:  requireArgs(cobra.NoArgs),
		RunE:  func(cmd *cobra.Command, args []string) error { return a.offsiteCheck(cmd, o) },
	}
	var co folderFlags
	cp := &cobra.Command{
		Use:   "copy [--backup DIR]",
		Short: "Copy what is new in the backup to the off-site bucket now, and verify it",
		Args:  requireArgs(cobra.NoArgs),
		RunE:  func(cmd *cobra.Command, args []string) error { return a.offsiteCopy(cmd, co) },
	}
	addBackupFlags(cp, &co)
	status := &cobra.Command{
		Use:   "status",
		Short: "Show the off-site destination and when the last copy finished",
		Args:  requireArgs(cobra.NoArgs),
		RunE:  func(cmd *cobra.Command, args []string) error { return a.offsiteStatus(cmd, o) },
	}
	status.Flags().BoolVar(&o.json, "json", false, "print JSON")
	maintain := &cobra.Command{
		Use:   "maintain",
		Short: "Extend the locks of what is still needed and apply retention (scheduled runs do this daily)",
		Args:  requireArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, err := a.service(o.common, usesBackup)
			if err != nil {
				return err
			}
			rep, err := svc.MaintainOffsite(cmd.Context())
			if errors.Is(err, service.ErrPruneHeld) {
				fmt.Fprintln(a.stdout, "Locks extended. Old backups are all kept while the alarm is open (see `lifeboat alarm show`).")
				return nil
			}
			if err != nil {
				return err
			}
			if rep == nil {
				return errors.New("no off-site copy is set up: run `lifeboat offsite setup`")
			}
			fmt.Fprintln(a.stdout, "The off-site copy's retention ran and its locks are up to date.")
			return nil
		},
	}
	for _, c := range []*cobra.Command{setup, check, status, maintain} {
		c.Flags().StringVar(&o.secretStore, "secret-store", "", "where this computer keeps the storage's secret key and the backup's key: keychain (default) or file (less safe); also LIFEBOAT_SECRET_STORE")
	}
	cmd.AddCommand(setup, check, cp, status, maintain)
	return cmd
}

func providerIDs() string {
	var ids []string
	for _, p := range service.OffsiteProviders() {
		if p.ID != "" {
			ids = append(ids, string(p.ID))
		}
	}
	return strings.Join(ids, ", ")
}

// offsiteSecret is the secret key: from the environment, else typed.
func (a *app) offsiteSecret() (string, error) {
	if s := os.Getenv(secretEnv); s != "" {
		return s, nil
	}
	if !a.o.Interactive() {
		return "", usageError{errors.New("the secret key is needed: set " + secretEnv + " or run this at a terminal to type it")}
	}
	fmt.Fprint(a.stderr, "Secret key of the storage (shown as you type; clear the screen afterwards): ")
	line, err := bufio.NewReader(a.o.Stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", fmt.Errorf("reading the secret key: %w", err)
	}
	return strings.TrimSpace(line), nil
}

func (a *app) offsiteSetup(cmd *cobra.Command, o offsiteFlags) error {
	if o.endpoint == "" || o.bucket == "" || o.accessKeyID == "" {
		return usageError{errors.New("offsite setup: --endpoint, --bucket and --access-key-id are needed")}
	}
	svc, err := a.service(o.common, usesBackup)
	if err != nil {
		return err
	}
	secretKey, err := a.offsiteSecret()
	if err != nil {
		return err
	}
	chk, err := svc.SetupOffsite(cmd.Context(), service.OffsiteSetup{Secret: secretKey, OffsiteSettings: service.OffsiteSettings{
		Provider: o.provider, Endpoint: o.endpoint, Region: o.region, Bucket: o.bucket, Prefix: o.prefix,
		AccessKeyID: o.accessKeyID, RetentionDays: o.retentionDays}})
	if err != nil {
		return err
	}
	a.printCheck(chk)
	if !chk.OK() {
		return errors.New("the bucket cannot take the off-site copy yet (see above); nothing was saved")
	}
	fmt.Fprintf(a.stdout, "Saved. Each scheduled backup is now copied to %s and locked for %d days.\n", o.bucket, max(o.retentionDays, 1))
	return nil
}

func (a *app) printCheck(chk service.BucketCheck) {
	yes := map[bool]string{true: "on", false: "OFF"}
	fmt.Fprintf(a.stdout, "Versioning: %s\nObject Lock: %s\n", yes[chk.Versioning], yes[chk.ObjectLock])
	for _, p := range chk.Problems {
		fmt.Fprintln(a.stdout, "Problem: "+p)
	}
	for _, w := range chk.Warnings {
		fmt.Fprintln(a.stdout, "Warning: "+w)
	}
	if chk.OK() {
		fmt.Fprintln(a.stdout, "The bucket can take the off-site copy.")
	}
}

func (a *app) offsiteCheck(cmd *cobra.Command, o offsiteFlags) error {
	svc, err := a.service(o.common, usesBackup)
	if err != nil {
		return err
	}
	st, err := svc.OffsiteStatus()
	if err != nil {
		return err
	}
	if !st.Configured {
		return usageError{errors.New("no off-site copy is set up: run `lifeboat offsite setup`")}
	}
	chk, err := svc.CheckOffsite(cmd.Context(), service.OffsiteSetup{OffsiteSettings: st.Settings})
	if err != nil {
		return err
	}
	a.printCheck(chk)
	if !chk.OK() {
		return errors.New("the bucket has problems (see above)")
	}
	return nil
}

func (a *app) offsiteCopy(cmd *cobra.Command, o folderFlags) error {
	svc, err := a.service(o.common, usesBackup)
	if err != nil {
		return err
	}
	dir := firstNonEmpty(o.dir, os.Getenv("LIFEBOAT_REPO"), svc.Destination())
	if dir == "" {
		return usageError{errors.New("which backup? pass --backup DIR or set LIFEBOAT_REPO")}
	}
	res, err := withKey(a, a.recoveryKey(o.recoveryKey), func(key string) (service.OffsiteCopyResult, error) {
		return svc.CopyOffsite(cmd.Context(), dir, key)
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "Off-site copy up to date: %d new backups copied (%s sent), %d pieces read back and checked.\n",
		res.Snapshots, formatBytes(res.Bytes), res.Verified)
	return nil
}

func (a *app) offsiteStatus(cmd *cobra.Command, o offsiteFlags) error {
	svc, err := a.service(o.common, 0)
	if err != nil {
		return err
	}
	st, err := svc.OffsiteStatus()
	if err != nil {
		return err
	}
	if o.json {
		printJSON(a.stdout, map[string]any{"configured": st.Configured, "endpoint": st.Settings.Endpoint, "bucket": st.Settings.Bucket,
			"retentionDays": st.Settings.RetentionDays, "lastCopy": st.LastCopy, "newest": st.Newest, "lastError": st.LastError,
			"lastMaintain": st.LastMaintain})
		return nil
	}
	if !st.Configured {
		fmt.Fprintln(a.stdout, "No off-site copy is set up. Set one up with `lifeboat offsite setup`.")
		return nil
	}
	fmt.Fprintf(a.stdout, "Off site: bucket %s at %s, every object locked for %d days.\n", st.Settings.Bucket, st.Settings.Endpoint, st.Settings.RetentionDays)
	if st.LastCopy.IsZero() {
		fmt.Fprintln(a.stdout, "Nothing has been copied yet: the next scheduled backup does it, or run `lifeboat offsite copy`.")
	} else {
		fmt.Fprintf(a.stdout, "Last copy: %s (%s ago); it holds the backup of %s.\n", st.LastCopy.Local().Format("Mon 2 Jan 15:04"),
			health.Ago(time.Since(st.LastCopy)), st.Newest.Local().Format("Mon 2 Jan 15:04"))
	}
	if st.LastError != "" && st.LastAttempt.After(st.LastCopy) {
		fmt.Fprintf(a.stdout, "The last attempt (%s) failed: %s\n", st.LastAttempt.Local().Format("Mon 2 Jan 15:04"), st.LastError)
	}
	return nil
}

// alarmCommand is `lifeboat alarm [show|ok [ID]]`.
func (a *app) alarmCommand() *cobra.Command {
	var c common
	show := func(cmd *cobra.Command, _ []string) error {
		svc, err := a.service(c, 0)
		if err != nil {
			return err
		}
		alerts, err := svc.Alerts()
		if err != nil {
			return err
		}
		if len(alerts) == 0 {
			fmt.Fprintln(a.stdout, "No alarm: the last backups looked like ordinary work.")
			return nil
		}
		for _, al := range alerts {
			fmt.Fprintf(a.stdout, "Alarm %s (%s):\n", al.ID, al.At.Local().Format("Mon 2 Jan 15:04"))
			for _, s := range al.Sentences {
				fmt.Fprintln(a.stdout, "  "+s)
			}
			fmt.Fprintln(a.stdout, "  "+al.Advice)
			if !al.Before.IsZero() {
				fmt.Fprintf(a.stdout, "  To restore from before it: lifeboat restore --at %q …\n", al.Before.Local().Format("2006-01-02 15:04:05"))
			}
		}
		fmt.Fprintln(a.stdout, "Old backups are not thinned out until you run `lifeboat alarm ok`.")
		return exitError{ExitWarnings, errors.New("the wipe alarm is open")}
	}
	cmd := &cobra.Command{
		Use:   "alarm [show|ok [ID]]",
		Short: "Show or acknowledge the alarm for mass deletion or encryption",
		Args:  requireArgs(cobra.NoArgs),
		RunE:  show,
	}
	cmd.AddCommand(&cobra.Command{Use: "show", Short: "Show open alarms (exit 4 when one is open)", Args: requireArgs(cobra.NoArgs), RunE: show},
		&cobra.Command{
			Use:   "ok [ID]",
			Short: "Say you have looked: pruning resumes (all alarms, or the one named)",
			Args:  requireArgs(cobra.MaximumNArgs(1)),
			RunE: func(cmd *cobra.Command, args []string) error {
				svc, err := a.service(c, 0)
				if err != nil {
					return err
				}
				n, err := svc.AcknowledgeAlert(firstNonEmpty(args...))
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "%d alarm(s) closed. Old backups are thinned out again by the usual retention.\n", n)
				return nil
			},
		})
	return cmd
}

// ejectCommand is `lifeboat schedule eject on|off`.
func (a *app) ejectCommand() *cobra.Command {
	var c common
	return &cobra.Command{
		Use:       "eject on|off",
		Short:     "Eject the backup drive after each scheduled backup, so it is not reachable in between",
		Args:      requireArgs(cobra.MaximumNArgs(1)),
		ValidArgs: []string{"on", "off"},
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, err := a.service(c, 0)
			if err != nil {
				return err
			}
			if len(args) == 0 {
				fmt.Fprintln(a.stdout, map[bool]string{true: "on", false: "off"}[svc.EjectAfterBackup()])
				return nil
			}
			if args[0] != "on" && args[0] != "off" {
				return usageError{fmt.Errorf("schedule eject: say on or off, not %q", args[0])}
			}
			if err := svc.SetEjectAfterBackup(args[0] == "on"); err != nil {
				return err
			}
			if args[0] == "on" {
				fmt.Fprintln(a.stdout, "After each scheduled backup the drive is ejected, so nothing can reach it in between. Unplug it and plug it in again before the next backup.")
			} else {
				fmt.Fprintln(a.stdout, "The drive stays connected after scheduled backups.")
			}
			return nil
		},
	}
}

// addOffsiteFlags lets ls, find, versions and restore read the off-site
// copy, optionally as it was at a time.
func addOffsiteFlags(cmd *cobra.Command, o *folderFlags) {
	f := cmd.Flags()
	f.BoolVar(&o.offsite, "offsite", false, "read the off-site copy (see `lifeboat offsite`) instead of the backup folder")
	f.StringVar(&o.asOf, "as-of", "", "with --offsite: read the bucket as it was at this date and time, undoing later deletions and overwrites")
}

// offsiteBrowser opens the off-site copy for the browse and restore
// commands: with this computer's key, else the recovery key.
func (a *app) offsiteBrowser(cmd *cobra.Command, o folderFlags, u uses) (*service.Service, *service.Browser, error) {
	var open service.OffsiteOpen
	if o.asOf != "" {
		t, err := parseWhen(o.asOf, true)
		if err != nil {
			return nil, nil, err
		}
		open.AsOf = t
	}
	svc, err := a.service(o.common, u)
	if err != nil {
		return nil, nil, err
	}
	b, err := withKey(a, a.recoveryKey(o.recoveryKey), func(key string) (*service.Browser, error) {
		open.RecoveryKey = key
		return svc.OpenOffsiteBrowser(cmd.Context(), open)
	})
	if errors.Is(err, service.ErrNoCatalog) {
		return nil, nil, errors.New("the off-site copy holds no catalog yet: let a backup and its copy finish first")
	}
	return svc, b, err
}
