// Package notify shows operating-system notifications without Lifeboat's
// window running — "Connect your backup drive", "Sign in again" — from a
// scheduled run: on Linux through the desktop's notification service
// (D-Bus org.freedesktop.Notifications, falling back to notify-send), on
// macOS through osascript, on Windows as a toast shown by PowerShell.
//
// How a notification leaves the process (the bus address, the command
// runner) comes from Options, so tests capture what would be shown.
package notify
