package m365sim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"testing"

	abs "github.com/microsoft/kiota-abstractions-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
)

func preferPageSize(n string) *abs.RequestHeaders {
	h := abs.NewRequestHeaders()
	h.Add("Prefer", "odata.maxpagesize="+n)
	return h
}

func TestGraphSDKPagesThroughUsers(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{})
	// Listing users needs User.ReadBasic.All or more (user: list,
	// Permissions); the application's User.Read does not cover it.
	client := simtest.GraphClientWithScopes(t, srv, simtest.Alice, []string{"User.ReadBasic.All"})
	ctx := context.Background()
	top := int32(1)
	page, err := client.Users().Get(ctx, &users.UsersRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.UsersRequestBuilderGetQueryParameters{Top: &top},
	})
	if err != nil {
		t.Fatal(err)
	}
	if page.GetOdataNextLink() == nil {
		t.Fatal("a one-user page of two users has no @odata.nextLink")
	}
	it, err := msgraphcore.NewPageIterator[models.Userable](page, client.GetAdapter(), models.CreateUserCollectionResponseFromDiscriminatorValue)
	if err != nil {
		t.Fatal(err)
	}
	var upns []string
	if err := it.Iterate(ctx, func(u models.Userable) bool {
		upns = append(upns, *u.GetUserPrincipalName())
		return true
	}); err != nil {
		t.Fatal(err)
	}
	sort.Strings(upns)
	if strings.Join(upns, ",") != simtest.Alice+","+simtest.Bob {
		t.Fatalf("users = %v", upns)
	}
	me, err := client.Me().Get(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if *me.GetUserPrincipalName() != simtest.Alice || *me.GetDisplayName() != "Alice Archer" {
		t.Fatalf("/me = %s %s", *me.GetUserPrincipalName(), *me.GetDisplayName())
	}
}

