package assets

import (
	_ "embed"

	"fyne.io/fyne/v2"
)

//go:embed icon.svg
var iconSVG []byte

// Icon is the application icon (a lifebuoy on a sea-blue tile).
func Icon() fyne.Resource { return fyne.NewStaticResource("lifeboat.svg", iconSVG) }
