package simtest

import (
	"testing"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
)

// TestOrganizationEndpointsParseWithGraphSDK: msgraph-sdk-go's own request
// builders reach the organization endpoints and parse their answers:
// Graph's service principal by appId with its appRoles, a new application
// with a certificate, mailboxSettings.userPurpose as its enum, and the
// deleted users (the SDK casts with graph.user).
func TestOrganizationEndpointsParseWithGraphSDK(t *testing.T) {
	tn := SmallTenant(t)
	if err := tn.SetDirectoryRoles(Alice, m365sim.RoleGlobalAdministrator); err != nil {
		t.Fatal(err)
	}
	srv := Start(t, tn, m365sim.Options{})
	gc := GraphClientWithScopes(t, srv, Alice, []string{"User.Read", "User.Read.All", "MailboxSettings.Read", "Application.ReadWrite.All", "AppRoleAssignment.ReadWrite.All"})
	ctx := t.Context()

	graphAppID := "00000003-0000-0000-c000-000000000000"
	sp, err := gc.ServicePrincipalsWithAppId(&graphAppID).Get(ctx, nil)
	if err != nil {
		t.Fatalf("Graph service principal: %v", err)
	}
	found := false
	for _, r := range sp.GetAppRoles() {
		if r.GetValue() != nil && *r.GetValue() == "Files.ReadWrite.All" && r.GetId() != nil && r.GetId().String() == "75359482-378d-4052-8f01-80520e7db3cd" {
			found = true
		}
	}
	if !found {
		t.Errorf("Files.ReadWrite.All not among %d parsed app roles", len(sp.GetAppRoles()))
	}

	now := time.Now()
	cert := NewCertificate(t, "CN=Lifeboat", now.Add(-time.Minute), now.Add(300*24*time.Hour))
	app := models.NewApplication()
	name, aud := "Lifeboat backup", "AzureADMyOrg"
	app.SetDisplayName(&name)
	app.SetSignInAudience(&aud)
	kc := models.NewKeyCredential()
	typ, usage := "AsymmetricX509Cert", "Verify"
	kc.SetTypeEscaped(&typ)
	kc.SetUsage(&usage)
	kc.SetKey(cert.Cert.Raw)
	app.SetKeyCredentials([]models.KeyCredentialable{kc})
	created, err := gc.Applications().Post(ctx, app, nil)
	if err != nil {
		t.Fatalf("create application: %v", err)
	}
	if created.GetAppId() == nil || len(created.GetKeyCredentials()) != 1 || *created.GetSignInAudience() != aud {
		t.Errorf("created application %v", created)
	}

	// A delegated token reads the signed-in user's own settings only.
	if err := tn.ConvertToShared(Alice); err != nil {
		t.Fatal(err)
	}
	ms, err := gc.Users().ByUserId(Alice).MailboxSettings().Get(ctx, nil)
	if err != nil {
		t.Fatalf("mailbox settings: %v", err)
	}
	if ms.GetUserPurpose() == nil || *ms.GetUserPurpose() != models.SHARED_USERPURPOSE {
		t.Errorf("userPurpose %v, want shared", ms.GetUserPurpose())
	}

	if err := tn.DeleteUser(Bob); err != nil {
		t.Fatal(err)
	}
	gone, err := gc.Directory().DeletedItems().GraphUser().Get(ctx, nil)
	if err != nil {
		t.Fatalf("deleted users: %v", err)
	}
	if len(gone.GetValue()) != 1 || gone.GetValue()[0].GetDeletedDateTime() == nil || *gone.GetValue()[0].GetUserPrincipalName() != Bob {
		t.Errorf("deleted users %v", gone.GetValue())
	}
}
