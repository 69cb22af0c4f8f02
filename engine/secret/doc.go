// Package secret keeps small secrets — today the key that encrypts the saved
// sign-in — in a place the owner controls.
//
// Keychain is the small interface the rest of Lifeboat uses. OS stores
// secrets in the operating system's keychain through go-keyring: the Windows
// Credential Manager, the macOS keychain, or a Secret Service (GNOME Keyring,
// KeePassXC) over D-Bus on Linux. File stores them in a 0600 file and exists
// only for an explicit "--secret-store file" choice: it is never a silent
// fallback. When the keychain cannot be reached, OS returns an
// *UnavailableError whose message says what is missing and how to fix it.
//
// Tests that want the keychain to fail pass their own Keychain (see Failing)
// instead of changing go-keyring's package state.
package secret
