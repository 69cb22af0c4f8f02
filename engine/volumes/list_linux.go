package volumes

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

func defaultMediaRoots() []string {
	u := userName()
	roots := []string{}
	if u != "" {
		roots = append(roots, "/media/"+u, "/run/media/"+u)
	}
	return append(roots, "/media", "/mnt")
}

// diskFS are the file systems a backup can live on; everything else in
// the mount table (proc, tmpfs, cgroup, squashfs snaps …) is not a drive.
var diskFS = map[string]bool{
	"ext2": true, "ext3": true, "ext4": true, "xfs": true, "btrfs": true, "f2fs": true, "zfs": true, "jfs": true,
	"vfat": true, "msdos": true, "exfat": true, "ntfs": true, "ntfs3": true, "fuseblk": true, "hfsplus": true,
	"apfs": true, "udf": true, "overlay": true,
}

var networkFS = map[string]bool{
	"cifs": true, "smb3": true, "smbfs": true, "nfs": true, "nfs4": true, "fuse.sshfs": true, "9p": true,
}

// maxMountInfo bounds the mount table read (thousands of container
// mounts fit many times over).
const maxMountInfo = 8 << 20

type mount struct {
	id, parent     int
	devNum         string // major:minor
	root, point    string
	fsType, source string
}

// parseMountInfo reads /proc/self/mountinfo (proc(5)): fields up to the
// optional ones, a "-", then type, source and super options.
func parseMountInfo(r io.Reader) ([]mount, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxMountInfo+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxMountInfo {
		return nil, fmt.Errorf("mount table larger than %d bytes", maxMountInfo)
	}
	var out []mount
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		sep := -1
		for i := 6; i < len(f); i++ {
			if f[i] == "-" {
				sep = i
				break
			}
		}
		if sep < 0 || sep+2 >= len(f) {
			continue // malformed line: ignore rather than fail the listing
		}
		id, err1 := strconv.Atoi(f[0])
		parent, err2 := strconv.Atoi(f[1])
		if err1 != nil || err2 != nil {
			continue
		}
		out = append(out, mount{id: id, parent: parent, devNum: f[2], root: unescapeMount(f[3]), point: unescapeMount(f[4]),
			fsType: f[sep+1], source: unescapeMount(f[sep+2])})
	}
	return out, sc.Err()
}

// unescapeMount undoes the kernel's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func list(o Options) ([]Volume, error) {
	path := o.MountInfo
	if path == "" {
		path = "/proc/self/mountinfo"
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading the mount table: %w", err)
	}
	defer f.Close()
	mounts, err := parseMountInfo(f)
	if err != nil {
		return nil, fmt.Errorf("reading the mount table %s: %w", path, err)
	}
	sys := o.SysDir
	if sys == "" {
		sys = "/sys"
	}
	rootDev := ""
	for _, m := range mounts {
		if m.point == "/" {
			rootDev = m.devNum
		}
	}
	media := o.mediaRoots()
	seen := map[string]bool{}
	var out []Volume
	for _, m := range mounts {
		network := networkFS[m.fsType]
		if !diskFS[m.fsType] && !network {
			continue
		}
		if m.fsType == "overlay" && m.point != "/" {
			continue // container layers, not drives
		}
		if seen[m.point] {
			continue // mounted over: the top mount is what is visible
		}
		seen[m.point] = true
		total, free, err := o.SpaceAt(m.point)
		if err != nil {
			continue // unreachable share or vanished mount
		}
		v := Volume{Path: m.point, Label: filepath.Base(m.point), FSType: m.fsType, Device: m.source, Total: total, Free: free, Network: network}
		if m.point == "/" {
			v.Label = "System disk"
		}
		v.System = m.point == "/" || (m.devNum == rootDev && rootDev != "")
		for _, r := range media {
			if under(m.point, r) && m.point != r {
				v.External = true
			}
		}
		if !network && removable(sys, m.devNum) {
			v.External = true
		}
		out = append(out, v)
	}
	return out, nil
}

// removable reads the block device's removable flag from sysfs: the
// partition's own directory has none, its disk's (the parent) has.
func removable(sys, devNum string) bool {
	if devNum == "" || strings.ContainsAny(devNum, "/\\") {
		return false
	}
	dir, err := filepath.EvalSymlinks(filepath.Join(sys, "dev", "block", devNum))
	if err != nil {
		return false
	}
	for _, p := range []string{filepath.Join(dir, "removable"), filepath.Join(dir, "..", "removable")} {
		if b, err := readSmallFile(p, 16); err == nil {
			return strings.TrimSpace(string(b)) == "1"
		}
	}
	return false
}

func readSmallFile(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, limit))
}
