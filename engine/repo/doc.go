// Package repo owns the on-disk format of a Lifeboat backup repository and
// its Go API: keys and the recovery key, content-addressed encrypted blobs,
// pack files, index files, snapshots, locks, checkpoints and verification.
//
// A repository lives in a store.Store (a folder on a USB drive or a NAS
// share in production, memory in tests). Everything in it except README.txt,
// the plaintext header of the config and the key files' KDF parameters is
// encrypted and authenticated under a random 256-bit master key. The byte
// layouts are specified in FORMAT.md next to this file; keep the two in step.
//
// Write order is what makes the repository crash-safe: data goes into
// immutable packs, then an index file lists the packs, then a snapshot names
// the data it covers. Nothing that is written is ever modified, so a crash
// at any instant leaves at worst unreferenced packs, which a later run's
// checkpoints, RebuildIndex or prune pick up.
//
// Every byte read from the store is treated as hostile: lengths are bounded
// before anything is allocated, and all decoders are fuzzed.
package repo
