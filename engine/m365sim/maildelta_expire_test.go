package m365sim_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
)

// mailRound pages a delta query from url to its deltaLink and returns the
// first nextLink met and the deltaLink.
func mailRound(t *testing.T, c *driveRaw, url string) (next, delta string, ids []string) {
	t.Helper()
	for {
		m := c.mustGet(url, "Prefer", "odata.maxpagesize=4")
		for _, v := range driveValues(m) {
			id, _ := v["id"].(string)
			ids = append(ids, id)
		}
		if n, _ := m["@odata.nextLink"].(string); n != "" {
			if next == "" {
				next = n
			}
			url = n
			continue
		}
		delta, _ = m["@odata.deltaLink"].(string)
		return next, delta, ids
	}
}

// An evicted Outlook delta token is answered as
// learn.microsoft.com/graph/delta-query-overview documents ("Token
// duration": a 40X error with code syncStateNotFound; "Synchronization
// reset": 410 Gone with a Location holding the initial query), for both
// delta links and next links, for one folder only, and for the folder list.
func TestEvictedMailDeltaTokensAnswerSyncStateNotFound(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{})
	c := newDriveRaw(t, srv, simtest.Alice)
	const start = "/me/mailFolders/inbox/messages/delta?$select=subject,isRead"
	next, delta, ids := mailRound(t, c, start)
	if next == "" || delta == "" || len(ids) == 0 {
		t.Fatalf("first round: next %q delta %q, %d messages", next, delta, len(ids))
	}
	invoices := folderIDByPath(t, srv, "Inbox/Invoices")
	_, invDelta, _ := mailRound(t, c, "/me/mailFolders/"+invoices+"/messages/delta")

	ctl, err := m365sim.NewControlClient(srv.Profile())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ctl.ExpireMailDelta(t.Context(), simtest.Alice, "Inbox", "gone"); err != nil {
		t.Fatal(err)
	}
	for _, link := range []string{delta, next} {
		r := c.get(link)
		if r.status != http.StatusGone || r.errorCode(t) != "syncStateNotFound" {
			t.Fatalf("evicted token: %d %s", r.status, r.body)
		}
		loc := r.header.Get("Location")
		lu, err := url.Parse(loc)
		if err != nil || !strings.HasPrefix(loc, srv.GraphURL()+"/me/mailFolders/inbox/messages/delta") || lu.Query().Get("$select") != "subject,isRead" || strings.Contains(loc, "token=") {
			t.Fatalf("Location %q is not the initial query", loc)
		}
	}
	// The Location starts a full round whose tokens work.
	r := c.get(delta)
	_, again, ids2 := mailRound(t, c, r.header.Get("Location"))
	if len(ids2) != len(ids) {
		t.Errorf("the resync listed %d messages, the first round %d", len(ids2), len(ids))
	}
	if m := c.mustGet(again); len(driveValues(m)) != 0 {
		t.Errorf("the new delta link reports changes: %v", m)
	}
	// Another folder's token was not evicted.
	c.mustGet(invDelta)

	// The other documented form: 400 syncStateNotFound, no Location.
	if err := srv.Tenant().ExpireMailDelta(simtest.Alice, invoices, m365sim.ExpiryBadRequest); err != nil {
		t.Fatal(err)
	}
	if r := c.get(invDelta); r.status != http.StatusBadRequest || r.errorCode(t) != "syncStateNotFound" || r.header.Get("Location") != "" {
		t.Fatalf("400 form: %d %v %s", r.status, r.header, r.body)
	}

	// Every folder, and the folder list's own delta.
	_, fdelta, _ := mailRound(t, c, "/me/mailFolders/delta")
	if err := srv.Tenant().ExpireMailDelta(simtest.Alice, "", m365sim.ExpiryGone); err != nil {
		t.Fatal(err)
	}
	if r := c.get(fdelta); r.status != http.StatusGone || r.errorCode(t) != "syncStateNotFound" {
		t.Fatalf("folder list delta: %d %s", r.status, r.body)
	}
	if r := c.get(again); r.status != http.StatusGone {
		t.Fatalf("inbox after expiring every folder: %d", r.status)
	}
	if _, err := ctl.ExpireMailDelta(t.Context(), simtest.Alice, "No/Such/Folder", ""); err == nil {
		t.Error("an unknown folder was accepted")
	}
}

func folderIDByPath(t *testing.T, srv *m365sim.Server, p string) string {
	t.Helper()
	f, err := srv.Tenant().EnsureFolderPath(simtest.Alice, p)
	if err != nil {
		t.Fatal(err)
	}
	return f.ID
}
