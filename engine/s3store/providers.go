package s3store

import (
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
)

// ProviderID names a preset in the setup screen.
type ProviderID string

// Presets. Other is any S3-compatible service.
const (
	Other      ProviderID = ""
	AWS        ProviderID = "aws"
	Backblaze  ProviderID = "b2"
	Wasabi     ProviderID = "wasabi"
	SynologyC2 ProviderID = "synology-c2"
	MinIO      ProviderID = "minio"
	// VersityGW is the Versity S3 Gateway (also what the tests run).
	VersityGW ProviderID = "versitygw"
)

// Provider describes a preset for the setup screen.
type Provider struct {
	ID   ProviderID
	Name string
	// EndpointHint is what the endpoint field shows, with {region} for the
	// region the owner picks.
	EndpointHint string
	// Regions offered (the first is the default); empty: free text.
	Regions []string
	// Notes are plain-English facts the owner should know before choosing.
	Notes []string
}

// Providers returns the presets, in the order the setup screen lists them.
func Providers() []Provider {
	return []Provider{
		{ID: Backblaze, Name: "Backblaze B2", EndpointHint: "s3.{region}.backblazeb2.com",
			Regions: []string{"eu-central-003", "us-west-004", "us-east-005"},
			Notes: []string{"Object Lock can only be turned on when the bucket is created: tick \"Object Lock\" in B2's bucket settings.",
				"Use an application key limited to this bucket, without the deleteFiles and bypassGovernance capabilities."}},
		{ID: Wasabi, Name: "Wasabi", EndpointHint: "s3.{region}.wasabisys.com",
			Regions: []string{"eu-central-1", "eu-central-2", "eu-west-1", "us-east-1", "us-west-1"},
			Notes: []string{"Wasabi charges every object for at least 90 days, even when it is deleted sooner.",
				"Turn on Object Lock when creating the bucket (it turns on versioning too)."}},
		{ID: SynologyC2, Name: "Synology C2 Object", EndpointHint: "{region}.s3.synologyc2.net",
			Regions: []string{"eu-002", "us-001", "tw-001"},
			Notes:   []string{"Create the bucket with Object Lock on in C2's portal; it cannot be added later."}},
		{ID: AWS, Name: "Amazon S3", EndpointHint: "s3.{region}.amazonaws.com",
			Regions: []string{"eu-central-1", "eu-west-1", "us-east-1"},
			Notes:   []string{"Create the bucket with Object Lock enabled; give Lifeboat a key whose policy does not allow s3:DeleteObjectVersion, s3:BypassGovernanceRetention or s3:PutBucketObjectLockConfiguration."}},
		{ID: MinIO, Name: "MinIO (for example on a NAS)", EndpointHint: "https://nas.local:9000",
			Notes: []string{"Create the bucket with \"Object Locking\" on (mc mb --with-lock)."}},
		{ID: Other, Name: "Other S3-compatible service", EndpointHint: "https://s3.example.com"},
	}
}

// quirks are what the client does differently per provider.
type quirks struct {
	// lookup: virtual-host style on the big clouds, path style where
	// buckets are not DNS names (MinIO, NAS services, IP addresses).
	lookup minio.BucketLookupType
	// region used when the owner gives none. B2, Wasabi and C2 encode the
	// region in the endpoint and answer any signing region that matches it;
	// MinIO and most NAS services use us-east-1.
	region string
	// ulidVersionTimes: versitygw reports a noncurrent version's
	// LastModified as the time it became noncurrent (when it was moved
	// into its versions folder), not when it was written. Its version IDs
	// are ULIDs, whose first 48 bits are the creation time in
	// milliseconds, so that time is used instead.
	ulidVersionTimes bool
}

func providerQuirks(p ProviderID) quirks {
	switch p {
	case AWS, Wasabi, Backblaze:
		return quirks{lookup: minio.BucketLookupAuto}
	case SynologyC2:
		// C2 documents path-style addressing for its S3 endpoint.
		return quirks{lookup: minio.BucketLookupPath}
	case MinIO:
		return quirks{lookup: minio.BucketLookupPath, region: "us-east-1"}
	case VersityGW:
		return quirks{lookup: minio.BucketLookupPath, region: "us-east-1", ulidVersionTimes: true}
	}
	return quirks{lookup: minio.BucketLookupPath, region: "us-east-1"}
}

// regionFromEndpoint reads the region out of the endpoints of providers
// that put it there (s3.us-west-004.backblazeb2.com,
// s3.eu-central-1.wasabisys.com, eu-002.s3.synologyc2.net): B2 in
// particular refuses requests signed for another region.
func regionFromEndpoint(p ProviderID, host string) string {
	host, _, _ = strings.Cut(host, ":")
	parts := strings.Split(host, ".")
	switch {
	case (p == Backblaze || p == Wasabi || p == AWS) && len(parts) >= 4 && parts[0] == "s3":
		return parts[1]
	case p == SynologyC2 && len(parts) >= 4 && parts[1] == "s3":
		return parts[0]
	}
	return ""
}

// ulidTime decodes the millisecond timestamp of a ULID (26 Crockford
// base32 characters; the first 10 hold 48 bits of Unix time in ms).
func ulidTime(id string) (time.Time, bool) {
	const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	if len(id) != 26 {
		return time.Time{}, false
	}
	var ms uint64
	for i := 0; i < 10; i++ {
		k := strings.IndexByte(alphabet, id[i])
		if k < 0 {
			return time.Time{}, false
		}
		ms = ms<<5 | uint64(k)
	}
	if ms >= 1<<48 {
		return time.Time{}, false
	}
	return time.UnixMilli(int64(ms)).UTC(), true
}
