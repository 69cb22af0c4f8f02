// Package gui is Lifeboat's desktop app: it opens the Fyne window, the
// tray and the restore wizard, and adapts ui's small interfaces to the use
// cases of engine/service. It never calls the command line; both sit on
// the same application layer. With the demo, it first starts the
// simulated company in this process, with throwaway settings.
package gui
