package store

import "strings"

// IsShare reports whether dir is on a network share or a FUSE mount (SMB,
// NFS, sshfs, rclone…), where the guarantees Probe tests may not hold.
// Local disks, including NTFS drives through ntfs-3g (fuseblk), are not;
// neither is anything this platform cannot tell (fsType is Linux's).
func IsShare(dir string) bool {
	if strings.HasPrefix(dir, `\\`) || strings.HasPrefix(dir, "//") {
		return true // a Windows UNC path
	}
	return isShareFS(fsType(dir))
}

// FSType names the file system holding dir ("ext4", "fuse.sshfs",
// "cifs"…), "" when unknown.
func FSType(dir string) string { return fsType(dir) }

func isShareFS(t string) bool {
	switch t {
	case "cifs", "smb3", "smbfs", "nfs", "nfs4", "9p", "afs", "ceph", "glusterfs", "davfs", "webdav", "sshfs":
		return true
	case "fuseblk":
		return false
	}
	return strings.HasPrefix(t, "fuse.") || t == "fuse"
}
