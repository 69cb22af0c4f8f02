package restore

import (
	"os"
	"time"

	"golang.org/x/sys/windows"
)

// setCreated sets a restored file's creation time, which Windows keeps
// and Explorer shows beside the modification time.
func setCreated(f *os.File, t time.Time) error {
	ft := windows.NsecToFiletime(t.UnixNano())
	return windows.SetFileTime(windows.Handle(f.Fd()), &ft, nil, nil)
}
