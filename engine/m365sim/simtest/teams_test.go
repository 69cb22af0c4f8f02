package simtest

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
)

// TestTeamsWithApplicationPermissions: with a real MSAL app-only token,
// teams and channels list with Team.ReadBasic.All and
// Channel.ReadBasic.All; messages need ChannelMessage.Read.All; channel
// delta's first round reaches back eight months only
// (learn.microsoft.com/graph/api/chatmessage-delta) while the message list
// has everything; an application Microsoft has not approved for the
// protected APIs is refused with Microsoft's words
// (learn.microsoft.com/graph/teams-protected-apis).
func TestTeamsWithApplicationPermissions(t *testing.T) {
	tn := SmallTenant(t)
	tm, err := tn.AddTeam("Sales", "")
	if err != nil {
		t.Fatal(err)
	}
	ch := tn.Channels(tm.ID)[0]
	if _, err := tn.PostMessage(tm.ID, ch.ID, Alice, m365sim.PostOptions{HTML: "old", At: time.Now().AddDate(0, -9, 0)}); err != nil {
		t.Fatal(err)
	}
	if _, err := tn.PostMessage(tm.ID, ch.ID, Bob, m365sim.PostOptions{HTML: "new"}); err != nil {
		t.Fatal(err)
	}
	srv := Start(t, tn, m365sim.Options{})
	now := time.Now()
	cert := NewCertificate(t, "CN=Lifeboat", now.Add(-time.Hour), now.Add(24*time.Hour))
	token := func(perms ...string) string {
		app := registerApp(t, srv, cert, perms...)
		res, err := ConfidentialClient(t, srv, app.AppID, cert).AcquireTokenByCredential(t.Context(), []string{GraphDefault})
		if err != nil {
			t.Fatal(err)
		}
		return res.AccessToken
	}
	full := token("Team.ReadBasic.All", "Channel.ReadBasic.All", "ChannelMessage.Read.All")
	basic := token("Team.ReadBasic.All", "Channel.ReadBasic.All")
	msgs := "/teams/" + tm.ID + "/channels/" + url.PathEscape(ch.ID) + "/messages"

	if st, m := graphGet(t, srv, "/teams", basic); st != 200 || len(m["value"].([]any)) != 1 {
		t.Fatalf("list teams: %d %v", st, m)
	}
	if st, m := graphGet(t, srv, "/teams/"+tm.ID+"/channels", basic); st != 200 || len(m["value"].([]any)) != 1 {
		t.Fatalf("list channels: %d %v", st, m)
	}
	if st, m := graphGet(t, srv, msgs, basic); st != 403 || !strings.HasPrefix(errMessage(m), "Forbidden") {
		t.Errorf("messages without ChannelMessage.Read.All: %d %v", st, m)
	}
	if st, m := graphGet(t, srv, msgs, full); st != 200 || len(m["value"].([]any)) != 2 {
		t.Errorf("list messages: %d %v", st, m)
	}
	st, m := graphGet(t, srv, msgs+"/delta", full)
	if st != 200 || len(m["value"].([]any)) != 1 || m["@odata.deltaLink"] == nil {
		t.Fatalf("delta (eight months): %d %v", st, m)
	}
	if body := m["value"].([]any)[0].(map[string]any)["body"].(map[string]any)["content"]; body != "new" {
		t.Errorf("delta served %q, want only the recent message", body)
	}
	tn.RefuseProtectedTeamsAPIs(true)
	if st, m := graphGet(t, srv, msgs, full); st != 403 || !strings.Contains(errMessage(m), "requires Protected API access in application-only context") {
		t.Errorf("protected API refusal: %d %v", st, m)
	}
	if st, _ := graphGet(t, srv, "/teams/"+tm.ID+"/channels", full); st != 200 {
		t.Errorf("channel list under the refusal: %d (only messages are protected)", st)
	}
}
