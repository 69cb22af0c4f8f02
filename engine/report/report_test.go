package report

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/microsoft/kiota-abstractions-go/authentication"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
)

// tokenProvider hands one MSAL-issued access token to Graph.
type tokenProvider struct{ tok string }

func (p tokenProvider) GetAuthorizationToken(context.Context, *url.URL, map[string]any) (string, error) {
	return p.tok, nil
}

func (tokenProvider) GetAllowedHostsValidator() *authentication.AllowedHostsValidator {
	v, _ := authentication.NewAllowedHostsValidatorErrorCheck(nil)
	return v
}

func provider(tok string) tokenProvider { return tokenProvider{tok} }

func TestCompose(t *testing.T) {
	start := time.Date(2026, 3, 10, 21, 0, 0, 0, time.UTC)
	good := Run{Computer: "OFFICE-PC", Destination: "/media/anna/BACKUP", Started: start, Ended: start.Add(7 * time.Minute),
		Accounts: []Account{{UPN: "anna@contoso.com", New: 12, Changed: 3, Deleted: 1}}}
	subj, body := Compose(good)
	if subj != "Lifeboat: the backup of Tue 10 March 21:00 went well" ||
		!strings.Contains(body, "Backup on OFFICE-PC to /media/anna/BACKUP, Tue 10 March 21:00 – 21:07.") ||
		!strings.Contains(body, "anna@contoso.com: 12 new, 3 changed, 1 deleted\n") {
		t.Errorf("%s\n%s", subj, body)
	}
	if good.Failed() || Failures.Due(good) || !Always.Due(good) || Off.Due(good) {
		t.Error("a good run is due for the wrong choices")
	}
	skipped := good
	skipped.Accounts = []Account{{UPN: "anna@contoso.com", Skipped: 1, SkippedItems: []string{"Inbox/evil\r\nBcc: x@y"}},
		{UPN: "paul@contoso.com", Failed: true, Error: "Microsoft refused access"}}
	subj, body = Compose(skipped)
	if subj != "Lifeboat: the backup of Tue 10 March 21:00 needs your attention" || !Failures.Due(skipped) ||
		!strings.Contains(body, "  skipped: Inbox/evil  Bcc: x@y\n") || !strings.Contains(body, "paul@contoso.com: the backup stopped: Microsoft refused access") {
		t.Errorf("%s\n%s", subj, body)
	}
	missing := Run{Started: start, Ended: start, Problem: "The backup drive was not connected."}
	if subj, _ := Compose(missing); subj != "Lifeboat: the backup of Tue 10 March 21:00 did not run" || !Failures.Due(missing) {
		t.Errorf("%s", subj)
	}
	for in, want := range map[string]When{"": Off, "off": Off, "Failures": Failures, "always": Always} {
		if got, err := ParseWhen(in); err != nil || got != want {
			t.Errorf("ParseWhen(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseWhen("weekly"); err == nil {
		t.Error("ParseWhen accepted weekly")
	}
}

// TestSendThroughGraph signs in with the real MSAL, once without and once
// with Mail.Send, and sends through the real msgraph-sdk-go: without the
// permission Graph refuses; with it the report arrives in the account's
// own Inbox.
func TestSendThroughGraph(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{})
	ctx := context.Background()
	client := simtest.PublicClient(t, srv)
	opts := Options{GraphURL: srv.GraphURL(), HTTPClient: srv.HTTPClient()}

	plain := simtest.SignInAs(t, srv, client, simtest.Scopes(), simtest.Alice)
	opts.Auth = provider(plain.AccessToken)
	err := Send(ctx, opts, simtest.Alice, "subject", "body")
	var oe *odataerrors.ODataError
	if !errors.As(err, &oe) || oe.ResponseStatusCode != 403 {
		t.Fatalf("without Mail.Send: %v", err)
	}

	withSend := simtest.SignInAs(t, srv, client, append(simtest.Scopes(), "Mail.Send"), simtest.Alice)
	opts.Auth = provider(withSend.AccessToken)
	subj, body := Compose(Run{Computer: "PC", Destination: "E:", Started: time.Now(), Ended: time.Now(), Accounts: []Account{{UPN: simtest.Alice, New: 2}}})
	if err := Send(ctx, opts, simtest.Alice, subj, body); err != nil {
		t.Fatal(err)
	}
	got, err := srv.Tenant().FindMessages(simtest.Alice, "went well")
	if err != nil || len(got) != 1 {
		t.Fatalf("report in the mailbox: %d, %v", len(got), err)
	}
	inbox, _ := srv.Tenant().Messages(simtest.Alice, "inbox")
	found := false
	for _, m := range inbox {
		if m.ID == got[0].ID {
			found = true
		}
	}
	sent, _ := srv.Tenant().Messages(simtest.Alice, "sentitems")
	for _, m := range sent {
		if strings.Contains(m.Header.Subject, "went well") {
			t.Error("the report was saved in Sent Items although saveToSentItems was false")
		}
	}
	if !found || !strings.Contains(string(got[0].MIME), "2 new, 0 changed") || !strings.Contains(string(got[0].MIME), `From: "Alice Archer" <alice@contoso.test>`) {
		t.Errorf("delivered message (in inbox: %v):\n%s", found, got[0].MIME)
	}
}
