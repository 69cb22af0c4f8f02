//go:build windows

package main

import (
	"os"

	"golang.org/x/sys/windows"
)

// attachParentConsole: release builds are GUI programs (-H windowsgui), so
// opening Lifeboat shows no console window. Run from a command prompt with
// a command, it borrows that prompt's console so output, errors and the
// recovery-key prompt appear there. Redirected streams are left alone.
func attachParentConsole() {
	if len(os.Args) < 2 {
		return
	}
	const attachParentProcess = ^uintptr(0) // (DWORD)-1
	attach := windows.NewLazySystemDLL("kernel32.dll").NewProc("AttachConsole")
	if r, _, _ := attach.Call(attachParentProcess); r == 0 {
		return // started without a console (Explorer, Task Scheduler)
	}
	reopen := func(f **os.File, std uint32, device string, access uint32) {
		if h := windows.Handle((*f).Fd()); h != 0 && h != windows.InvalidHandle {
			return // redirected to a file or pipe at start
		}
		if h, err := windows.GetStdHandle(std); err == nil && h != 0 && h != windows.InvalidHandle {
			*f = os.NewFile(uintptr(h), device)
			return
		}
		name, err := windows.UTF16PtrFromString(device)
		if err != nil {
			return
		}
		h, err := windows.CreateFile(name, access, windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE, nil, windows.OPEN_EXISTING, 0, 0)
		if err == nil {
			*f = os.NewFile(uintptr(h), device)
		}
	}
	reopen(&os.Stdout, windows.STD_OUTPUT_HANDLE, "CONOUT$", windows.GENERIC_READ|windows.GENERIC_WRITE)
	reopen(&os.Stderr, windows.STD_ERROR_HANDLE, "CONOUT$", windows.GENERIC_READ|windows.GENERIC_WRITE)
	reopen(&os.Stdin, windows.STD_INPUT_HANDLE, "CONIN$", windows.GENERIC_READ|windows.GENERIC_WRITE)
}
