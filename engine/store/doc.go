// Package store is where a repository's bytes live: a small Store interface
// (put, get, list, delete, stat) over named objects, with a local-folder
// implementation whose writes are crash-safe (temp file, fsync, rename, fsync
// of the directory), an in-memory one for tests, a fault-injecting wrapper for
// other packages' tests, and one conformance suite that every implementation
// must pass (package storetest).
//
//   - Local (NewLocal) keeps objects as files in a folder on a local disk,
//     an external drive or a network share.
//   - Memory (NewMemory) keeps them in memory, for tests.
//   - Faulty (NewFaulty) wraps any Store and injects failed writes, failed
//     renames and fsyncs, short reads, flipped bits, a full disk and failed
//     reads, and counts calls.
//
// Names are slash-separated relative paths such as "data/3f/3fa9…";
// ValidateName says which are allowed, and every Store rejects the rest with
// ErrInvalidName, so no name can reach outside a Local's folder. A Store
// never interprets the bytes it holds; the repository format is engine/repo's.
package store
