//go:build linux

package oracle

import (
	"testing"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/public"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
)

// TestMSALWithInstanceDiscovery runs MSAL Go as a client of Microsoft's
// own authority would: https://login.microsoftonline.com/organizations
// with instance discovery on (what every other test turns off), against
// the simulator under Microsoft's host names. MSAL asks
// /common/discovery/instance, then the OpenID configuration, then signs in
// by device code and refreshes silently.
func TestMSALWithInstanceDiscovery(t *testing.T) {
	t.Parallel()
	if !Isolated(t) {
		return
	}
	env := Start(t, simtest.SmallTenant(t), m365sim.Options{})
	client, err := public.New(env.Server.ClientID(),
		public.WithAuthority("https://"+m365sim.LoginHost+"/organizations"),
		public.WithHTTPClient(env.Server.HTTPClient()))
	if err != nil {
		t.Fatal(err)
	}
	ar := simtest.SignInAs(t, env.Server, client, simtest.Scopes(), simtest.Alice)
	if ar.Account.PreferredUsername != simtest.Alice || ar.AccessToken == "" {
		t.Fatalf("signed in as %q", ar.Account.PreferredUsername)
	}
	silent, err := client.AcquireTokenSilent(t.Context(), simtest.Scopes(), public.WithSilentAccount(ar.Account))
	if err != nil || silent.AccessToken == "" {
		t.Fatalf("silent: %v", err)
	}
	// MSAL asks for discovery when it stores the result (to know the
	// cloud's aliases); the server logs a request once it has answered it.
	deadline := time.Now().Add(5 * time.Second)
	for env.Server.Requests().Count("/common/discovery/instance") == 0 {
		if time.Now().After(deadline) {
			t.Fatal("MSAL did not ask for instance discovery")
		}
		time.Sleep(10 * time.Millisecond)
	}
	env.LogRequests(t)
}
