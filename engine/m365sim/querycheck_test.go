package m365sim_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
)

// Unknown $select and $expand properties answer 400, as Graph's OData
// parser does (learn.microsoft.com/graph/query-parameters); message delta
// takes only the $filter and $orderby forms delta-query-messages lists,
// and mailFolder and driveItem delta none.
func TestUnknownQueryPropertiesAreRefused(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{})
	c := newDriveRaw(t, srv, simtest.Alice)
	msgs, _ := srv.Tenant().FindMessages(simtest.Alice, "Invoice 0001")
	q := func(p string, kv ...string) string {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return p + "?" + v.Encode()
	}
	bad := []string{
		q("/me/messages", "$select", "subject,recievedDateTime"),
		q("/me/messages/"+msgs[0].ID, "$select", "subjet"),
		q("/me/mailFolders/inbox/messages/delta", "$select", "id,isread2"),
		q("/me/mailFolders", "$select", "displayName,wellKnownName"), // beta only
		q("/me", "$select", "id,userPrincipleName"),
		q("/me/drive", "$select", "id,quotas"),
		q("/me/drive/root/children", "$select", "name,sizee"),
		q("/me/messages", "$expand", "attachmentz"),
		q("/me/drive/root", "$expand", "kids"),
		q("/me/mailFolders/inbox/messages/delta", "$filter", "isRead eq false"),
		q("/me/mailFolders/inbox/messages/delta", "$orderby", "subject"),
		q("/me/mailFolders/delta", "$filter", "displayName eq 'Inbox'"),
		q("/me/drive/root/delta", "$filter", "name eq 'x'"),
		q("/me/drive/root/delta", "$orderby", "name"),
	}
	for _, p := range bad {
		r := c.get(p)
		if r.status != http.StatusBadRequest {
			t.Errorf("%s = %d, want 400\n%s", p, r.status, r.body)
		} else if strings.Contains(p, "select") && !strings.Contains(string(r.body), "Could not find a property named") {
			t.Errorf("%s: %s", p, r.body)
		}
	}
	good := []string{
		q("/me/messages", "$select", "subject,receivedDateTime,from,toRecipients,isRead,flag"),
		q("/me/messages/"+msgs[0].ID, "$select", "id,internetMessageId,changeKey,parentFolderId"),
		q("/me/messages/"+msgs[0].ID, "$expand", "attachments($select=name)"),
		q("/me/mailFolders/inbox/messages/delta", "$select", "id,subject,isRead", "$filter", "receivedDateTime ge 2026-01-01T00:00:00Z", "$orderby", "receivedDateTime desc"),
		q("/me/mailFolders", "$select", "id,displayName,parentFolderId,childFolderCount,totalItemCount"),
		q("/me", "$select", "id,userPrincipalName,displayName,mail"),
		q("/me/drive", "$select", "id,driveType,quota"),
		q("/me/drive/root/children", "$select", "id,name,size,file,@microsoft.graph.downloadUrl"),
		q("/me/drive/root/delta", "$select", "id,name,deleted,parentReference"),
	}
	for _, p := range good {
		if r := c.get(p); r.status != http.StatusOK {
			t.Errorf("%s = %d\n%s", p, r.status, r.body)
		}
	}
}
