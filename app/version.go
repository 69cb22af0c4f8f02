package main

import (
	"strconv"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"

	"github.com/lifeboat-backup/lifeboat/assets"
)

// build is the build number from FyneApp.toml, stamped at build time next
// to version: -ldflags "-X main.version=1.2.3 -X main.build=7". Empty in a
// plain `go build`.
var build = ""

// parseBuild reads a stamped build number; 0 when the binary was not
// stamped or the stamp is not a number.
func parseBuild(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// appMetadata is FyneApp.toml's metadata as stamped into this binary.
// `fyne package` would generate this itself, but the release builds use
// plain `go build` (see installer/dist.sh), so it is set here: the About
// screen reads it with fyne.CurrentApp().Metadata().Version and .Build.
func appMetadata() fyne.AppMetadata {
	return fyne.AppMetadata{
		ID:      appID,
		Name:    "Lifeboat",
		Version: version,
		Build:   parseBuild(build),
		Icon:    assets.Icon(),
		Release: build != "",
	}
}

func init() {
	fyneapp.SetMetadata(appMetadata())
}
