// Package ui holds Lifeboat's Fyne screens. Each screen is a constructor
// that takes the small interfaces it needs from the engine and returns a
// fyne.CanvasObject, so it can be driven by fyne.io/fyne/v2/test.
// Updates from background goroutines go through fyne.Do.
package ui
