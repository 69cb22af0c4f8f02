package volumes

import (
	"golang.org/x/sys/windows"
)

func defaultMediaRoots() []string { return nil }

// list asks Windows for its drive letters: removable and fixed disks and
// mapped network drives; CD drives and RAM disks are left out.
func list(o Options) ([]Volume, error) {
	mask, err := windows.GetLogicalDrives()
	if err != nil {
		return nil, err
	}
	sysDrive := ""
	if dir, err := windows.GetSystemDirectory(); err == nil && len(dir) >= 2 {
		sysDrive = dir[:2]
	}
	var out []Volume
	for i := 0; i < 26; i++ {
		if mask&(1<<uint(i)) == 0 {
			continue
		}
		root := string(rune('A'+i)) + `:\`
		p, err := windows.UTF16PtrFromString(root)
		if err != nil {
			continue
		}
		typ := windows.GetDriveType(p)
		if typ != windows.DRIVE_REMOVABLE && typ != windows.DRIVE_FIXED && typ != windows.DRIVE_REMOTE {
			continue
		}
		var free, total, totalFree uint64
		if err := windows.GetDiskFreeSpaceEx(p, &free, &total, &totalFree); err != nil {
			continue // an empty card reader or a disconnected share
		}
		if o.Space != nil {
			if total, free, err = o.Space(root); err != nil {
				continue
			}
		}
		v := Volume{Path: root, Label: root[:2], Total: total, Free: free,
			External: typ == windows.DRIVE_REMOVABLE, Network: typ == windows.DRIVE_REMOTE, System: root[:2] == sysDrive}
		label := make([]uint16, windows.MAX_PATH+1)
		fs := make([]uint16, windows.MAX_PATH+1)
		if err := windows.GetVolumeInformation(p, &label[0], uint32(len(label)), nil, nil, nil, &fs[0], uint32(len(fs))); err == nil {
			if l := windows.UTF16ToString(label); l != "" {
				v.Label = l + " (" + root[:2] + ")"
			}
			v.FSType = windows.UTF16ToString(fs)
		}
		out = append(out, v)
	}
	return out, nil
}
