package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/backup"
	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/offsite"
	"github.com/lifeboat-backup/lifeboat/engine/repo"
	"github.com/lifeboat-backup/lifeboat/engine/s3store"
	"github.com/lifeboat-backup/lifeboat/engine/secret"
	"github.com/lifeboat-backup/lifeboat/engine/store"
)

// DefaultOffsiteDays is the lock period a new off-site copy gets.
const DefaultOffsiteDays = 30

// OffsiteSettings is the off-site destination, saved in settings.json.
// The secret key is not here: it is in the OS keychain, under the entry
// s3store.KeychainAccount names.
type OffsiteSettings struct {
	// Provider is a preset ID (s3store.ProviderID); "" for any other
	// S3-compatible service.
	Provider string `json:"provider,omitempty"`
	Endpoint string `json:"endpoint"`
	Region   string `json:"region,omitempty"`
	Bucket   string `json:"bucket"`
	Prefix   string `json:"prefix,omitempty"`
	// AccessKeyID names the key (not secret); its secret is in the
	// keychain.
	AccessKeyID string `json:"accessKeyID"`
	// RetentionDays is how long every object is locked (Object Lock).
	RetentionDays int `json:"retentionDays"`
	// Checked is when the bucket last passed the check.
	Checked time.Time `json:"checked,omitzero"`
}

// keychainAccount is the keychain entry of the destination's keys.
func (o OffsiteSettings) keychainAccount() string {
	return s3store.KeychainAccount(o.Endpoint, o.Bucket, o.AccessKeyID)
}

// Period is the lock period.
func (o OffsiteSettings) Period() time.Duration {
	d := o.RetentionDays
	if d <= 0 {
		d = DefaultOffsiteDays
	}
	return time.Duration(d) * 24 * time.Hour
}

// OffsiteSetup is what the owner enters to set up the off-site copy.
type OffsiteSetup struct {
	OffsiteSettings
	// Secret is the access key's secret; empty keeps the one in the
	// keychain (changing other fields only).
	Secret string
}

// OffsiteProviders are the presets the setup offers, "other" last.
func OffsiteProviders() []s3store.Provider { return s3store.Providers() }

// BucketCheck is what checking the bucket found, in plain sentences.
type BucketCheck struct {
	Versioning, ObjectLock bool
	// Problems must be fixed before the first copy; Warnings are
	// weaknesses worth fixing.
	Problems, Warnings []string
}

// OK reports whether the off-site copy can use the bucket.
func (c BucketCheck) OK() bool { return len(c.Problems) == 0 }

func (s *Service) openOffsiteStore(o OffsiteSettings, creds s3store.Credentials) (*s3store.Store, error) {
	if o.Endpoint == "" || o.Bucket == "" {
		return nil, badInput(errors.New("the off-site copy needs the service's address and the bucket's name"))
	}
	st, err := s3store.New(s3store.Options{Endpoint: o.Endpoint, Region: o.Region, Bucket: o.Bucket, Prefix: o.Prefix,
		Credentials: creds, Provider: s3store.ProviderID(o.Provider), Lock: offsite.LockPolicy(o.Period()), Logger: s.o.Logger})
	if err != nil {
		return nil, badInput(fmt.Errorf("the off-site storage settings: %w", err))
	}
	return st, nil
}

// credentials are the setup's keys: the secret entered, else the one in
// the keychain.
func (s *Service) offsiteCredentials(o OffsiteSettings, secretKey string) (s3store.Credentials, error) {
	if o.AccessKeyID == "" {
		return s3store.Credentials{}, badInput(errors.New("the off-site copy needs an access key ID"))
	}
	if secretKey != "" {
		return s3store.Credentials{AccessKeyID: o.AccessKeyID, Secret: secretKey}, nil
	}
	c, err := s3store.LoadCredentials(s.o.Keychain, o.keychainAccount())
	if errors.Is(err, secret.ErrNotFound) {
		return c, badInput(errors.New("enter the secret key of the off-site storage: this computer's keychain does not hold it"))
	}
	return c, err
}

