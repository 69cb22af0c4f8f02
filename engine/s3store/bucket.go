package s3store

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/minio/minio-go/v7"
)

// BucketReport is what CheckBucket found. Problems must be fixed before
// the first copy; Warnings are weaknesses the owner should hear about.
// Both are plain English for the owner.
type BucketReport struct {
	Versioning, ObjectLock bool
	// ClockOffset is how far the server's clock is from this computer's.
	ClockOffset        time.Duration
	Problems, Warnings []string
	// CanDeleteVersions: the keys may destroy versions whose lock lapsed,
	// so lock maintenance removes them itself; otherwise a lifecycle rule
	// on the bucket has to (Lifeboat says so).
	CanDeleteVersions bool
}

// OK reports whether the bucket can take an off-site copy.
func (r BucketReport) OK() bool { return len(r.Problems) == 0 }

// probeDir is where CheckBucket writes its few-byte test objects.
const probeDir = "lifeboat-bucket-check/"

// CheckBucket checks the bucket before the first copy: that it exists and
// the keys can write to it, that versioning and Object Lock are on (when
// lock is true), and what the keys could do that an attacker holding
// them could abuse: bypass governance-mode locks, destroy versions, change
// the versioning or lock settings. It writes a few tiny test objects under
// lifeboat-bucket-check/ (in governance mode for at most a minute).
func (s *Store) CheckBucket(ctx context.Context, lock bool) (BucketReport, error) {
	var rep BucketReport
	ok, err := s.c.BucketExists(ctx, s.bucket)
	if err != nil {
		return rep, fmt.Errorf("s3store: checking the bucket %q: %w", s.bucket, s.mapErr(err))
	}
	if !ok {
		rep.Problems = append(rep.Problems, fmt.Sprintf("There is no bucket called %q at this address. Create it first (with Object Lock turned on).", s.bucket))
		return rep, nil
	}
	if off, ok := s.ClockOffset(); ok {
		rep.ClockOffset = off
		if off > 5*time.Minute || off < -5*time.Minute {
			rep.Warnings = append(rep.Warnings, fmt.Sprintf("This computer's clock is %s off from the storage service's. Lifeboat uses the service's clock for the locks, but please correct this computer's time.", off.Round(time.Second).Abs()))
		}
	}
	vc, err := s.c.GetBucketVersioning(ctx, s.bucket)
	if err != nil {
		return rep, fmt.Errorf("s3store: reading the bucket's versioning: %w", s.mapErr(err))
	}
	rep.Versioning = vc.Enabled()
	lockState, _, _, _, err := s.c.GetObjectLockConfig(ctx, s.bucket)
	rep.ObjectLock = err == nil && lockState == "Enabled"
	if lock {
		if !rep.Versioning {
			rep.Problems = append(rep.Problems, "Versioning is off on this bucket, so anyone with the keys could overwrite the backup. Turn versioning on.")
		}
		if !rep.ObjectLock {
			rep.Problems = append(rep.Problems, "Object Lock is off on this bucket, so nothing stops the backup from being deleted. Most services only allow it when the bucket is created: create a new bucket with Object Lock on.")
		}
	}

	// Can the keys write at all?
	probe := probeDir + randomName()
	if _, err := s.c.PutObject(ctx, s.bucket, s.key(probe), bytes.NewReader([]byte("lifeboat")), 8,
		minio.PutObjectOptions{SendContentMd5: true}); err != nil {
		rep.Problems = append(rep.Problems, "These keys cannot store anything in the bucket: "+s.mapErr(err).Error())
		return rep, nil
	}
	probeVer := s.latestVersion(ctx, probe)
	if err := s.c.RemoveObject(ctx, s.bucket, s.key(probe), minio.RemoveObjectOptions{VersionID: probeVer}); err == nil && probeVer != "" {
		rep.CanDeleteVersions = true
		rep.Warnings = append(rep.Warnings, "These keys can permanently delete old versions. Locked versions are still safe, but keys without that permission (s3:DeleteObjectVersion) are safer; a lifecycle rule on the bucket can then remove expired versions.")
	}

	if rep.ObjectLock {
		// Governance bypass: a governance-mode object the keys can delete
		// anyway means an attacker could, too, for anything not in
		// compliance mode.
		gov := probeDir + randomName()
		until := time.Now().Add(time.Minute).UTC()
		if _, err := s.c.PutObject(ctx, s.bucket, s.key(gov), bytes.NewReader([]byte("lifeboat")), 8,
			minio.PutObjectOptions{SendContentMd5: true, Mode: minio.Governance, RetainUntilDate: until}); err == nil {
			if v := s.latestVersion(ctx, gov); v != "" {
				if err := s.c.RemoveObject(ctx, s.bucket, s.key(gov), minio.RemoveObjectOptions{VersionID: v, GovernanceBypass: true}); err == nil {
					rep.Warnings = append(rep.Warnings, "These keys can bypass governance-mode locks (s3:BypassGovernanceRetention). Lifeboat locks in compliance mode, which nobody can bypass, but keys without that permission are safer.")
				}
			}
		}
		// Changing the lock settings: writing back the current settings
		// changes nothing, but succeeds only with the permission.
		mode, validity, unit := s.currentLockRule(ctx)
		if err := s.c.SetObjectLockConfig(ctx, s.bucket, mode, validity, unit); err == nil {
			rep.Warnings = append(rep.Warnings, "These keys can change the bucket's Object Lock settings (s3:PutBucketObjectLockConfiguration). Use keys that cannot.")
		}
	}
	if rep.Versioning {
		if err := s.c.EnableVersioning(ctx, s.bucket); err == nil {
			rep.Warnings = append(rep.Warnings, "These keys can change the bucket's versioning (s3:PutBucketVersioning), so they could suspend it. Use keys that cannot.")
		}
	}
	return rep, nil
}

func (s *Store) currentLockRule(ctx context.Context) (*minio.RetentionMode, *uint, *minio.ValidityUnit) {
	_, mode, validity, unit, err := s.c.GetObjectLockConfig(ctx, s.bucket)
	if err != nil || mode == nil || *mode == "" || validity == nil || unit == nil {
		return nil, nil, nil // no default retention rule
	}
	return mode, validity, unit
}

func (s *Store) latestVersion(ctx context.Context, name string) string {
	oi, err := s.c.StatObject(ctx, s.bucket, s.key(name), minio.StatObjectOptions{})
	if err != nil {
		return ""
	}
	return oi.VersionID
}

func randomName() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
