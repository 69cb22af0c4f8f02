//go:build !linux

package store

// fsType is not known outside Linux.
func fsType(string) string { return "" }
