// Package orgsetup registers Lifeboat in a company's Microsoft 365 directory
// for organization mode (DESIGN.md section 9) and keeps that registration
// working.
//
// After an administrator's device-code sign-in with the delegated
// Application.ReadWrite.All and AppRoleAssignment.ReadWrite.All, Register
// creates Lifeboat's own single-tenant application with a certificate
// credential (engine/auth keeps the key encrypted, its key in the
// keychain), its service principal, and one app role assignment per
// application permission, resolved by value from Microsoft Graph's service
// principal. It is idempotent and resumable: the registration is found again
// by its stored object ID or by the marker tag on the application, and only
// what is missing is made or granted. The directory's replication delay
// (NoBackingApplicationObject, AADSTS700016, a token without a just-granted
// role) is waited out with bounded retries and a progress sentence. An
// administrator without the right role gets one plain sentence and nothing
// this run made is left behind.
//
// Renew rolls the certificate with addKey and a proof of possession signed
// by the current one, with no administrator; Remove deletes the
// registration when the owner leaves organization mode.
package orgsetup
