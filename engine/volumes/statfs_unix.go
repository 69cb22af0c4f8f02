//go:build linux || darwin

package volumes

import "syscall"

// space returns the size of the file system at path and what this user
// may still write there (blocks reserved for root excluded).
func space(path string) (total, free uint64, err error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return 0, 0, err
	}
	bs := uint64(st.Bsize)
	return st.Blocks * bs, st.Bavail * bs, nil
}
