// Package s3store is a store.Store on S3-compatible object storage (AWS S3,
// Backblaze B2, Wasabi, Synology C2, MinIO or another S3 service on a NAS),
// through minio-go: the client kopia uses, which sends only what
// S3-compatible services accept (the AWS SDK's default checksum trailers
// are rejected by many of them).
//
// What it owns:
//   - Store (New): objects under an optional prefix in one bucket. Puts
//     stream (a pack is never copied whole into another buffer; a reader
//     of unknown length is sent in bounded parts), carry Content-MD5
//     (AWS refuses uploads with Object Lock parameters without it), and
//     are retried with backoff by minio-go when the body can be re-read.
//   - Object Lock: with a store.LockPolicy every object except lock files
//     is written in COMPLIANCE mode until the server's now + period +
//     slack. Lock dates come from the server's clock (its Date header), not
//     only this computer's. The versioned methods (store.Versioned) list
//     versions, read old ones, extend locks (never shorten them, whatever
//     the server allows) and remove versions whose lock has lapsed.
//   - CheckBucket: before the first copy, that versioning and Object Lock
//     are on, and warnings when the keys can bypass governance, destroy
//     versions or change the versioning or lock settings.
//   - Providers: presets with their endpoints and known quirks.
//   - Credentials: the access key pair lives in the OS keychain
//     (engine/secret), never in a settings file.
//
// Everything the server sends is outside input: listings are bounded by
// the store.ValidateName rules, and errors are mapped to store's sentinels.
package s3store
