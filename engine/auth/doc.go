// Package auth signs the owner in to Microsoft 365 and keeps them signed in.
//
// It owns the delegated sign-in of personal mode (DESIGN.md section 3):
// MSAL's public-client device code flow, reported step by step as Events
// that the command line and the app render; the MSAL token cache, kept
// encrypted at rest (AES-256-GCM) in a file under the user's config folder
// with its random key in the keychain (engine/secret); and a TokenSource that
// gets access tokens silently, lets MSAL refresh them, and turns "Microsoft
// wants the person again" into ErrSignInRequired.
//
// Nothing here writes a token, a refresh token or a device code to a log or
// an error message. The user code is shown to the person on purpose (in
// CodeIssued) but is redacted when an event is logged.
package auth
