// Package assets holds Lifeboat's icons and other bundled resources,
// embedded into the binary.
//
// icon.svg is the one drawing; installer/icons.sh renders from it icon.png
// (FyneApp.toml's icon), icons/N.png (the Linux hicolor sizes) and
// icon.ico (Windows), which the packaging scripts in installer/ use.
package assets
