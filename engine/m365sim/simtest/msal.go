package simtest

import (
	"context"
	"testing"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/public"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
)

// Scopes returns the delegated permissions Lifeboat asks for, as MSAL
// takes them. offline_access is not among them: MSAL always adds openid,
// profile and offline_access itself, and MSAL Go (through v1.10.1) fails a
// sign-in with "declined scopes are present: offline_access" when the
// caller lists it, because Entra ID never echoes offline_access in the
// token response's scope (and neither does the simulator).
func Scopes() []string {
	return []string{"User.Read", "Mail.ReadWrite", "Files.ReadWrite.All", "Calendars.ReadWrite", "Contacts.ReadWrite"}
}

// signInTimeout bounds a device code sign-in in a test. MSAL polls on its
// own schedule (50 ms, then ×3 up to 5 s), whatever interval the server
// advertises.
const signInTimeout = 30 * time.Second

// PublicClient returns the real MSAL public client wired to srv: its
// authority, its CA and no instance discovery. opts come after those, so a
// test can add a cache accessor or override any of them.
func PublicClient(t testing.TB, srv *m365sim.Server, opts ...public.Option) public.Client {
	t.Helper()
	all := append([]public.Option{
		public.WithAuthority(srv.Authority()),
		public.WithInstanceDiscovery(false),
		public.WithHTTPClient(srv.HTTPClient()),
	}, opts...)
	client, err := public.New(srv.ClientID(), all...)
	if err != nil {
		t.Fatalf("msal public client: %v", err)
	}
	return client
}

// SignIn runs MSAL's device code flow and waits for the result. Someone
// must approve the code: the server itself (Options.AutoApprove), or the
// test from another goroutine (srv.PendingDeviceCodes, then
// srv.ApproveDeviceCode). SignInAs approves it itself.
func SignIn(t testing.TB, srv *m365sim.Server, client public.Client, scopes []string) public.AuthResult {
	t.Helper()
	return signIn(t, client, scopes, nil)
}

// SignInAs runs MSAL's device code flow and approves the code as upn, as
// if that person had entered it on the sign-in page.
func SignInAs(t testing.TB, srv *m365sim.Server, client public.Client, scopes []string, upn string) public.AuthResult {
	t.Helper()
	return signIn(t, client, scopes, func(userCode string) error { return srv.ApproveDeviceCode(userCode, upn) })
}

func signIn(t testing.TB, client public.Client, scopes []string, approve func(userCode string) error) public.AuthResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), signInTimeout)
	defer cancel()
	dc, err := client.AcquireTokenByDeviceCode(ctx, scopes)
	if err != nil {
		t.Fatalf("device code: %v", err)
	}
	if approve != nil {
		if err := approve(dc.Result.UserCode); err != nil {
			t.Fatalf("approve device code: %v", err)
		}
	}
	ar, err := dc.AuthenticationResult(ctx)
	if err != nil {
		t.Fatalf("device code sign-in: %v", err)
	}
	return ar
}