// folderByName walks mail folders through the SDK, following nextLinks.
func folderByName(t *testing.T, client interface {
	Users() *users.UsersRequestBuilder
}, upn, parentID, name string) models.MailFolderable {
	t.Helper()
	ctx := context.Background()
	var page models.MailFolderCollectionResponseable
	var err error
	u := client.Users().ByUserId(upn)
	if parentID == "" {
		page, err = u.MailFolders().Get(ctx, nil)
	} else {
		page, err = u.MailFolders().ByMailFolderId(parentID).ChildFolders().Get(ctx, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	for {
		for _, f := range page.GetValue() {
			if *f.GetDisplayName() == name {
				return f
			}
		}
		next := page.GetOdataNextLink()
		if next == nil {
			t.Fatalf("no folder %q below %q", name, parentID)
		}
		page, err = u.MailFolders().WithUrl(*next).Get(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestGraphSDKMailFoldersNested(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{})
	client := simtest.GraphClient(t, srv, simtest.Alice)
	inbox := folderByName(t, client, simtest.Alice, "", "Inbox")
	if got := *inbox.GetTotalItemCount(); got != 20 {
		t.Errorf("Inbox totalItemCount = %d, want 20", got)
	}
	if *inbox.GetChildFolderCount() != 1 {
		t.Errorf("Inbox childFolderCount = %d, want 1", *inbox.GetChildFolderCount())
	}
	inv := folderByName(t, client, simtest.Alice, *inbox.GetId(), "Invoices")
	if *inv.GetTotalItemCount() != 5 || *inv.GetParentFolderId() != *inbox.GetId() {
		t.Errorf("Invoices: total %d parent %s", *inv.GetTotalItemCount(), *inv.GetParentFolderId())
	}
	y := folderByName(t, client, simtest.Alice, *inv.GetId(), "2026")
	if *y.GetTotalItemCount() != 0 {
		t.Errorf("2026 has %d items", *y.GetTotalItemCount())
	}
	// The default page of top-level folders is 10, as Graph's.
	for _, wk := range []string{"Archive", "Deleted Items", "Junk Email", "Sent Items", "Drafts", "Outbox"} {
		folderByName(t, client, simtest.Alice, "", wk)
	}
}

// deltaRound pages through one round of message delta and returns the
// changed messages by ID, the removed IDs and the delta link.
func deltaRound(t *testing.T, b *users.ItemMailFoldersItemMessagesDeltaRequestBuilder, link string) (map[string]models.Messageable, []string, string, int) {
	t.Helper()
	ctx := context.Background()
	cfg := &users.ItemMailFoldersItemMessagesDeltaRequestBuilderGetRequestConfiguration{Headers: preferPageSize("7")}
	if link == "" {
		sel := []string{"subject", "isRead", "receivedDateTime", "parentFolderId", "flag", "categories"}
		cfg.QueryParameters = &users.ItemMailFoldersItemMessagesDeltaRequestBuilderGetQueryParameters{Select: sel}
	} else {
		b = b.WithUrl(link)
	}
	changed := map[string]models.Messageable{}
	var removed []string
	pages := 0
	for {
		resp, err := b.GetAsDeltaGetResponse(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if len(resp.GetValue()) > 7 {
			t.Fatalf("page of %d exceeds odata.maxpagesize=7", len(resp.GetValue()))
		}
		for _, m := range resp.GetValue() {
			if _, ok := m.GetAdditionalData()["@removed"]; ok {
				removed = append(removed, *m.GetId())
				continue
			}
			changed[*m.GetId()] = m
		}
		if next := resp.GetOdataNextLink(); next != nil {
			if !strings.HasPrefix(*next, "https://127.0.0.1:") {
				t.Fatalf("nextLink %q is not absolute", *next)
			}
			b = b.WithUrl(*next)
			cfg = &users.ItemMailFoldersItemMessagesDeltaRequestBuilderGetRequestConfiguration{Headers: preferPageSize("7")}
			continue
		}
		dl := resp.GetOdataDeltaLink()
		if dl == nil {
			t.Fatal("last page has neither nextLink nor deltaLink")
		}
		return changed, removed, *dl, pages
	}
}

func TestGraphSDKMessageDeltaSeesAddEditDelete(t *testing.T) {
	s := simtest.Start(t, nil, m365sim.Options{})
	client := simtest.GraphClient(t, s, simtest.Alice)
	inbox := folderByName(t, client, simtest.Alice, "", "Inbox")
	b := client.Users().ByUserId(simtest.Alice).MailFolders().ByMailFolderId(*inbox.GetId()).Messages().Delta()

	changed, removed, link, pages := deltaRound(t, b, "")
	if len(changed) != 20 || len(removed) != 0 {
		t.Fatalf("initial round: %d changed, %d removed; want 20, 0", len(changed), len(removed))
	}
	if pages != 3 {
		t.Errorf("initial round took %d pages of 7 for 20 messages, want 3", pages)
	}
	for _, m := range changed {
		if m.GetSubject() == nil || !strings.HasPrefix(*m.GetSubject(), "Invoice ") {
			t.Fatalf("message without its subject: %v", m.GetSubject())
		}
		if m.GetBody() != nil {
			t.Fatal("$select=subject,... returned the body too")
		}
	}

	// Nothing changed: an empty round.
	changed, removed, link, _ = deltaRound(t, b, link)
	if len(changed)+len(removed) != 0 {
		t.Fatalf("no-change round returned %d changed, %d removed", len(changed), len(removed))
	}

	tn := s.Tenant()
	found, err := tn.FindMessages(simtest.Alice, "Invoice 0003")
	if err != nil || len(found) != 1 {
		t.Fatalf("find: %v %d", err, len(found))
	}
	deleted := found[0].ID
	if err := tn.DeleteMessage(simtest.Alice, deleted); err != nil {
		t.Fatal(err)
	}
	found, _ = tn.FindMessages(simtest.Alice, "Invoice 0004")
	read := true
	if _, err := tn.EditMessage(simtest.Alice, found[0].ID, m365sim.MessageEdit{IsRead: &read}); err != nil {
		t.Fatal(err)
	}
	edited := found[0].ID
	added, err := tn.AddMessage(simtest.Alice, "inbox", simtest.MIMEMessage(500), m365sim.MessageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	found, _ = tn.FindMessages(simtest.Alice, "Invoice 0006")
	moved := found[0].ID
	if _, err := tn.MoveMessage(simtest.Alice, moved, "archive"); err != nil {
		t.Fatal(err)
	}

	changed, removed, _, _ = deltaRound(t, b, link)
	sort.Strings(removed)
	wantRemoved := []string{deleted, moved}
	sort.Strings(wantRemoved)
	if strings.Join(removed, ",") != strings.Join(wantRemoved, ",") {
		t.Errorf("removed = %v, want %v (deleted and moved out)", removed, wantRemoved)
	}
	if len(changed) != 2 || changed[edited] == nil || changed[added.ID] == nil {
		t.Fatalf("changed = %v, want the edited and the added message", keys(changed))
	}
	if !*changed[edited].GetIsRead() {
		t.Error("edited message is not read")
	}
	if *changed[added.ID].GetSubject() != "Invoice 0500 for March" {
		t.Errorf("added subject %q", *changed[added.ID].GetSubject())
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestGraphSDKMessageMIMEIsByteIdentical(t *testing.T) {
	s := simtest.Start(t, nil, m365sim.Options{})
	client := simtest.GraphClient(t, s, simtest.Alice)
	msgs, err := s.Tenant().Messages(simtest.Alice, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs[:5] {
		got, err := client.Users().ByUserId(simtest.Alice).Messages().ByMessageId(m.ID).Content().Get(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, m.MIME) {
			t.Fatalf("MIME of %s differs: %d bytes vs %d seeded", m.ID, len(got), len(m.MIME))
		}
		meta, err := client.Users().ByUserId(simtest.Alice).Messages().ByMessageId(m.ID).Get(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if !*meta.GetHasAttachments() {
			t.Error("hasAttachments is false for a message with a PDF attachment")
		}
		if *meta.GetFrom().GetEmailAddress().GetAddress() != "paul@supplier.example" {
			t.Errorf("from = %s", *meta.GetFrom().GetEmailAddress().GetAddress())
		}
		if meta.GetReceivedDateTime().IsZero() || !strings.Contains(*meta.GetBodyPreview(), "please find invoice") {
			t.Errorf("receivedDateTime %v, bodyPreview %q", meta.GetReceivedDateTime(), *meta.GetBodyPreview())
		}
	}
}

func TestDelegatedTokenCannotReadColleaguesMailbox(t *testing.T) {
	s := simtest.Start(t, nil, m365sim.Options{})
	tok, _, err := s.IssueAccessToken(simtest.Alice)
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodGet, s.GraphURL()+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := s.HTTPClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&v)
		return resp.StatusCode, v
	}
	if code, _ := get("/users/" + simtest.Bob + "/mailFolders"); code != http.StatusForbidden {
		t.Errorf("Bob's mailbox with Alice's token: HTTP %d, want 403", code)
	}
	if code, v := get("/users/" + simtest.Bob); code != http.StatusOK || v["userPrincipalName"] != simtest.Bob {
		t.Errorf("Bob's profile: HTTP %d %v", code, v)
	}
	code, v := get("/me/mailFolders/inbox/messages/delta?$deltatoken=forged")
	if code != http.StatusBadRequest {
		t.Errorf("forged delta token: HTTP %d %v", code, v)
	}
	if code, _ := get("/me/messages/nope/$value"); code != http.StatusNotFound {
		t.Errorf("missing message: HTTP %d", code)
	}
	req, _ := http.NewRequest(http.MethodGet, s.GraphURL()+"/me", nil)
	resp, err := s.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("no token: HTTP %d", resp.StatusCode)
	}
}

func TestMessageDeltaDuringPagingLosesNothing(t *testing.T) {
	s := simtest.Start(t, nil, m365sim.Options{})
	client := simtest.GraphClient(t, s, simtest.Alice)
	ctx := context.Background()
	b := client.Users().ByUserId(simtest.Alice).MailFolders().ByMailFolderId("inbox").Messages().Delta()
	cfg := &users.ItemMailFoldersItemMessagesDeltaRequestBuilderGetRequestConfiguration{Headers: preferPageSize("5")}
	resp, err := b.GetAsDeltaGetResponse(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, m := range resp.GetValue() {
		seen[*m.GetId()] = true
	}
	// A message arrives and an unseen one is edited while the client pages.
	added, _ := s.Tenant().AddMessage(simtest.Alice, "inbox", simtest.MIMEMessage(900), m365sim.MessageOptions{})
	all, _ := s.Tenant().Messages(simtest.Alice, "inbox")
	var unseen string
	for _, m := range all {
		if !seen[m.ID] && m.ID != added.ID {
			unseen = m.ID
			break
		}
	}
	flag := "flagged"
	if _, err := s.Tenant().EditMessage(simtest.Alice, unseen, m365sim.MessageEdit{FlagStatus: &flag}); err != nil {
		t.Fatal(err)
	}
	var link string
	for {
		next := resp.GetOdataNextLink()
		if next == nil {
			link = *resp.GetOdataDeltaLink()
			break
		}
		resp, err = b.WithUrl(*next).GetAsDeltaGetResponse(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range resp.GetValue() {
			seen[*m.GetId()] = true
		}
	}
	resp, err = b.WithUrl(link).GetAsDeltaGetResponse(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	later := map[string]models.Messageable{}
	for _, m := range resp.GetValue() {
		later[*m.GetId()] = m
	}
	if later[added.ID] == nil {
		t.Error("a message added during paging was lost")
	}
	if m := later[unseen]; m == nil || *m.GetFlag().GetFlagStatus() != models.FLAGGED_FOLLOWUPFLAGSTATUS {
		t.Error("an edit made during paging was lost")
	}
	for _, m := range all {
		if !seen[m.ID] && later[m.ID] == nil {
			t.Errorf("message %s was never returned", m.ID)
		}
	}
}
