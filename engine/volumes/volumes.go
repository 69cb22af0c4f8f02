package volumes

import (
	"cmp"
	"os"
	"path/filepath"
	"slices"
)

// Volume is one place a backup can be written to.
type Volume struct {
	// Path is the mount point (Linux, macOS) or drive root (Windows, "E:\").
	Path string
	// Label is the name to show: the volume label, else the last part of Path.
	Label string
	// FSType is the file system ("ext4", "exfat", "NTFS", "cifs").
	FSType string
	// Device is the block device or share ("/dev/sdb1", "//nas/backup").
	Device string
	// Total and Free are bytes; Free is what this user may still write.
	Total, Free uint64
	// External is a removable drive, or one mounted where removable
	// drives are (/media, /run/media, /Volumes).
	External bool
	// Network is a network share (SMB, NFS).
	Network bool
	// System is the disk the operating system runs from.
	System bool
}

// FreeFraction is Free/Total, 0 for an empty or unknown size.
func (v Volume) FreeFraction() float64 {
	if v.Total == 0 {
		return 0
	}
	return float64(v.Free) / float64(v.Total)
}

// Options say where to look. Zero values mean the real system.
type Options struct {
	// MountInfo is the Linux mount table (default /proc/self/mountinfo).
	MountInfo string
	// SysDir is sysfs, for the removable flag (default /sys).
	SysDir string
	// MediaRoots are where removable drives are mounted (default
	// /media/$USER, /run/media/$USER, /media, /mnt on Linux; /Volumes on macOS).
	MediaRoots []string
	// Space measures the file system holding a path: its size and the
	// bytes this user may still write (default: the operating system's
	// figures). Tests set it so that results do not depend on how full
	// the test machine's disk happens to be.
	Space func(path string) (total, free uint64, err error)
}

// SpaceAt returns the size of the file system holding path and the bytes
// this user may still write there.
func (o Options) SpaceAt(path string) (total, free uint64, err error) {
	if o.Space != nil {
		return o.Space(path)
	}
	return space(path)
}

func (o Options) mediaRoots() []string {
	if o.MediaRoots != nil {
		return o.MediaRoots
	}
	return defaultMediaRoots()
}

// List returns the connected volumes a backup can be written to: external
// drives first, then network shares, then other disks, the system disk
// last; by path within each group.
func List(o Options) ([]Volume, error) {
	vs, err := list(o)
	if err != nil {
		return nil, err
	}
	sortVolumes(vs)
	return vs, nil
}

func rank(v Volume) int {
	switch {
	case v.External:
		return 0
	case v.Network:
		return 1
	case !v.System:
		return 2
	}
	return 3
}

func sortVolumes(vs []Volume) {
	slices.SortStableFunc(vs, func(a, b Volume) int {
		return cmp.Or(cmp.Compare(rank(a), rank(b)), cmp.Compare(a.Path, b.Path))
	})
}

func userName() string {
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return os.Getenv("LOGNAME")
}

// under reports whether p is root or inside it.
func under(p, root string) bool {
	rel, err := filepath.Rel(root, p)
	return err == nil && rel != ".." && !filepath.IsAbs(rel) && (rel == "." || !startsDotDot(rel))
}

func startsDotDot(rel string) bool {
	return len(rel) >= 3 && rel[:2] == ".." && os.IsPathSeparator(rel[2])
}
