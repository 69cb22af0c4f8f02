//go:build !windows

package main

// attachParentConsole is needed only for Windows GUI-subsystem builds.
func attachParentConsole() {}
