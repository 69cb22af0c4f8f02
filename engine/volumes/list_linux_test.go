package volumes

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseMountInfo(t *testing.T) {
	in := `27 1 254:0 / / rw,relatime - ext4 /dev/vda rw
60 27 8:17 / /media/anna/My\040Passport rw,nosuid shared:1 master:2 - exfat /dev/sdb1 rw
garbage line
61 27 0:50 / /mnt/nas rw - cifs //nas/backup\134x rw
62 27 0:51 / /broken rw no-separator here
x 27 0:52 / /bad-id rw - ext4 /dev/x rw
`
	ms, err := parseMountInfo(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 3 {
		t.Fatalf("parsed %d mounts, want 3: %+v", len(ms), ms)
	}
	if ms[1].point != "/media/anna/My Passport" || ms[1].fsType != "exfat" || ms[1].devNum != "8:17" {
		t.Errorf("escaped mount point: %+v", ms[1])
	}
	if ms[2].source != `//nas/backup\x` {
		t.Errorf("source %q", ms[2].source)
	}
	if _, err := parseMountInfo(strings.NewReader(strings.Repeat("x", maxMountInfo+1))); err == nil {
		t.Error("an oversized mount table was accepted")
	}
}

// TestListOrdersAndFlags lists a mount table whose mount points are
// temporary folders (real statfs on them): removable first, then the
// network share, then other disks, the system disk last; pseudo file
// systems left out.
func TestListOrdersAndFlags(t *testing.T) {
	tmp := t.TempDir()
	media := filepath.Join(tmp, "media", "anna")
	usb := filepath.Join(media, "BACKUP 2")
	nas := filepath.Join(tmp, "nas")
	data := filepath.Join(tmp, "data")
	run := filepath.Join(tmp, "run")
	for _, d := range []string{usb, nas, data, run} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	esc := func(p string) string { return strings.ReplaceAll(p, " ", `\040`) }
	table := fmt.Sprintf(`27 1 254:0 / / rw - ext4 /dev/vda rw
28 27 0:25 / %s rw - tmpfs tmpfs rw
29 27 0:26 / %s rw - cifs //nas/backup rw
30 27 8:1 / %s rw - ext4 /dev/sda1 rw
31 27 8:17 / %s rw - exfat /dev/sdb1 rw
32 27 0:27 / /proc rw - proc proc rw
33 27 0:28 / %s rw - overlay overlay rw
34 27 9:9 / %s rw - ext4 /dev/gone rw
`, run, nas, data, esc(usb), filepath.Join(tmp, "layer"), filepath.Join(tmp, "vanished"))
	mi := filepath.Join(tmp, "mountinfo")
	if err := os.WriteFile(mi, []byte(table), 0o644); err != nil {
		t.Fatal(err)
	}
	vs, err := List(Options{MountInfo: mi, SysDir: filepath.Join(tmp, "sys"), MediaRoots: []string{media}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range vs {
		got = append(got, v.Path)
		if v.Total == 0 || v.Free == 0 || v.Free > v.Total || v.FreeFraction() <= 0 || v.FreeFraction() > 1 {
			t.Errorf("%s: total %d free %d", v.Path, v.Total, v.Free)
		}
	}
	want := []string{usb, nas, data, "/"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("order %q, want %q", got, want)
	}
	if !vs[0].External || vs[0].Label != "BACKUP 2" || vs[0].FSType != "exfat" || vs[0].System {
		t.Errorf("usb %+v", vs[0])
	}
	if !vs[1].Network || vs[1].External {
		t.Errorf("nas %+v", vs[1])
	}
	if vs[2].External || vs[2].System || vs[2].Network {
		t.Errorf("data disk %+v", vs[2])
	}
	if !vs[3].System || vs[3].Label != "System disk" {
		t.Errorf("root %+v", vs[3])
	}
}

func TestRemovableFromSysfs(t *testing.T) {
	sys := t.TempDir()
	disk := filepath.Join(sys, "devices", "usb", "block", "sdb")
	part := filepath.Join(disk, "sdb1")
	if err := os.MkdirAll(part, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(disk, "removable"), []byte("1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(sys, "dev", "block"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(part, filepath.Join(sys, "dev", "block", "8:17")); err != nil {
		t.Fatal(err)
	}
	if !removable(sys, "8:17") {
		t.Error("a partition of a removable disk was not seen as removable")
	}
	if removable(sys, "8:1") || removable(sys, "../../etc") {
		t.Error("unknown or hostile device number seen as removable")
	}
}
