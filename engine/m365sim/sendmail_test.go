package m365sim_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
)

// TestSendMail follows Microsoft's user: sendMail: 202 with no body,
// Mail.Send required, recipients required, delivery to tenant mailboxes
// without the Bcc header, and a copy in Sent Items unless
// saveToSentItems is false.
func TestSendMail(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{})
	post := func(tok, path, body string) (int, string) {
		req, err := http.NewRequest("POST", srv.GraphURL()+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		resp, err := srv.HTTPClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	msg := func(save *bool, to ...string) string {
		var rcpts []map[string]any
		for _, a := range to {
			rcpts = append(rcpts, map[string]any{"emailAddress": map[string]string{"address": a}})
		}
		body := map[string]any{"message": map[string]any{"subject": "Backup report", "body": map[string]string{"contentType": "Text", "content": "All good."},
			"toRecipients": rcpts, "bccRecipients": []map[string]any{{"emailAddress": map[string]string{"address": simtest.Alice}}}}}
		if save != nil {
			body["saveToSentItems"] = *save
		}
		b, _ := json.Marshal(body)
		return string(b)
	}

	noSend, _, err := srv.IssueAccessToken(simtest.Alice) // User.Read Mail.ReadWrite Files.ReadWrite.All
	if err != nil {
		t.Fatal(err)
	}
	if code, body := post(noSend, "/me/sendMail", msg(nil, simtest.Bob)); code != http.StatusForbidden || !strings.Contains(body, "ErrorAccessDenied") {
		t.Fatalf("without Mail.Send: %d %s", code, body)
	}
	client := simtest.PublicClient(t, srv)
	tok := simtest.SignInAs(t, srv, client, []string{"User.Read", "Mail.Send"}, simtest.Alice).AccessToken

	for _, bad := range []struct{ body, code string }{
		{`{"message": {"subject": "no one"}}`, "ErrorInvalidRecipients"},
		{`{"saveToSentItems": true}`, "ErrorInvalidRequest"},
		{`{"message": `, "RequestBodyRead"},
	} {
		if code, body := post(tok, "/me/sendMail", bad.body); code != http.StatusBadRequest || !strings.Contains(body, bad.code) {
			t.Errorf("%s: %d %s", bad.body, code, body)
		}
	}
	if code, body := post(tok, "/users/"+simtest.Bob+"/sendMail", msg(nil, simtest.Bob)); code != http.StatusForbidden {
		t.Errorf("sending as someone else with delegated permission: %d %s", code, body)
	}

	code, body := post(tok, "/me/sendMail", msg(nil, simtest.Bob, "someone@elsewhere.example"))
	if code != http.StatusAccepted || body != "" {
		t.Fatalf("send: %d %q", code, body)
	}
	bob, _ := srv.Tenant().FindMessages(simtest.Bob, "Backup report")
	if len(bob) != 1 || bytes.Contains(bob[0].MIME, []byte("Bcc:")) || !bytes.Contains(bob[0].MIME, []byte(`From: "Alice Archer" <alice@contoso.test>`)) {
		t.Fatalf("Bob received %d:\n%s", len(bob), firstMIME(bob))
	}
	alice, _ := srv.Tenant().FindMessages(simtest.Alice, "Backup report")
	if len(alice) != 2 { // her Bcc copy in the Inbox, and Sent Items
		t.Fatalf("Alice has %d copies", len(alice))
	}
	sent, _ := srv.Tenant().Messages(simtest.Alice, "sentitems")
	if n := countSubject(sent, "Backup report"); n != 1 {
		t.Errorf("%d in Sent Items", n)
	}
	f := false
	if code, _ := post(tok, "/me/sendMail", msg(&f, simtest.Bob)); code != http.StatusAccepted {
		t.Fatal(code)
	}
	sent, _ = srv.Tenant().Messages(simtest.Alice, "sentitems")
	if n := countSubject(sent, "Backup report"); n != 1 {
		t.Errorf("saveToSentItems false still saved: %d in Sent Items", n)
	}
}

func firstMIME(ms []m365sim.Message) string {
	if len(ms) == 0 {
		return ""
	}
	return string(ms[0].MIME)
}

func countSubject(ms []m365sim.Message, s string) int {
	n := 0
	for _, m := range ms {
		if strings.Contains(m.Header.Subject, s) {
			n++
		}
	}
	return n
}
