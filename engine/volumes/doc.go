// Package volumes lists the drives and mount points a backup can go to —
// with their free space, removable and network drives first and the
// system disk flagged — and finds a backup folder again by its
// repository ID when its drive comes back under another letter or mount
// point, and ejects a backup drive after a backup (Eject: UDisks over
// D-Bus on Linux, diskutil on macOS, the volume IOCTLs on Windows) so a
// drive left plugged in is not mounted between backups.
//
// Everything read here (mount tables, folder names, key files on a drive)
// is outside input: sizes are bounded and nothing is followed blindly.
package volumes