// CheckOffsite checks the bucket of a setup before it is saved: that it
// exists and the keys can write, that versioning and Object Lock are on,
// and warns when the keys could bypass governance, delete versions or
// change the lock settings.
func (s *Service) CheckOffsite(ctx context.Context, setup OffsiteSetup) (BucketCheck, error) {
	creds, err := s.offsiteCredentials(setup.OffsiteSettings, setup.Secret)
	if err != nil {
		return BucketCheck{}, err
	}
	st, err := s.openOffsiteStore(setup.OffsiteSettings, creds)
	if err != nil {
		return BucketCheck{}, err
	}
	rep, err := st.CheckBucket(ctx, true)
	if err != nil {
		return BucketCheck{}, fmt.Errorf("could not reach the off-site storage: %w", err)
	}
	return BucketCheck{Versioning: rep.Versioning, ObjectLock: rep.ObjectLock, Problems: rep.Problems, Warnings: rep.Warnings}, nil
}

// SetupOffsite checks the bucket and, when it can take the copy, saves
// the destination (the secret in the keychain, the rest in the
// settings). A bucket with problems is not saved: the returned check
// says why.
func (s *Service) SetupOffsite(ctx context.Context, setup OffsiteSetup) (BucketCheck, error) {
	o := setup.OffsiteSettings
	o.Endpoint = strings.TrimSpace(o.Endpoint)
	o.Bucket, o.AccessKeyID = strings.TrimSpace(o.Bucket), strings.TrimSpace(o.AccessKeyID)
	if o.RetentionDays <= 0 {
		o.RetentionDays = DefaultOffsiteDays
	}
	if o.RetentionDays > 3650 {
		return BucketCheck{}, badInput(errors.New("keep the off-site copy locked for at most ten years (3650 days)"))
	}
	setup.OffsiteSettings = o
	chk, err := s.CheckOffsite(ctx, setup)
	if err != nil || !chk.OK() {
		return chk, err
	}
	if setup.Secret != "" {
		if err := s3store.SaveCredentials(s.o.Keychain, o.keychainAccount(), s3store.Credentials{AccessKeyID: o.AccessKeyID, Secret: setup.Secret}); err != nil {
			return chk, Explain(err)
		}
	}
	o.Checked = s.now().UTC()
	old, _ := s.Settings()
	err = s.UpdateSettings(func(st *Settings) { st.Offsite = &o })
	if prev := old.Offsite; err == nil && prev != nil && prev.keychainAccount() != o.keychainAccount() {
		if derr := s3store.DeleteCredentials(s.o.Keychain, prev.keychainAccount()); derr != nil {
			s.o.Logger.Warn("could not remove the old off-site keys from the keychain", "err", derr)
		}
	}
	return chk, err
}

// RemoveOffsite forgets the off-site destination and its keys on this
// computer (the copy itself stays in the bucket, locked).
func (s *Service) RemoveOffsite() error {
	set, err := s.Settings()
	if err != nil || set.Offsite == nil {
		return err
	}
	if err := s3store.DeleteCredentials(s.o.Keychain, set.Offsite.keychainAccount()); err != nil {
		return err
	}
	return s.UpdateSettings(func(st *Settings) { st.Offsite = nil })
}

// offsiteStore opens the configured off-site destination; nil without
// error when none is set up.
func (s *Service) offsiteStore() (*s3store.Store, *OffsiteSettings, error) {
	set, err := s.Settings()
	if err != nil || set.Offsite == nil {
		return nil, nil, err
	}
	creds, err := s.offsiteCredentials(*set.Offsite, "")
	if err != nil {
		return nil, nil, err
	}
	st, err := s.openOffsiteStore(*set.Offsite, creds)
	return st, set.Offsite, err
}

