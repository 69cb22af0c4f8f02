// Package assets holds Lifeboat's icons and other bundled resources,
// embedded into the binary.
package assets
