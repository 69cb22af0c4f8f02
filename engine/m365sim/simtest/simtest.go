package simtest

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	abs "github.com/microsoft/kiota-abstractions-go"
	khttp "github.com/microsoft/kiota-http-go"
	msgraphsdk "github.com/microsoftgraph/msgraph-sdk-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
)

// Start runs a simulator for tenant (SmallTenant when nil) for the test's
// lifetime.
func Start(t testing.TB, tenant *m365sim.Tenant, opts m365sim.Options) *m365sim.Server {
	t.Helper()
	if tenant == nil {
		tenant = SmallTenant(t)
	}
	srv, err := m365sim.NewServer(tenant, opts)
	if err != nil {
		t.Fatalf("start simulator: %v", err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

// Alice and Bob are the users of SmallTenant.
const (
	Alice = "alice@contoso.test"
	Bob   = "bob@contoso.test"
)

// SmallTenant is two users with a handful of messages in nested folders
// and a few files, enough for endpoint tests.
func SmallTenant(t testing.TB) *m365sim.Tenant {
	t.Helper()
	tn := m365sim.NewTenant("Contoso", "contoso.test", nil)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range []struct{ upn, name string }{{Alice, "Alice Archer"}, {Bob, "Bob Baker"}} {
		_, err := tn.AddUser(u.upn, u.name)
		must(err)
	}
	_, err := tn.EnsureFolderPath(Alice, "Inbox/Invoices/2026")
	must(err)
	for i := range 25 {
		folder := "inbox"
		if i%5 == 0 {
			f, err := tn.EnsureFolderPath(Alice, "Inbox/Invoices")
			must(err)
			folder = f.ID
		}
		_, err := tn.AddMessage(Alice, folder, MIMEMessage(i), m365sim.MessageOptions{IsRead: i%2 == 0})
		must(err)
	}
	_, err = tn.AddMessage(Bob, "inbox", MIMEMessage(100), m365sim.MessageOptions{})
	must(err)
	mod := time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)
	_, err = tn.PutFile(Alice, "Documents/budget.xlsx", m365sim.BytesContent(pattern(300_000)), mod)
	must(err)
	_, err = tn.PutFile(Alice, "Documents/Notes/todo.txt", m365sim.BytesContent("buy milk\n"), mod)
	must(err)
	_, err = tn.PutFile(Alice, "Photos/Ünïcödé – café.jpg", m365sim.BytesContent(pattern(1_200_000)), mod)
	must(err)
	_, err = tn.PutFile(Alice, "empty.txt", m365sim.BytesContent(nil), mod)
	must(err)
	return tn
}

func pattern(n int) []byte {
	b := make([]byte, n)
	x := uint32(2463534242)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}

// MIMEMessage returns a small multipart message numbered n.
func MIMEMessage(n int) []byte {
	date := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Hour)
	return []byte(fmt.Sprintf("Received: from mail.example.com by mx.contoso.test; %s\r\n"+
		"From: Paul Supplier <paul@supplier.example>\r\n"+
		"To: Alice Archer <alice@contoso.test>\r\n"+
		"Subject: Invoice %04d for March\r\n"+
		"Date: %s\r\n"+
		"Message-ID: <msg-%d@supplier.example>\r\n"+
		"MIME-Version: 1.0\r\n"+
		"Content-Type: multipart/mixed; boundary=\"b1\"\r\n"+
		"\r\n"+
		"--b1\r\n"+
		"Content-Type: text/plain; charset=utf-8\r\n"+
		"\r\n"+
		"Hello Alice,\r\nplease find invoice %d attached.\r\n"+
		"--b1\r\n"+
		"Content-Type: application/pdf; name=\"invoice-%d.pdf\"\r\n"+
		"Content-Disposition: attachment; filename=\"invoice-%d.pdf\"\r\n"+
		"Content-Transfer-Encoding: base64\r\n"+
		"\r\n"+
		"JVBERi0xLjQKJcOkw7zDtsOfCg==\r\n"+
		"--b1--\r\n",
		date.Format(time.RFC1123Z), n, date.Format(time.RFC1123Z), n, n, n, n))
}

// tokenAuth puts a simulator-issued access token on each request. It stands
// in for MSAL where a test is about Graph, not sign-in.
type tokenAuth struct {
	srv    *m365sim.Server
	upn    string
	scopes []string // nil: the consented permissions
}

func (a tokenAuth) AuthenticateRequest(ctx context.Context, req *abs.RequestInformation, _ map[string]any) error {
	tok, _, err := a.srv.IssueAccessToken(a.upn)
	if a.scopes != nil {
		tok, _, err = a.srv.IssueAccessTokenWithScopes(a.upn, a.scopes...)
	}
	if err != nil {
		return err
	}
	req.Headers.Add("Authorization", "Bearer "+tok)
	return nil
}

// GraphClient returns the real msgraph-sdk-go client, with its default
// middleware (retry, redirect, compression), talking to srv as upn.
func GraphClient(t testing.TB, srv *m365sim.Server, upn string) *msgraphsdk.GraphServiceClient {
	t.Helper()
	return GraphClientWithScopes(t, srv, upn, nil)
}

// GraphClientWithScopes is GraphClient with tokens that carry only scopes
// (nil: the application's consented permissions).
func GraphClientWithScopes(t testing.TB, srv *m365sim.Server, upn string, scopes []string) *msgraphsdk.GraphServiceClient {
	t.Helper()
	opts := msgraphsdk.GetDefaultClientOptions()
	hc := &http.Client{Transport: khttp.NewCustomTransportWithParentTransport(srv.HTTPClient().Transport, msgraphcore.GetDefaultMiddlewaresWithOptions(&opts)...)}
	adapter, err := msgraphsdk.NewGraphRequestAdapterWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(tokenAuth{srv: srv, upn: upn, scopes: scopes}, nil, nil, hc)
	if err != nil {
		t.Fatalf("graph adapter: %v", err)
	}
	adapter.SetBaseUrl(srv.GraphURL())
	return msgraphsdk.NewGraphServiceClient(adapter)
}