// OffsiteState is what the dashboard shows of the off-site copy, kept in
// the config folder (offsite-state.json).
type OffsiteState struct {
	// LastCopy is when the last copy finished and was verified; Newest
	// the time of the newest backup it holds.
	LastCopy time.Time `json:"lastCopy,omitzero"`
	Newest   time.Time `json:"newest,omitzero"`
	// LastError is the last copy's failure, "" when it worked.
	LastError     string    `json:"lastError,omitempty"`
	LastAttempt   time.Time `json:"lastAttempt,omitzero"`
	LastMaintain  time.Time `json:"lastMaintain,omitzero"`
	LastBytes     int64     `json:"lastBytes,omitempty"`
	LastSnapshots int       `json:"lastSnapshots,omitempty"`
}

const offsiteStateFile = "offsite-state.json"

// OffsiteState reads the off-site copy's record; missing means none.
func (s *Service) OffsiteState() (OffsiteState, error) {
	var st OffsiteState
	b, _, err := readStateFile(s.o.ConfigDir, offsiteStateFile)
	if err != nil || b == nil {
		return st, err
	}
	if err := json.Unmarshal(b, &st); err != nil {
		s.o.Logger.Warn("off-site record unreadable; starting a new one", "err", err)
		return OffsiteState{}, nil
	}
	return st, nil
}

func (s *Service) saveOffsiteState(st OffsiteState) {
	if err := writeJSONFile(s.o.ConfigDir, offsiteStateFile, st); err != nil {
		s.o.Logger.Warn("could not save the off-site record", "err", err)
	}
}

// OffsiteStatus is the off-site copy for the dashboard and `offsite
// status`.
type OffsiteStatus struct {
	Configured bool
	Settings   OffsiteSettings
	OffsiteState
}

// OffsiteStatus reads the settings and the record of the last copy.
func (s *Service) OffsiteStatus() (OffsiteStatus, error) {
	set, err := s.Settings()
	if err != nil {
		return OffsiteStatus{}, err
	}
	st, err := s.OffsiteState()
	out := OffsiteStatus{OffsiteState: st}
	if set.Offsite != nil {
		out.Configured, out.Settings = true, *set.Offsite
	}
	return out, err
}

// OffsiteCopyResult is what one copy did.
type OffsiteCopyResult struct {
	Snapshots, Verified int
	Bytes               int64
	Finished, Newest    time.Time
}

// CopyOffsite brings the off-site copy up to date with the backup in dir
// (only what is missing, encrypted as on the drive), verifies what it
// sent, and records when. Interrupted, both stay valid and the next copy
// carries on.
func (s *Service) CopyOffsite(ctx context.Context, dir, recoveryKey string) (OffsiteCopyResult, error) {
	dst, cfg, err := s.offsiteStore()
	if err != nil {
		return OffsiteCopyResult{}, err
	}
	if dst == nil {
		return OffsiteCopyResult{}, badInput(errors.New("no off-site copy is set up: run `lifeboat offsite setup` or use Settings › Off-site copy"))
	}
	if cfg.Checked.IsZero() {
		return OffsiteCopyResult{}, badInput(errors.New("the off-site bucket has not passed the check yet: run `lifeboat offsite check`"))
	}
	r, err := s.OpenBackup(ctx, dir, recoveryKey)
	if err != nil {
		return OffsiteCopyResult{}, err
	}
	defer r.Close()
	rec, _ := s.OffsiteState()
	rec.LastAttempt = s.now().UTC()
	stat, err := offsite.Copy(ctx, r, dst, offsite.Options{Repo: s.repoOptions(), Now: s.now})
	if err != nil {
		rec.LastError = err.Error()
		s.saveOffsiteState(rec)
		return OffsiteCopyResult{}, explainOffsite(err)
	}
	rec.LastCopy, rec.LastError, rec.LastBytes, rec.LastSnapshots = stat.Finished.UTC(), "", stat.Bytes, stat.Snapshots
	if stat.Newest.After(rec.Newest) {
		rec.Newest = stat.Newest.UTC()
	}
	s.saveOffsiteState(rec)
	return OffsiteCopyResult{Snapshots: stat.Snapshots, Verified: stat.Verified, Bytes: stat.Bytes, Finished: stat.Finished, Newest: rec.Newest}, nil
}

func explainOffsite(err error) error {
	if errors.Is(err, repo.ErrNotACopy) {
		return explained("the off-site bucket already holds another backup, not a copy of this one: choose an empty bucket or another folder (prefix) in it", err)
	}
	return fmt.Errorf("the off-site copy: %w", err)
}

// MaintainOffsite is the off-site copy's upkeep: retention (widened to
// the lock period, and held while the alarm is open), hiding what is no
// longer needed, and extending the locks of what is, before they lapse.
func (s *Service) MaintainOffsite(ctx context.Context) (*offsite.MaintainReport, error) {
	dst, _, err := s.offsiteStore()
	if err != nil || dst == nil {
		return nil, err
	}
	set, err := s.Settings()
	if err != nil {
		return nil, err
	}
	r, err := repo.OpenWithKeyStore(ctx, dst, s.repoKeyStore(), s.repoOptions())
	if err != nil {
		return nil, fmt.Errorf("opening the off-site copy: %w", err)
	}
	defer r.Close()
	rep, err := offsite.Maintain(ctx, r, offsite.MaintainOptions{Policy: set.Retention().Policy(), Held: s.alarmHeld})
	if err == nil || errors.Is(err, offsite.ErrPruneHeld) {
		rec, _ := s.OffsiteState()
		rec.LastMaintain = s.now().UTC()
		s.saveOffsiteState(rec)
	}
	return rep, err
}

// OffsiteOpen says how to open the off-site copy for a restore.
type OffsiteOpen struct {
	// RecoveryKey opens it on a computer whose keychain has no key for
	// it (a fresh computer); empty uses this computer's keychain.
	RecoveryKey string
	// AsOf, when set, reads the bucket as it was then: what an attacker
	// deleted or overwrote later is back.
	AsOf time.Time
}

// OpenOffsiteBrowser opens the off-site copy for browsing and restoring,
// with a catalog of its own taken from the copy (never the drive's, which
// may name backups the copy does not have yet).
func (s *Service) OpenOffsiteBrowser(ctx context.Context, o OffsiteOpen) (*Browser, error) {
	dst, _, err := s.offsiteStore()
	if err != nil {
		return nil, err
	}
	if dst == nil {
		return nil, badInput(errors.New("no off-site copy is set up on this computer: run `lifeboat offsite setup` with the bucket's details first"))
	}
	var src store.Store = dst
	if !o.AsOf.IsZero() {
		if src, err = store.AsOf(ctx, dst, o.AsOf); err != nil {
			return nil, fmt.Errorf("reading the off-site copy as it was at %s: %w", o.AsOf.Local().Format("2006-01-02 15:04"), err)
		}
	}
	var r *repo.Repository
	if o.RecoveryKey != "" {
		r, err = repo.Open(ctx, src, o.RecoveryKey, s.repoOptions())
	} else {
		r, err = repo.OpenWithKeyStore(ctx, src, s.repoKeyStore(), s.repoOptions())
		if err != nil && !errors.Is(err, repo.ErrNotRepository) {
			return nil, &NeedRecoveryKeyError{Dir: "the off-site copy", Why: "this computer's keychain holds no key for the off-site copy", Err: err}
		}
	}
	if errors.Is(err, repo.ErrNotRepository) {
		return nil, explained("the off-site bucket holds no backup (at that time)", err)
	}
	if err != nil {
		return nil, fmt.Errorf("opening the off-site copy: %w", err)
	}
	path := filepath.Join(s.o.ConfigDir, "catalogs", r.Config().ID.String()+"-offsite.db")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		r.Close()
		return nil, err
	}
	c, _, err := backup.RestoreCatalogCopy(ctx, r, path, catalog.Options{})
	if err != nil {
		r.Close()
		return nil, err
	}
	return s.NewBrowser(r, c), nil
}
